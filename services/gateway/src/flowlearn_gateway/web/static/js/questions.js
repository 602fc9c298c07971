// Q&A: the questions I may see, asking, answering and accepting. #q-<id> opens one.

import { api, problemText, query } from "./lib/api.js";
import { $, busy, empty, formatDateTime, h, replace, setOptions, showError, tagList, toast } from "./lib/dom.js";
import { markdownBlock } from "./lib/markdown.js";
import { audiences, startPage } from "./lib/shell.js";

const list = $("#questions");
const more = $("#questions-more");
const detail = $("#question-detail");
const askForm = $("#ask-form");
let cursor = null;

async function loadQuestions({ append = false } = {}) {
  const unanswered = $("#unanswered").checked || null;
  const page = await api(`/v1/questions${query({ unanswered, limit: 20, cursor: append ? cursor : null })}`);
  cursor = page.next_cursor;
  more.hidden = !cursor;
  const items = page.items.map(questionItem);
  if (append) list.append(...items);
  else replace(list, items.length ? items : h("li", {}, empty("No questions yet.")));
}

function questionItem(question) {
  return h(
    "li",
    { class: "item", dataset: { questionId: question.id } },
    h("h3", {}, h("a", { href: `#q-${encodeURIComponent(question.id)}` }, question.title)),
    h(
      "div",
      { class: "item-meta" },
      h("span", {}, question.is_mine ? "You asked" : `Asked by ${question.asker.display_name}`),
      h("span", {}, `${question.answer_count} ${question.answer_count === 1 ? "answer" : "answers"}`),
      question.accepted_answer_id ? h("span", { class: "status status-acted" }, "Answered") : null,
      h("time", { datetime: question.created_at }, formatDateTime(question.created_at)),
    ),
  );
}

function openedId() {
  const match = /^#q-(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

async function showQuestion(id, { focus = true } = {}) {
  if (!id) {
    detail.hidden = true;
    return;
  }
  let question;
  try {
    question = await api(`/v1/questions/${encodeURIComponent(id)}`);
  } catch (failure) {
    toast(problemText(failure), "error");
    return;
  }
  const answerError = h("p", { class: "error", role: "alert", hidden: true });
  const answerBody = h("textarea", { id: "answer-body", name: "body", rows: 4, required: true, maxlength: 20000 });
  const answerForm = h(
    "form",
    { class: "form panel", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "answer-body" }, "Your answer ", h("span", { class: "hint" }, "(Markdown)")), answerBody),
    answerError,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Post answer")),
  );
  answerForm.addEventListener("submit", (event) => answer(event, question, answerBody, answerError));
  replace(
    detail,
    h("h2", { id: "detail-title", tabindex: "-1" }, question.title),
    h(
      "div",
      { class: "item-meta" },
      h("span", {}, question.is_mine ? "You asked" : `Asked by ${question.asker.display_name}`),
      h("time", { datetime: question.created_at }, formatDateTime(question.created_at)),
    ),
    markdownBlock(question.body),
    question.tags.length ? h("ul", { class: "tags", "aria-label": "Tags" }, question.tags.map((t) => h("li", { class: "tag" }, `#${t}`))) : null,
    question.suggested_experts.length
      ? h("p", { class: "meta-line" }, `Colleagues who may know: ${question.suggested_experts.map((p) => p.display_name).join(", ")}`)
      : null,
    h("h3", { class: "section-gap" }, question.answers.length ? `Answers (${question.answers.length})` : "No answers yet"),
    h("ul", { class: "answers" }, question.answers.map((a) => answerItem(question, a))),
    answerForm,
    h("p", {}, h("a", { href: "#", onclick: closeQuestion }, "Back to all questions")),
  );
  detail.hidden = false;
  if (focus) $("#detail-title").focus();
}

function answerItem(question, answer) {
  const canAccept = question.is_mine && !answer.accepted && !question.accepted_answer_id;
  return h(
    "li",
    { class: `item answer${answer.accepted ? " accepted" : ""}`, dataset: { answerId: answer.id } },
    h(
      "div",
      { class: "item-meta" },
      h("span", {}, answer.is_mine ? "Your answer" : answer.author.display_name),
      answer.accepted ? h("span", { class: "status status-acted" }, "Accepted") : null,
      h("time", { datetime: answer.created_at }, formatDateTime(answer.created_at)),
    ),
    markdownBlock(answer.body),
    canAccept
      ? h(
          "div",
          { class: "actions" },
          h("button", { type: "button", onclick: (e) => accept(question, answer, e.currentTarget) }, "Accept this answer"),
        )
      : null,
  );
}

function closeQuestion(event) {
  event.preventDefault();
  history.replaceState(null, "", location.pathname);
  detail.hidden = true;
  $("#questions-title").scrollIntoView();
}

async function answer(event, question, body, error) {
  event.preventDefault();
  showError(error, "");
  if (!body.value.trim()) {
    showError(error, "Write your answer first.");
    body.focus();
    return;
  }
  try {
    await busy(event.submitter, () =>
      api(`/v1/questions/${encodeURIComponent(question.id)}/answers`, { method: "POST", body: { body: body.value } }),
    );
  } catch (failure) {
    showError(error, problemText(failure));
    return;
  }
  toast("Answer posted.");
  await Promise.all([showQuestion(question.id, { focus: false }), loadQuestions()]);
}

async function accept(question, answer, button) {
  try {
    await busy(button, () => api(`/v1/answers/${encodeURIComponent(answer.id)}/accept`, { method: "POST" }));
  } catch (failure) {
    toast(problemText(failure), "error");
    return;
  }
  toast(`You accepted ${answer.author.display_name}'s answer.`);
  await Promise.all([showQuestion(question.id, { focus: false }), loadQuestions()]);
}

async function ask(event) {
  event.preventDefault();
  const error = $("#ask-error");
  showError(error, "");
  const data = askForm.elements;
  if (!data.title.value.trim() || !data.body.value.trim()) {
    showError(error, "A question needs a title and some details.");
    return;
  }
  const body = {
    title: data.title.value.trim(),
    body: data.body.value,
    tags: tagList(data.tags.value),
    audience: data.audience.value,
  };
  try {
    const created = await busy(askForm.querySelector("button[type=submit]"), () =>
      api("/v1/questions", { method: "POST", body }),
    );
    askForm.reset();
    toast("Question asked. Colleagues who may know are nudged to help.");
    await loadQuestions();
    location.hash = `q-${encodeURIComponent(created.id)}`;
  } catch (failure) {
    showError(error, problemText(failure));
  }
}

await startPage(async () => {
  const options = await audiences();
  const ordered = [...options.filter(([value]) => value === "org"), ...options.filter(([value]) => value !== "org")];
  setOptions(askForm.elements.audience, ordered, "org");
  askForm.addEventListener("submit", ask);
  $("#unanswered").addEventListener("change", () => loadQuestions().catch((f) => toast(problemText(f), "error")));
  more.addEventListener("click", () => busy(more, () => loadQuestions({ append: true })).catch((f) => toast(problemText(f), "error")));
  addEventListener("hashchange", () => showQuestion(openedId()));
  await Promise.all([loadQuestions(), showQuestion(openedId(), { focus: false })]);
});
