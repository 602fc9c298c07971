// Signing in: the development picker (POST /v1/dev/token, dev and test only) and, in
// production, OpenID Connect's authorization code flow with PKCE against the configured
// issuer. The hub is a public client: no secret, the code verifier proves the exchange.

import { api, setToken } from "./api.js";

const PENDING_KEY = "flowlearn.oidc.pending";

/** Only a path inside the hub may be the place to return to after sign-in. */
export function safeNext(next) {
  return typeof next === "string" && /^\/hub\/[^/\\]/.test(next) && !next.startsWith("/hub/signin")
    ? next
    : "/hub/today";
}

export async function devSignIn(user) {
  const issued = await api("/v1/dev/token", { method: "POST", body: { user } });
  setToken(issued.access_token);
  return issued;
}

export function oidcSettings() {
  const data = document.body.dataset;
  return {
    issuer: (data.oidcIssuer || "").replace(/\/+$/, ""),
    clientId: data.oidcClientId || "",
    scopes: data.oidcScopes || "openid profile email",
  };
}

function base64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(length) {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return base64url(bytes);
}

async function codeChallenge(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

async function discover(issuer) {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error("The identity provider could not be reached.");
  const config = await response.json();
  if (String(config.issuer).replace(/\/+$/, "") !== issuer) {
    throw new Error("The identity provider's discovery document names another issuer.");
  }
  return config;
}

function redirectUri() {
  return `${location.origin}/hub/callback`;
}

/** Leave for the provider's sign-in page. */
export async function startOidc(next) {
  const { issuer, clientId, scopes } = oidcSettings();
  const config = await discover(issuer);
  const pending = {
    verifier: randomString(48),
    state: randomString(16),
    nonce: randomString(16),
    next: safeNext(next),
  };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri(),
    scope: scopes,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await codeChallenge(pending.verifier),
    code_challenge_method: "S256",
  });
  location.assign(`${config.authorization_endpoint}?${params}`);
}

function jwtPayload(value) {
  const parts = typeof value === "string" ? value.split(".") : [];
  if (parts.length !== 3) return null;
  try {
    return JSON.parse(atob(parts[1].replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return null;
  }
}

/** Back from the provider: check the state, exchange the code, keep the token. */
export async function completeOidc() {
  const params = new URLSearchParams(location.search);
  // The code is single-use, but keep it out of the history all the same.
  history.replaceState(null, "", "/hub/callback");
  if (params.get("error")) {
    throw new Error(params.get("error_description") || params.get("error"));
  }
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
  sessionStorage.removeItem(PENDING_KEY);
  if (!pending || !params.get("code") || params.get("state") !== pending.state) {
    throw new Error("This sign-in response was not started in this tab. Please start again.");
  }
  const { issuer, clientId } = oidcSettings();
  const config = await discover(issuer);
  const response = await fetch(config.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: redirectUri(),
      client_id: clientId,
      code_verifier: pending.verifier,
    }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(tokens.error_description || "The sign-in was refused.");
  const idClaims = jwtPayload(tokens.id_token);
  if (idClaims && idClaims.nonce !== pending.nonce) {
    throw new Error("The identity provider's answer does not match this sign-in.");
  }
  // The gateway verifies a JWT from the issuer's keys: the access token when the provider
  // issues JWT access tokens for this API, else the ID token.
  const bearer = jwtPayload(tokens.access_token) ? tokens.access_token : tokens.id_token;
  if (!bearer) throw new Error("The identity provider sent no token the API can verify.");
  setToken(bearer);
  return pending.next;
}
