// Events: gatherings I may join, RSVP (a seat or the waitlist), cancel, host one.

import { api, problemText, query } from "./lib/api.js";
import { $, busy, empty, formatDateTime, h, replace, setOptions, showError, toast } from "./lib/dom.js";
import { GATHERING_KINDS } from "./lib/labels.js";
import { markdownBlock } from "./lib/markdown.js";
import { audiences, startPage } from "./lib/shell.js";

const list = $("#events");
const more = $("#events-more");
const form = $("#host-form");
let cursor = null;

async function load({ append = false } = {}) {
  const when = $("#events-when").value;
  const page = await api(`/v1/gatherings${query({ when, limit: 20, cursor: append ? cursor : null })}`);
  cursor = page.next_cursor;
  more.hidden = !cursor;
  const items = page.items.map(gatheringItem);
  if (append) list.append(...items);
  else replace(list, items.length ? items : h("li", {}, empty(when === "past" ? "No past gatherings." : "Nothing planned yet. Host one?")));
}

function seats(gathering) {
  const left = Math.max(gathering.capacity - gathering.going_count, 0);
  const waiting = gathering.waitlist_count ? `, ${gathering.waitlist_count} waiting` : "";
  return `${gathering.going_count} going, ${left} of ${gathering.capacity} seats left${waiting}`;
}

function myStatus(rsvp) {
  if (!rsvp) return null;
  if (rsvp.status === "going") return h("span", { class: "status status-going" }, "You are going");
  return h("span", { class: "status status-waitlisted" }, `On the waitlist (#${rsvp.waitlist_position})`);
}

function gatheringItem(gathering) {
  const open = gathering.status !== "ended";
  const button = gathering.my_rsvp
    ? h("button", { type: "button", onclick: (e) => rsvp(gathering, e.currentTarget, "DELETE") }, gathering.my_rsvp.status === "going" ? "Cancel my seat" : "Leave the waitlist")
    : h(
        "button",
        { type: "button", class: "primary", onclick: (e) => rsvp(gathering, e.currentTarget, "POST") },
        gathering.going_count >= gathering.capacity ? "Join the waitlist" : "RSVP",
      );
  return h(
    "li",
    { class: "item", dataset: { gatheringId: gathering.id } },
    h(
      "div",
      { class: "item-meta" },
      h("span", { class: "pill" }, GATHERING_KINDS[gathering.kind] || gathering.kind),
      h("time", { datetime: gathering.starts_at }, formatDateTime(gathering.starts_at)),
      h("span", {}, `${gathering.duration_minutes} min`),
      gathering.status === "ongoing" ? h("span", { class: "status status-going" }, "Happening now") : null,
    ),
    h("h3", {}, gathering.title),
    gathering.description ? markdownBlock(gathering.description) : null,
    h(
      "p",
      { class: "meta-line" },
      gathering.is_mine ? "You host it" : `Hosted by ${gathering.host.display_name}`,
      gathering.location ? ` · ${gathering.location}` : "",
    ),
    h("p", { class: "meta-line" }, seats(gathering)),
    h("div", { class: "actions" }, myStatus(gathering.my_rsvp), open && !gathering.is_mine ? button : null),
  );
}

async function rsvp(gathering, button, method) {
  try {
    const result = await busy(button, () =>
      api(`/v1/gatherings/${encodeURIComponent(gathering.id)}/rsvp`, { method }),
    );
    if (method === "DELETE") toast(`You are no longer going to ${gathering.title}.`);
    else if (result?.status === "waitlisted") toast(`You are on the waitlist for ${gathering.title}.`);
    else toast(`See you at ${gathering.title}.`);
    await load();
    list.querySelector(`[data-gathering-id="${CSS.escape(gathering.id)}"] button`)?.focus();
  } catch (failure) {
    toast(problemText(failure), "error");
  }
}

async function host(event) {
  event.preventDefault();
  const error = $("#host-error");
  showError(error, "");
  const data = form.elements;
  if (!data.title.value.trim() || !data.starts_at.value) {
    showError(error, "A gathering needs a title and a start time.");
    return;
  }
  const body = {
    kind: data.kind.value,
    title: data.title.value.trim(),
    description: data.description.value,
    // datetime-local is local wall time; the API wants an instant with its offset.
    starts_at: new Date(data.starts_at.value).toISOString(),
    duration_minutes: Number(data.duration_minutes.value || 60),
    capacity: Number(data.capacity.value || 1),
    location: data.location.value.trim() || null,
    audience: data.audience.value,
  };
  try {
    await busy(form.querySelector("button[type=submit]"), () => api("/v1/gatherings", { method: "POST", body }));
  } catch (failure) {
    showError(error, problemText(failure));
    return;
  }
  form.reset();
  toast(`${body.title} is on.`);
  $("#events-when").value = "upcoming";
  await load();
}

await startPage(async () => {
  setOptions(form.elements.audience, await audiences());
  form.addEventListener("submit", host);
  $("#events-when").addEventListener("change", () => load().catch((f) => toast(problemText(f), "error")));
  more.addEventListener("click", () => busy(more, () => load({ append: true })).catch((f) => toast(problemText(f), "error")));
  await load();
});
