// Portfolio: evidence entries, kudos received, accepted answers and experiments; export.

import { api, problemText, query } from "./lib/api.js";
import { $, $$, busy, empty, formatDate, formatDateTime, h, replace, toast } from "./lib/dom.js";
import { ENTRY_KINDS } from "./lib/labels.js";
import { markdownBlock } from "./lib/markdown.js";
import { startPage } from "./lib/shell.js";
import { initExperiments } from "./experiments.js";

const FALLBACK_NAMES = { md: "portfolio.md", json: "portfolio.json", xapi: "portfolio-xapi.json" };

function fill(list, items, render, none) {
  replace(list, items.length ? items.map(render) : h("li", {}, empty(none)));
}

function evidenceItem(item) {
  return h(
    "li",
    { class: "item" },
    h(
      "div",
      { class: "item-meta" },
      h("span", { class: "pill" }, ENTRY_KINDS[item.kind] || item.kind),
      h("time", { datetime: item.occurred_on }, formatDate(item.occurred_on)),
      item.minutes ? h("span", {}, `${item.minutes} min`) : null,
    ),
    h("h3", {}, item.title || ENTRY_KINDS[item.kind] || item.kind),
    markdownBlock(item.body),
    item.evidence?.url && /^https?:\/\//i.test(item.evidence.url)
      ? h("p", {}, h("a", { href: item.evidence.url, rel: "noopener noreferrer" }, "Link to the work"))
      : null,
    item.evidence?.note ? h("p", { class: "hint" }, item.evidence.note) : null,
    item.skills.length ? h("p", { class: "meta-line" }, `Skills: ${item.skills.join(", ")}`) : null,
  );
}

function kudosItem(kudos) {
  return h(
    "li",
    { class: "item" },
    h(
      "div",
      { class: "item-meta" },
      h("span", {}, `From ${kudos.from_name || kudos.from_id}`),
      h("time", { datetime: kudos.given_at }, formatDate(kudos.given_at)),
    ),
    h("p", {}, kudos.message),
    kudos.strengths.length ? h("p", { class: "meta-line" }, `Strengths: ${kudos.strengths.join(", ")}`) : null,
  );
}

function answerItem(answer) {
  return h(
    "li",
    { class: "item" },
    h(
      "p",
      {},
      h("a", { href: `/hub/questions#q-${encodeURIComponent(answer.question_id)}` }, "Your accepted answer"),
      ` · accepted ${formatDateTime(answer.accepted_at)}`,
    ),
    answer.tags.length ? h("p", { class: "meta-line" }, `Tags: ${answer.tags.join(", ")}`) : null,
  );
}

function filename(response, format) {
  const header = response.headers.get("Content-Disposition") || "";
  return /filename="([^"]+)"/.exec(header)?.[1] || FALLBACK_NAMES[format];
}

async function download(format, button) {
  try {
    const response = await busy(button, () =>
      api(`/v1/journal/portfolio${query({ format })}`, { raw: true }),
    );
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: filename(response, format), hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    toast("Your portfolio is downloading.");
  } catch (failure) {
    toast(problemText(failure), "error");
  }
}

await startPage(async () => {
  for (const button of $$("button[data-format]")) {
    button.addEventListener("click", () => download(button.dataset.format, button));
  }
  const portfolio = await api("/v1/journal/portfolio?format=json");
  $("#portfolio-truncated").hidden = !portfolio.truncated;
  fill($("#evidence"), portfolio.evidence, evidenceItem, "Mark journal entries as evidence, or write achievements, and they appear here.");
  fill($("#kudos"), portfolio.kudos, kudosItem, "No kudos yet.");
  fill($("#answers"), portfolio.answers, answerItem, "Answers the asker accepts appear here.");
  await initExperiments();
});
