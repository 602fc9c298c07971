// A small Markdown subset rendered straight into DOM nodes: paragraphs (single line breaks
// kept), headings, lists, quotes, fenced code, `code`, **bold**, *emphasis*, [links](url).
// User text only ever becomes text nodes, so no markup in it can run; links are kept only
// for http(s) and mailto addresses.

import { h } from "./dom.js";

const SAFE_URL = /^(https?:\/\/|mailto:)/i;

const INLINE = [
  { kind: "code", re: /`([^`\n]+)`/ },
  { kind: "link", re: /\[([^\]\n]+)\]\(([^)\s]+)\)/ },
  { kind: "strong", re: /\*\*([^*\n](?:[^\n]*?[^*\n])?)\*\*/ },
  { kind: "em", re: /(?<![\w*])\*([^*\s](?:[^*\n]*?[^*\s])?)\*(?![\w*])/ },
  { kind: "em", re: /(?<!\w)_([^_\s](?:[^_\n]*?[^_\s])?)_(?!\w)/ },
];

/** Inline Markdown of one run of text, as nodes. */
export function inline(text) {
  const nodes = [];
  let rest = text;
  while (rest) {
    let best = null;
    for (const rule of INLINE) {
      const match = rule.re.exec(rest);
      if (match && (best === null || match.index < best.match.index)) best = { rule, match };
    }
    if (!best) {
      nodes.push(document.createTextNode(rest));
      break;
    }
    const { rule, match } = best;
    if (match.index > 0) nodes.push(document.createTextNode(rest.slice(0, match.index)));
    nodes.push(inlineNode(rule.kind, match));
    rest = rest.slice(match.index + match[0].length);
  }
  return nodes;
}

function inlineNode(kind, match) {
  if (kind === "code") return h("code", {}, match[1]);
  if (kind === "strong") return h("strong", {}, inline(match[1]));
  if (kind === "em") return h("em", {}, inline(match[1]));
  const url = match[2];
  if (!SAFE_URL.test(url)) return document.createTextNode(match[0]);
  return h("a", { href: url, rel: "noopener noreferrer nofollow" }, inline(match[1]));
}

function paragraph(lines) {
  const p = h("p");
  lines.forEach((line, index) => {
    if (index > 0) p.append(h("br"));
    p.append(...inline(line.trim()));
  });
  return p;
}

const LIST_ITEM = /^\s*([-*+]|\d{1,9}[.)])\s+(.*)$/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const FENCE = /^\s*(```|~~~)/;

/** Markdown → a DocumentFragment. `headingBase` is the level `#` maps to (default 3). */
export function markdown(source, { headingBase = 3 } = {}) {
  const fragment = document.createDocumentFragment();
  const lines = String(source ?? "")
    .replace(/\r\n?/g, "\n")
    .split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const code = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) {
        code.push(lines[i]);
        i += 1;
      }
      i += 1; // the closing fence
      fragment.append(h("pre", {}, h("code", {}, code.join("\n"))));
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = Math.min(6, headingBase + heading[1].length - 1);
      fragment.append(h(`h${level}`, {}, inline(heading[2])));
      i += 1;
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^\s*>/.test(lines[i])) {
        quoted.push(lines[i].replace(/^\s*>\s?/, ""));
        i += 1;
      }
      const quote = h("blockquote");
      quote.append(markdown(quoted.join("\n"), { headingBase }));
      fragment.append(quote);
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test(item[1]);
      const list = h(ordered ? "ol" : "ul");
      while (i < lines.length) {
        const next = LIST_ITEM.exec(lines[i]);
        if (!next || /\d/.test(next[1]) !== ordered) break;
        list.append(h("li", {}, inline(next[2])));
        i += 1;
      }
      fragment.append(list);
      continue;
    }
    const block = [];
    while (
      i < lines.length &&
      lines[i].trim() &&
      !FENCE.test(lines[i]) &&
      !HEADING.test(lines[i]) &&
      !LIST_ITEM.test(lines[i]) &&
      !/^\s*>/.test(lines[i])
    ) {
      block.push(lines[i]);
      i += 1;
    }
    fragment.append(paragraph(block));
  }
  return fragment;
}

/** A rendered Markdown body inside a container element. */
export function markdownBlock(source, attrs = { class: "prose" }) {
  const element = h("div", attrs);
  element.append(markdown(source));
  return element;
}
