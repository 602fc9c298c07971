// Where the identity provider sends the browser back with an authorization code.

import { completeOidc } from "./lib/auth.js";
import { $, showError } from "./lib/dom.js";

try {
  const next = await completeOidc();
  location.replace(next);
} catch (failure) {
  $("#callback-title").textContent = "Sign-in did not complete";
  showError($("#callback-error"), failure.message);
}
