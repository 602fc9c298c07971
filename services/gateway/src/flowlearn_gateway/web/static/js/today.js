// Today: the nudge inbox (act, snooze, dismiss), a quick journal entry and the streak.
// New nudges arrive live; /hub/nudges/<id> (the link in Slack, Teams or e-mail) opens one.

import { api, problemText, query } from "./lib/api.js";
import { $, busy, empty, formatDateTime, h, replace, select, showError, tagList, toast } from "./lib/dom.js";
import { KIND_FOR_NUDGE, NUDGE_STATUSES, NUDGE_TYPES } from "./lib/labels.js";
import { watchNudges } from "./lib/live.js";
import { startPage } from "./lib/shell.js";

const WAITING = new Set(["delivered", "opened"]);
const SNOOZES = [
  ["15", "15 minutes"],
  ["60", "1 hour"],
  ["240", "4 hours"],
  ["1440", "Tomorrow"],
];
const nudges = new Map(); // id → nudge, newest first
let prompts = [];
let promptIndex = 0;

const form = $("#quick-entry");
const opened = decodeURIComponent(location.pathname.match(/^\/hub\/nudges\/([^/]+)$/)?.[1] || "");

async function loadStats() {
  const stats = await api("/v1/journal/stats");
  $("#streak").textContent = String(stats.current_streak_days);
  $("#streak-longest").textContent = String(stats.longest_streak_days);
  $("#minutes-week").textContent = String(stats.minutes_this_week);
}

async function loadInbox() {
  const page = await api(`/v1/nudges/inbox${query({ limit: 20 })}`);
  nudges.clear();
  for (const nudge of page.items) nudges.set(nudge.id, nudge);
  renderInbox();
}

function renderInbox() {
  const list = $("#inbox");
  const items = [...nudges.values()];
  if (!items.length) {
    replace(list, h("li", {}, empty("No nudges right now. New ones appear here as they come.")));
    return;
  }
  replace(list, items.map(nudgeItem));
}

function nudgeItem(nudge) {
  const waiting = WAITING.has(nudge.status);
  const snoozeId = `snooze-${nudge.id}`;
  const when = nudge.delivered_at || nudge.due_at || nudge.created_at;
  return h(
    "li",
    { class: `item nudge${waiting ? " waiting" : ""}`, dataset: { nudgeId: nudge.id } },
    h(
      "div",
      { class: "item-meta" },
      h("span", { class: "pill" }, NUDGE_TYPES[nudge.type] || nudge.type),
      h("span", { class: `status status-${nudge.status}` }, NUDGE_STATUSES[nudge.status] || nudge.status),
      when ? h("time", { datetime: when }, formatDateTime(when)) : null,
    ),
    h("p", { class: "nudge-message" }, nudge.message),
    nudge.status === "snoozed" && nudge.snoozed_until
      ? h("p", { class: "hint" }, `Back at ${formatDateTime(nudge.snoozed_until)}`)
      : null,
    waiting
      ? h(
          "div",
          { class: "actions" },
          h("button", { type: "button", class: "primary", onclick: () => act(nudge) }, "Write about it"),
          h(
            "span",
            { class: "snooze" },
            h("label", { for: snoozeId, class: "visually-hidden" }, "Snooze for"),
            select({ id: snoozeId }, SNOOZES, "60"),
            h(
              "button",
              { type: "button", onclick: (e) => snooze(nudge, e.currentTarget, $(`#${CSS.escape(snoozeId)}`).value) },
              "Snooze",
            ),
          ),
          h("button", { type: "button", class: "quiet", onclick: (e) => dismiss(nudge, e.currentTarget) }, "Dismiss"),
        )
      : null,
  );
}

/** Answer a nudge: the quick entry takes its prompt and will carry its id. */
function act(nudge) {
  form.elements.nudge_id.value = nudge.id;
  form.elements.kind.value = KIND_FOR_NUDGE[nudge.type] || "reflection";
  form.elements.title.value = nudge.message.slice(0, 200);
  $("#quick-prompt").textContent = nudge.message;
  $("#quick-unlink").hidden = false;
  $("#quick-heading").scrollIntoView({ block: "start" });
  form.elements.body.focus();
}

function unlink() {
  form.elements.nudge_id.value = "";
  form.elements.title.value = "";
  $("#quick-unlink").hidden = true;
  showPrompt();
}

async function ack(nudge, button, body, done) {
  try {
    await busy(button, () => api(`/v1/nudges/${encodeURIComponent(nudge.id)}/ack`, { method: "POST", body }));
    toast(done);
    if (form.elements.nudge_id.value === nudge.id) unlink();
    await loadInbox();
  } catch (error) {
    toast(problemText(error), "error");
  }
}

function snooze(nudge, button, minutes) {
  const label = SNOOZES.find(([value]) => value === minutes)?.[1] || `${minutes} minutes`;
  return ack(nudge, button, { action: "snoozed", minutes: Number(minutes) }, `Snoozed: ${label}.`);
}

function dismiss(nudge, button) {
  return ack(nudge, button, { action: "dismissed" }, "Nudge dismissed.");
}

function showPrompt() {
  const prompt = prompts[promptIndex % Math.max(prompts.length, 1)];
  $("#quick-prompt").textContent = prompt ? prompt.text : "What have you learned today?";
  if (prompt) form.elements.kind.value = prompt.kind;
}

async function save(event) {
  event.preventDefault();
  const error = $("#quick-error");
  showError(error, "");
  const data = form.elements;
  if (!data.body.value.trim()) {
    showError(error, "Write a few words first.");
    data.body.focus();
    return;
  }
  const nudgeId = data.nudge_id.value;
  const entry = {
    kind: data.kind.value,
    title: data.title.value.trim() || null,
    body: data.body.value,
    tags: tagList(data.tags.value),
    minutes: data.minutes.value === "" ? null : Number(data.minutes.value),
    nudge_id: nudgeId || null,
  };
  try {
    await busy(form.querySelector("button[type=submit]"), () =>
      api("/v1/journal/entries", { method: "POST", body: entry }),
    );
  } catch (failure) {
    showError(error, problemText(failure));
    return;
  }
  form.reset();
  data.nudge_id.value = "";
  $("#quick-unlink").hidden = true;
  if (nudges.has(nudgeId)) {
    // The nudges service marks it acted when it hears of the entry; show that at once.
    nudges.get(nudgeId).status = "acted";
    renderInbox();
    setTimeout(() => loadInbox().catch(() => {}), 2000);
  }
  promptIndex += 1;
  showPrompt();
  toast("Saved to your journal.");
  await loadStats();
}

function liveState(state) {
  const badge = $("#live-state");
  const words = { live: "Live", polling: "Checks every 30 s", reconnecting: "Reconnecting…" };
  badge.textContent = words[state] || "";
  badge.dataset.state = state;
}

function arrived(notification) {
  const known = nudges.get(notification.id);
  const nudge = { ...known, ...notification, status: "delivered", due_at: null };
  nudges.delete(notification.id);
  const rest = [...nudges.entries()];
  nudges.clear();
  nudges.set(nudge.id, nudge);
  for (const [id, item] of rest) nudges.set(id, item);
  renderInbox();
  toast(`New nudge: ${notification.message}`);
}

await startPage(async () => {
  form.addEventListener("submit", save);
  $("#quick-unlink").addEventListener("click", unlink);
  $("#another-prompt").addEventListener("click", () => {
    promptIndex += 1;
    showPrompt();
  });
  const [, , list] = await Promise.all([loadStats(), loadInbox(), api("/v1/journal/prompts")]);
  prompts = list.items;
  showPrompt();
  if (opened && nudges.has(opened) && WAITING.has(nudges.get(opened).status)) act(nudges.get(opened));
  watchNudges({
    onNudge: arrived,
    onState: liveState,
    poll: () => loadInbox().catch(() => {}),
  });
});
