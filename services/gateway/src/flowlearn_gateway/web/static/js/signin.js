// The sign-in page: demo people in dev and test, the organisation's provider in production.

import { problemText, token } from "./lib/api.js";
import { devSignIn, safeNext, startOidc } from "./lib/auth.js";
import { $, $$, busy, showError } from "./lib/dom.js";

const next = safeNext(new URLSearchParams(location.search).get("next"));
const error = $("#signin-error");

async function signIn(button, user) {
  showError(error, "");
  try {
    await busy(button, () => devSignIn(user));
    location.assign(next);
  } catch (failure) {
    showError(error, problemText(failure));
  }
}

for (const button of $$("button.person")) {
  button.addEventListener("click", () => signIn(button, button.dataset.user));
}

$("#dev-other")?.addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  signIn(form.querySelector("button"), form.elements.user.value.trim());
});

$("#oidc-sign-in")?.addEventListener("click", async (event) => {
  showError(error, "");
  try {
    await busy(event.currentTarget, () => startOidc(next));
  } catch (failure) {
    showError(error, problemText(failure));
  }
});

if (token()) {
  // Already signed in in this tab: say so rather than sign in twice by accident.
  const note = document.createElement("p");
  note.className = "hint";
  const link = document.createElement("a");
  link.href = next;
  link.textContent = "Continue to the hub";
  note.append("You are signed in. ", link, " or pick someone else.");
  $("#signin-title").after(note);
}
