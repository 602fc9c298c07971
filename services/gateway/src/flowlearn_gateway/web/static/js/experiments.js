// Portfolio, experiments: my Three Ps experiments, pitching one, moving it on or stopping it.

import { api, problemText, query } from "./lib/api.js";
import { $, busy, empty, formatDate, h, replace, setOptions, showError, toast } from "./lib/dom.js";
import { STAGES } from "./lib/labels.js";
import { markdownBlock } from "./lib/markdown.js";

const NEXT = { pitch: "prototype", prototype: "pilot", pilot: "done" };
const list = $("#experiments");

async function load() {
  const page = await api(`/v1/experiments${query({ limit: 50 })}`);
  const mine = page.items.filter((experiment) => experiment.is_mine);
  replace(list, mine.length ? mine.map(item) : h("li", {}, empty("Pitch an idea to try with your team.")));
}

function item(experiment) {
  const history = experiment.history.filter((step) => step.learned);
  return h(
    "li",
    { class: "item", dataset: { experimentId: experiment.id } },
    h("div", { class: "item-meta" }, h("span", { class: "pill" }, STAGES[experiment.stage] || experiment.stage)),
    h("h3", {}, experiment.title),
    experiment.pitch ? markdownBlock(experiment.pitch) : null,
    history.length
      ? h(
          "ol",
          { class: "steps", "aria-label": "What each stage taught" },
          history.map((step) =>
            h("li", {}, `${STAGES[step.from_stage] || step.from_stage} → ${STAGES[step.to_stage]} · ${formatDate(step.at)}: ${step.learned}`),
          ),
        )
      : null,
    NEXT[experiment.stage] ? stageForm(experiment) : null,
  );
}

function stageForm(experiment) {
  const id = `learned-${experiment.id}`;
  const learned = h("textarea", { id, rows: 2, maxlength: 5000, required: true });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const next = NEXT[experiment.stage];
  const move = (to) => async (event) => {
    showError(error, "");
    if (!learned.value.trim()) {
      showError(error, "Say what this stage taught you first.");
      learned.focus();
      return;
    }
    try {
      await busy(event.currentTarget, () =>
        api(`/v1/experiments/${encodeURIComponent(experiment.id)}/stage`, {
          method: "POST",
          body: { to, learned: learned.value.trim() },
        }),
      );
      toast(to === "stopped" ? `${experiment.title} stopped.` : `${experiment.title}: ${STAGES[to]}.`);
      await load();
    } catch (failure) {
      showError(error, problemText(failure));
    }
  };
  return h(
    "div",
    { class: "panel form" },
    h("div", { class: "field" }, h("label", { for: id }, `What did the ${STAGES[experiment.stage].toLowerCase()} teach you?`), learned),
    error,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", onclick: move(next) }, `Move to ${STAGES[next].toLowerCase()}`),
      h("button", { type: "button", class: "quiet", onclick: move("stopped") }, "Stop it"),
    ),
  );
}

export async function initExperiments() {
  const form = $("#pitch-form");
  const teams = (await api("/v1/me/teams")).items;
  if (!teams.length) {
    form.replaceWith(empty("Experiments belong to a team; join one to pitch."));
  } else {
    setOptions(form.elements.team_id, teams.map((team) => [team.id, team.name]));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = $("#pitch-error");
      showError(error, "");
      const data = form.elements;
      if (!data.title.value.trim()) {
        showError(error, "Give it a title.");
        return;
      }
      const body = { team_id: data.team_id.value, title: data.title.value.trim(), pitch: data.pitch.value };
      try {
        await busy(event.submitter, () => api("/v1/experiments", { method: "POST", body }));
        form.reset();
        toast(`${body.title} pitched.`);
        await load();
      } catch (failure) {
        showError(error, problemText(failure));
      }
    });
  }
  await load();
}
