// Building the page from data. Text always goes in as text nodes, never as HTML.

/**
 * h("button", {type: "button", class: "primary", onclick: fn}, "Save") → an element.
 * Attributes: `class`, `on<event>` handlers, `dataset`, booleans (true sets, false omits).
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name === "class") {
      element.className = value;
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return [...root.querySelectorAll(selector)];
}

export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

let toastTimer;

/** A short message in the polite live region (screen readers read it out). */
export function toast(message, kind = "ok") {
  const region = $("#toast");
  if (!region) return;
  region.textContent = message;
  region.dataset.kind = kind;
  region.classList.add("shown");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => region.classList.remove("shown"), 5000);
}

/** Show an error next to a form (role=alert), or clear it with an empty message. */
export function showError(element, message) {
  if (!element) return;
  element.textContent = message || "";
  element.hidden = !message;
}

export function tagList(text) {
  return String(text || "")
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});

export function formatDate(value) {
  if (!value) return "";
  // A plain date (2026-05-14) is a calendar day: do not shift it by the time zone.
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00`) : new Date(value);
  return dateFormat.format(date);
}

export function formatDateTime(value) {
  return value ? dateTimeFormat.format(new Date(value)) : "";
}

export function time(value, text) {
  return h("time", { datetime: value }, text ?? formatDateTime(value));
}

/** Today's date (YYYY-MM-DD) on this device. */
export function today() {
  const now = new Date();
  const offset = now.getTimezoneOffset() * 60000;
  return new Date(now.getTime() - offset).toISOString().slice(0, 10);
}

/** Run `action` with the button disabled, so a double click sends one request. */
export async function busy(button, action) {
  if (button) button.disabled = true;
  try {
    return await action();
  } finally {
    if (button) button.disabled = false;
  }
}

export function label(map, value) {
  return map[value] || value;
}

/** A <select> with `options` as [value, text] pairs. */
export function select(attrs, options, selected) {
  return h(
    "select",
    attrs,
    options.map(([value, text]) => h("option", { value, selected: value === selected }, text)),
  );
}

export function empty(text) {
  return h("p", { class: "empty" }, text);
}

/** Replace a <select>'s options with [value, text] pairs and pick `value` (else the first). */
export function setOptions(element, options, value) {
  element.replaceChildren(...options.map(([v, text]) => h("option", { value: v }, text)));
  element.value = options.some(([v]) => v === value) ? value : (options[0]?.[0] ?? "");
}
