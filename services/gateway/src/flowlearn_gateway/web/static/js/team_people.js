// Team page, people side: communities of practice (join, leave, start) and kudos.

import { api, problemText } from "./lib/api.js";
import { $, busy, empty, h, replace, setOptions, showError, tagList, toast } from "./lib/dom.js";
import { userId } from "./lib/shell.js";

export function initCommunities(state, { onChange }) {
  const list = $("#communities");

  function render() {
    if (!state.communities.length) {
      replace(list, h("li", {}, empty("No communities yet. Start one below.")));
      return;
    }
    replace(list, state.communities.map(item));
  }

  function item(community) {
    const action = community.is_member ? "Leave" : "Join";
    return h(
      "li",
      { class: "item", dataset: { communityId: community.id } },
      h("h3", {}, community.name),
      community.description ? h("p", {}, community.description) : null,
      h(
        "div",
        { class: "actions" },
        h("span", { class: "hint" }, `${community.member_count} members`),
        h(
          "button",
          {
            type: "button",
            class: community.is_member ? "quiet" : "primary",
            "aria-label": `${action} ${community.name}`,
            onclick: (event) => toggle(community, event.currentTarget),
          },
          action,
        ),
      ),
    );
  }

  async function reload() {
    state.communities = (await api("/v1/communities")).items;
    render();
    onChange();
  }

  async function toggle(community, button) {
    const path = `/v1/communities/${encodeURIComponent(community.id)}/members`;
    try {
      await busy(button, () =>
        community.is_member ? api(`${path}/me`, { method: "DELETE" }) : api(path, { method: "POST" }),
      );
      toast(community.is_member ? `You left ${community.name}.` : `You joined ${community.name}.`);
      await reload();
      list.querySelector(`[data-community-id="${CSS.escape(community.id)}"] button`)?.focus();
    } catch (failure) {
      toast(problemText(failure), "error");
    }
  }

  const form = $("#community-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("#community-error");
    showError(error, "");
    const data = form.elements;
    const body = { name: data.name.value.trim(), description: data.description.value.trim(), tags: tagList(data.tags.value) };
    try {
      await busy(form.querySelector("button"), () => api("/v1/communities", { method: "POST", body }));
      form.reset();
      toast(`${body.name} started.`);
      await reload();
    } catch (failure) {
      showError(error, problemText(failure));
    }
  });
  render();
}

export function initKudos(state) {
  const form = $("#kudos-form");
  const me = userId();
  const people = new Map();
  for (const team of state.teams) {
    for (const member of team.members) if (member.user_id !== me) people.set(member.user_id, member.display_name);
  }
  const to = form.elements.to;
  if (!people.size) {
    form.replaceWith(empty("Kudos go to teammates; join a team to give some."));
    return;
  }
  setOptions(to, [...people.entries()]);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("#kudos-error");
    showError(error, "");
    const data = form.elements;
    if (!data.message.value.trim()) {
      showError(error, "Say what they did well.");
      data.message.focus();
      return;
    }
    const body = {
      to: data.to.value,
      message: data.message.value.trim(),
      strengths: tagList(data.strengths.value),
      visibility: data.team.checked ? "team" : "private",
    };
    try {
      await busy(form.querySelector("button"), () => api("/v1/kudos", { method: "POST", body }));
      form.reset();
      toast(`Kudos sent to ${people.get(body.to)}.`);
    } catch (failure) {
      showError(error, problemText(failure));
    }
  });
}
