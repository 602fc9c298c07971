// What every signed-in page does first: make sure there is a token, show who is signed in,
// offer sign-out, then run the page.

import { api, claims, forgetToken, problemText, signInUrl, token } from "./api.js";
import { $, h, toast } from "./dom.js";

let me = null;

// Every form here is sent by script. Until a page's script has wired up its forms, a submit
// must not fall back to the browser's own (a GET that would put what was typed in the URL).
document.addEventListener("submit", (event) => event.preventDefault(), true);

/** The signed-in person's profile (GET /v1/me), loaded once per page. */
export async function profile() {
  me ??= await api("/v1/me");
  return me;
}

export function userId() {
  return claims()?.sub || null;
}

function showWho(name) {
  const who = $("#who");
  $("#who-name").textContent = name;
  who.hidden = false;
}

/** Start a signed-in page; `init` builds it. Without a token, go to sign-in first. */
export async function startPage(init) {
  if (!token()) {
    location.replace(signInUrl());
    return;
  }
  $("#sign-out").addEventListener("click", () => {
    forgetToken();
    location.assign("/hub/signin");
  });
  showWho(claims()?.name || claims()?.sub || "");
  try {
    const mine = await profile();
    showWho(mine.display_name);
    await init(mine);
  } catch (error) {
    const main = $("#main");
    main.prepend(h("p", { class: "error", role: "alert" }, problemText(error)));
    toast(problemText(error), "error");
  }
}

/** Audiences this person can share with: their teams, their communities, everyone. */
export function audienceOptions(teams, communities) {
  const options = teams.map((team) => [`team:${team.id}`, `Team: ${team.name}`]);
  for (const community of communities.filter((c) => c.is_member)) {
    options.push([`community:${community.id}`, `Community: ${community.name}`]);
  }
  options.push(["org", "Everyone in the organisation"]);
  return options;
}

export async function audiences() {
  const [teams, communities] = await Promise.all([api("/v1/me/teams"), api("/v1/communities")]);
  return audienceOptions(teams.items, communities.items);
}
