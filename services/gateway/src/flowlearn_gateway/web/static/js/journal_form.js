// The journal's write and edit form, with a Markdown preview.

import { api, problemText } from "./lib/api.js";
import { $, busy, showError, tagList, toast } from "./lib/dom.js";
import { markdown } from "./lib/markdown.js";

const form = $("#entry-form");
const error = $("#entry-error");
let editing = null; // the entry being edited, or null when writing a new one

function fields() {
  const data = form.elements;
  const evidence = data.evidence.checked
    ? { url: data.evidence_url.value.trim() || null, note: data.evidence_note.value.trim() || null }
    : null;
  return {
    kind: data.kind.value,
    title: data.title.value.trim() || null,
    body: data.body.value,
    tags: tagList(data.tags.value),
    skills: tagList(data.skills.value),
    occurred_on: data.occurred_on.value || null,
    minutes: data.minutes.value === "" ? null : Number(data.minutes.value),
    evidence,
  };
}

function fill(entry) {
  const data = form.elements;
  data.kind.value = entry.kind;
  data.title.value = entry.title || "";
  data.body.value = entry.body;
  data.tags.value = entry.tags.join(", ");
  data.skills.value = entry.skills.join(", ");
  data.occurred_on.value = entry.occurred_on || "";
  data.minutes.value = entry.minutes ?? "";
  data.evidence.checked = Boolean(entry.evidence);
  data.evidence_url.value = entry.evidence?.url || "";
  data.evidence_note.value = entry.evidence?.note || "";
}

function resetForm() {
  editing = null;
  form.reset();
  $("#write-title").textContent = "Write an entry";
  $("#entry-save").textContent = "Save entry";
  $("#entry-cancel").hidden = true;
  hidePreview();
  showError(error, "");
}

function hidePreview() {
  $("#entry-preview").hidden = true;
  $("#preview-toggle").setAttribute("aria-expanded", "false");
  $("#preview-toggle").textContent = "Preview";
}

function togglePreview() {
  const preview = $("#entry-preview");
  if (!preview.hidden) {
    hidePreview();
    return;
  }
  preview.replaceChildren(markdown(form.elements.body.value || "*Nothing written yet.*"));
  preview.hidden = false;
  $("#preview-toggle").setAttribute("aria-expanded", "true");
  $("#preview-toggle").textContent = "Hide preview";
}

/** Load an entry into the form to change it. */
export function editEntry(entry) {
  editing = entry;
  fill(entry);
  $("#write-title").textContent = "Edit entry";
  $("#entry-save").textContent = "Save changes";
  $("#entry-cancel").hidden = false;
  hidePreview();
  $("#write-title").scrollIntoView({ block: "start" });
  form.elements.body.focus();
}

async function save(onSaved) {
  showError(error, "");
  const entry = fields();
  if (!entry.body.trim()) {
    showError(error, "Write a few words first.");
    form.elements.body.focus();
    return;
  }
  try {
    const saved = await busy($("#entry-save"), () =>
      editing
        ? api(`/v1/journal/entries/${encodeURIComponent(editing.id)}`, {
            method: "PATCH",
            body: entry,
            headers: { "If-Match": `"${editing.version}"` },
          })
        : api("/v1/journal/entries", { method: "POST", body: entry }),
    );
    toast(editing ? "Entry updated." : "Saved to your journal.");
    resetForm();
    await onSaved(saved);
  } catch (failure) {
    const message =
      failure.status === 412
        ? "This entry changed elsewhere since you opened it. Reload the list and edit it again."
        : problemText(failure);
    showError(error, message);
  }
}

export function initForm({ onSaved }) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save(onSaved);
  });
  $("#entry-cancel").addEventListener("click", resetForm);
  $("#preview-toggle").addEventListener("click", togglePreview);
  form.elements.body.addEventListener("input", () => {
    if (!$("#entry-preview").hidden) $("#entry-preview").replaceChildren(markdown(form.elements.body.value));
  });
}
