// Team & communities: the feed, sharing a post, my teams, communities, kudos.

import { api, problemText, query } from "./lib/api.js";
import { $, busy, empty, formatDateTime, h, replace, setOptions, showError, tagList, toast } from "./lib/dom.js";
import { POST_KINDS } from "./lib/labels.js";
import { markdownBlock } from "./lib/markdown.js";
import { audienceOptions, startPage, userId } from "./lib/shell.js";
import { initCommunities, initKudos } from "./team_people.js";

const feed = $("#feed");
const more = $("#feed-more");
const postForm = $("#post-form");
const state = { teams: [], communities: [], cursor: null };

function audienceLabel(audience) {
  const [kind, id] = audience.split(/:(.*)/s);
  if (kind === "team") return `Team: ${state.teams.find((t) => t.id === id)?.name || "a team"}`;
  if (kind === "community") {
    return `Community: ${state.communities.find((c) => c.id === id)?.name || "a community"}`;
  }
  if (kind === "people") return "Named people";
  return "Everyone";
}

export async function loadFeed({ append = false } = {}) {
  const community = $("#feed-filter").value;
  const page = await api(`/v1/feed${query({ community, limit: 20, cursor: append ? state.cursor : null })}`);
  state.cursor = page.next_cursor;
  more.hidden = !state.cursor;
  const items = page.items.map(postItem);
  if (append) feed.append(...items);
  else replace(feed, items.length ? items : h("li", {}, empty("Nothing shared here yet.")));
}

function postItem(post) {
  const like = h(
    "button",
    {
      type: "button",
      class: "quiet",
      "aria-pressed": String(post.my_reactions.includes("like")),
      onclick: (event) => toggleLike(post, event.currentTarget),
    },
    `Like · ${post.reactions.like || 0}`,
  );
  return h(
    "li",
    { class: "item post", dataset: { postId: post.id } },
    h(
      "div",
      { class: "item-meta" },
      h("span", { class: "pill" }, POST_KINDS[post.kind] || post.kind),
      h("span", {}, post.author ? post.author.display_name : "Anonymous"),
      h("span", {}, audienceLabel(post.audience)),
      h("time", { datetime: post.created_at }, formatDateTime(post.created_at)),
    ),
    post.title ? h("h3", {}, post.title) : null,
    markdownBlock(post.body),
    post.url && /^https?:\/\//i.test(post.url)
      ? h("p", {}, h("a", { href: post.url, rel: "noopener noreferrer nofollow" }, post.url))
      : null,
    post.tags.length ? h("ul", { class: "tags", "aria-label": "Tags" }, post.tags.map((t) => h("li", { class: "tag" }, `#${t}`))) : null,
    h(
      "div",
      { class: "actions" },
      like,
      post.comment_count ? h("span", { class: "hint" }, `${post.comment_count} comments`) : null,
    ),
  );
}

async function toggleLike(post, button) {
  const on = button.getAttribute("aria-pressed") !== "true";
  try {
    await busy(button, () =>
      api(`/v1/posts/${encodeURIComponent(post.id)}/reactions/like`, { method: on ? "PUT" : "DELETE" }),
    );
    const count = (post.reactions.like || 0) + (on ? 1 : -1) - (post.my_reactions.includes("like") ? 1 : 0);
    button.setAttribute("aria-pressed", String(on));
    button.textContent = `Like · ${Math.max(count, 0)}`;
  } catch (failure) {
    toast(problemText(failure), "error");
  }
}

async function sharePost(event) {
  event.preventDefault();
  const error = $("#post-error");
  showError(error, "");
  const data = postForm.elements;
  if (!data.body.value.trim()) {
    showError(error, "Write something to share.");
    data.body.focus();
    return;
  }
  const post = {
    kind: data.kind.value,
    title: data.title.value.trim() || null,
    body: data.body.value,
    url: data.url.value.trim() || null,
    tags: tagList(data.tags.value),
    audience: data.audience.value,
    anonymous: data.kind.value === "lesson" && data.anonymous.checked,
  };
  try {
    await busy(postForm.querySelector("button[type=submit]"), () => api("/v1/posts", { method: "POST", body: post }));
  } catch (failure) {
    showError(error, problemText(failure));
    return;
  }
  postForm.reset();
  toast("Shared.");
  await loadFeed();
}

function renderTeams() {
  const me = userId();
  const box = $("#teams");
  if (!state.teams.length) {
    replace(box, empty("You are not in a team yet."));
    return;
  }
  replace(
    box,
    state.teams.map((team) => [
      h("h3", {}, team.name),
      h(
        "ul",
        { class: "members", "aria-label": `Members of ${team.name}` },
        team.members.map((m) =>
          h("li", { class: "tag" }, m.user_id === me ? `${m.display_name} (you)` : m.display_name, m.role === "lead" ? " · lead" : ""),
        ),
      ),
    ]),
  );
}

/** Audiences and the feed filter follow what the person belongs to. */
export function refreshChoices() {
  const audience = postForm.elements.audience;
  const kept = audience.value;
  const options = audienceOptions(state.teams, state.communities);
  setOptions(audience, options, kept);
  const filter = $("#feed-filter");
  const shown = filter.value;
  const communities = state.communities.filter((c) => c.is_member).map((c) => [c.id, `Community: ${c.name}`]);
  setOptions(filter, [["", "Everything I can see"], ...communities], shown);
}

await startPage(async () => {
  const [teams, communities] = await Promise.all([api("/v1/me/teams"), api("/v1/communities")]);
  state.teams = teams.items;
  state.communities = communities.items;
  renderTeams();
  refreshChoices();
  initCommunities(state, { onChange: refreshChoices });
  initKudos(state);
  postForm.addEventListener("submit", sharePost);
  $("#feed-filter").addEventListener("change", () => loadFeed().catch((f) => toast(problemText(f), "error")));
  $("#feed-refresh").addEventListener("click", (event) =>
    busy(event.currentTarget, () => loadFeed()).catch((f) => toast(problemText(f), "error")),
  );
  more.addEventListener("click", () => busy(more, () => loadFeed({ append: true })).catch((f) => toast(problemText(f), "error")));
  await loadFeed();
});
