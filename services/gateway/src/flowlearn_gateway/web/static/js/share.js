// Sharing a journal entry: an excerpt, to an audience the person picks.

import { api, problemText } from "./lib/api.js";
import { busy, h, select, showError, toast } from "./lib/dom.js";

/** A form that shares `entry`; `audienceOptions` are [value, label] pairs. */
export function sharePanel(entry, audienceOptions, { onDone }) {
  const prefix = `share-${entry.id}`;
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const audience = select({ id: `${prefix}-audience`, name: "audience" }, audienceOptions);
  const excerpt = h("textarea", { id: `${prefix}-excerpt`, name: "excerpt", rows: 4, maxlength: 20000 });
  excerpt.value = entry.body;
  const includeTitle = h("input", { type: "checkbox", name: "include_title", checked: Boolean(entry.title) });
  const anonymous = h("input", { type: "checkbox", name: "anonymous" });
  const submit = h("button", { type: "submit", class: "primary" }, "Share");

  const form = h(
    "form",
    { class: "form panel", "aria-label": "Share this entry" },
    h("h4", {}, "Share an excerpt"),
    h(
      "div",
      { class: "field" },
      h("label", { for: `${prefix}-audience` }, "With"),
      audience,
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: `${prefix}-excerpt` }, "Excerpt ", h("span", { class: "hint" }, "(only this leaves your journal)")),
      excerpt,
    ),
    entry.title ? h("label", { class: "check" }, includeTitle, " Include the title") : null,
    entry.kind === "mistake"
      ? h("label", { class: "check" }, anonymous, " Share as an anonymous lesson")
      : null,
    error,
    h(
      "div",
      { class: "actions" },
      submit,
      h("button", { type: "button", class: "quiet", onclick: () => onDone(false) }, "Cancel"),
    ),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(error, "");
    if (!excerpt.value.trim()) {
      showError(error, "The excerpt cannot be empty.");
      return;
    }
    const body = {
      audience: audience.value,
      excerpt: excerpt.value,
      include_title: Boolean(entry.title) && includeTitle.checked,
      anonymous: entry.kind === "mistake" && anonymous.checked,
    };
    try {
      await busy(submit, () =>
        api(`/v1/journal/entries/${encodeURIComponent(entry.id)}/share`, { method: "POST", body }),
      );
      const label = audienceOptions.find(([value]) => value === body.audience)?.[1] || body.audience;
      toast(`Shared with ${label.replace(/^(Team|Community): /, "")}. It shows in their feed shortly.`);
      onDone(true, label);
    } catch (failure) {
      showError(error, problemText(failure));
    }
  });
  return form;
}
