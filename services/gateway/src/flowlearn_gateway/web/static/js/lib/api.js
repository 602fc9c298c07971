// The HTTP API, called with the bearer token kept in this tab's sessionStorage.

const TOKEN_KEY = "flowlearn.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The claims of the token, for display only: the gateway is what verifies it. */
export function claims() {
  const value = token();
  if (!value) return null;
  try {
    const part = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0)));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

export function signInUrl() {
  const next = location.pathname + location.search + location.hash;
  return `/hub/signin?next=${encodeURIComponent(next)}`;
}

/** A refused request: `status` and the RFC 9457 problem the API sent. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `Request failed (${status})`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** A message to show a person: the problem's detail and, for 422, each failing field. */
export function problemText(error) {
  if (!(error instanceof ApiError)) return error?.message || "Something went wrong.";
  const fields = (error.problem.errors || [])
    .map((e) => `${(e.loc || []).filter((p) => p !== "body").join(".")}: ${e.msg}`)
    .filter(Boolean);
  const base = error.problem.detail || error.problem.title || error.message;
  return fields.length ? `${base} ${fields.join("; ")}` : base;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) search.append(name, String(one));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/**
 * Call the API. JSON in and out; `raw: true` returns the Response (downloads, streams).
 * A 401 means the token is gone or expired: back to sign-in.
 */
export async function api(path, { method = "GET", body, headers = {}, raw = false, signal } = {}) {
  const sent = { Accept: "application/json", ...headers };
  const bearer = token();
  if (bearer) sent.Authorization = `Bearer ${bearer}`;
  let payload;
  if (body !== undefined) {
    sent["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers: sent, body: payload, signal });
  if (response.status === 401 && bearer) {
    forgetToken();
    location.assign(signInUrl());
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}
