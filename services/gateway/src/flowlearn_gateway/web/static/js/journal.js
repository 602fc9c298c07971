// Journal: filters, search and paging over one's entries; edit, share and delete each.

import { api, problemText, query } from "./lib/api.js";
import { $, busy, empty, formatDate, h, replace, toast } from "./lib/dom.js";
import { ENTRY_KINDS } from "./lib/labels.js";
import { markdownBlock } from "./lib/markdown.js";
import { audiences, startPage } from "./lib/shell.js";
import { editEntry, initForm } from "./journal_form.js";
import { sharePanel } from "./share.js";

const filters = $("#filters");
const list = $("#entries");
const more = $("#entries-more");
let cursor = null;
let audienceOptions = null;

function currentFilters() {
  const data = filters.elements;
  return {
    q: data.q.value.trim(),
    kind: data.kind.value,
    tag: data.tag.value.trim(),
    from: data.from.value,
    to: data.to.value,
  };
}

async function load({ append = false } = {}) {
  const wanted = currentFilters();
  const page = await api(
    `/v1/journal/entries${query({ ...wanted, limit: 20, cursor: append ? cursor : null })}`,
  );
  cursor = page.next_cursor;
  more.hidden = !cursor;
  const items = page.items.map(entryItem);
  if (append) list.append(...items);
  else replace(list, items.length ? items : h("li", {}, empty("No entries match.")));
  const filtered = Object.values(wanted).some(Boolean);
  $("#entries-status").textContent = filtered ? "Showing entries that match your filters." : "";
}

function entryItem(entry) {
  const item = h("li", { class: "item", id: `entry-${entry.id}`, dataset: { entryId: entry.id } });
  const panel = h("div");
  const actions = h(
    "div",
    { class: "actions" },
    h("button", { type: "button", onclick: () => editEntry(entry) }, "Edit"),
    h("button", { type: "button", onclick: (e) => openShare(entry, panel, e.currentTarget) }, "Share"),
    h("button", { type: "button", class: "danger", onclick: () => confirmDelete(entry, panel) }, "Delete"),
  );
  item.append(
    h(
      "div",
      { class: "item-meta" },
      h("span", { class: "pill" }, ENTRY_KINDS[entry.kind] || entry.kind),
      h("time", { datetime: entry.occurred_on }, formatDate(entry.occurred_on)),
      entry.minutes ? h("span", {}, `${entry.minutes} min`) : null,
      entry.evidence ? h("span", { class: "pill muted" }, "Evidence") : null,
      entry.nudge_id ? h("span", {}, "Answered a nudge") : null,
    ),
    h("h3", {}, entry.title || ENTRY_KINDS[entry.kind] || entry.kind),
    markdownBlock(entry.body),
    entry.tags.length
      ? h(
          "ul",
          { class: "tags", "aria-label": "Tags" },
          entry.tags.map((tag) =>
            h("li", {}, h("button", { type: "button", class: "tag", onclick: () => filterByTag(tag) }, `#${tag}`)),
          ),
        )
      : null,
    actions,
    panel,
  );
  return item;
}

function filterByTag(tag) {
  filters.elements.tag.value = tag;
  load().catch(report);
}

async function openShare(entry, panel, button) {
  if (panel.firstChild) {
    panel.replaceChildren();
    return;
  }
  try {
    audienceOptions ??= await busy(button, audiences);
  } catch (failure) {
    report(failure);
    return;
  }
  const form = sharePanel(entry, audienceOptions, {
    onDone: (shared, label) => {
      panel.replaceChildren(shared ? h("p", { class: "hint" }, `Shared with ${label}.`) : "");
      button.focus();
    },
  });
  panel.replaceChildren(form);
  form.querySelector("select").focus();
}

function confirmDelete(entry, panel) {
  const keep = h("button", { type: "button", onclick: () => panel.replaceChildren() }, "Keep it");
  const remove = h(
    "button",
    {
      type: "button",
      class: "danger",
      onclick: async (event) => {
        try {
          await busy(event.currentTarget, () =>
            api(`/v1/journal/entries/${encodeURIComponent(entry.id)}`, {
              method: "DELETE",
              headers: { "If-Match": `"${entry.version}"` },
            }),
          );
          toast("Entry deleted.");
          await load();
        } catch (failure) {
          report(failure);
        }
      },
    },
    "Delete for good",
  );
  panel.replaceChildren(
    h("div", { class: "panel" }, h("p", {}, "Delete this entry? This cannot be undone."), h("div", { class: "actions" }, remove, keep)),
  );
  keep.focus();
}

function report(failure) {
  toast(problemText(failure), "error");
}

await startPage(async () => {
  initForm({ onSaved: () => load() });
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    load().catch(report);
  });
  filters.addEventListener("reset", () => setTimeout(() => load().catch(report)));
  more.addEventListener("click", () => busy(more, () => load({ append: true })).catch(report));
  await load();
});
