// New nudges as they arrive: the Server-Sent Events stream read with fetch, so the bearer
// token travels in the Authorization header rather than in a URL. Reconnects with
// Last-Event-ID; where the stream is not offered (404) the inbox is polled every 30 s.

import { token } from "./api.js";

const POLL_MILLIS = 30000;
const MAX_RETRY_MILLIS = 60000;

/** Parse one SSE block ("id: …\nevent: …\ndata: …") into {id, event, data, retry}. */
export function parseEvent(block) {
  const message = { id: null, event: "message", data: [], retry: null };
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "id") message.id = value;
    else if (field === "event") message.event = value;
    else if (field === "data") message.data.push(value);
    else if (field === "retry" && /^\d+$/.test(value)) message.retry = Number(value);
  }
  return { ...message, data: message.data.join("\n") };
}

/**
 * Call `onNudge(notification)` for each new nudge and `onState("live" | "polling" |
 * "reconnecting")` as the connection changes; `poll()` is called every 30 s while there is
 * no stream. Returns a function that stops everything.
 */
export function watchNudges({ onNudge, onState, poll }) {
  const controller = new AbortController();
  let lastId = null;
  let retry = 5000;
  let pollTimer = null;
  let stopped = false;

  const startPolling = () => {
    if (pollTimer === null) pollTimer = setInterval(poll, POLL_MILLIS);
  };
  const stopPolling = () => {
    clearInterval(pollTimer);
    pollTimer = null;
  };

  async function read(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        const message = parseEvent(block);
        if (message.retry !== null) retry = message.retry;
        if (message.id) lastId = message.id;
        if (message.event === "nudge" && message.data) onNudge(JSON.parse(message.data));
      }
    }
  }

  async function connect() {
    let wait = retry;
    while (!stopped) {
      const headers = { Accept: "text/event-stream", Authorization: `Bearer ${token()}` };
      if (lastId) headers["Last-Event-ID"] = lastId;
      try {
        const response = await fetch("/v1/notifications/stream", {
          headers,
          signal: controller.signal,
          cache: "no-store",
        });
        if (response.status === 404 || response.status === 401) {
          // No live stream on this server (or no longer signed in): polling it is.
          onState("polling");
          startPolling();
          return;
        }
        if (response.ok && response.body) {
          onState("live");
          stopPolling();
          wait = retry;
          await read(response);
        } else {
          const after = Number(response.headers.get("Retry-After"));
          if (after > 0) wait = Math.max(wait, after * 1000);
        }
      } catch (error) {
        if (stopped || error.name === "AbortError") return;
      }
      if (stopped) return;
      // Lost or refused: poll meanwhile, try the stream again later, backing off.
      onState("reconnecting");
      startPolling();
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, MAX_RETRY_MILLIS);
    }
  }

  const stop = () => {
    stopped = true;
    stopPolling();
    controller.abort();
  };
  addEventListener("pagehide", stop);
  connect();
  return stop;
}
