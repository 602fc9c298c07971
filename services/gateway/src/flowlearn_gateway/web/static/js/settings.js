// Settings: profile (time zone, working and quiet hours) and nudge preferences.

import { api, problemText } from "./lib/api.js";
import { $, busy, h, replace, setOptions, showError, toast } from "./lib/dom.js";
import { CHANNELS, NUDGE_TYPES, WEEKDAYS } from "./lib/labels.js";
import { profile, startPage } from "./lib/shell.js";

const profileForm = $("#profile-form");
const prefsForm = $("#prefs-form");
let prefs = null; // as loaded: kept so a save does not lose what this page does not show

function checkbox(name, value, text, checked, extra = {}) {
  return h("label", { class: "check" }, h("input", { type: "checkbox", name, value, checked, ...extra }), ` ${text}`);
}

function checked(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((input) => input.value);
}

function fillProfile(me) {
  const data = profileForm.elements;
  data.display_name.value = me.display_name;
  data.timezone.value = me.timezone;
  replace($("#work-days"), WEEKDAYS.map(([day, text]) => checkbox("day", String(day), text, me.working_hours.days.includes(day))));
  data.work_start.value = me.working_hours.start;
  data.work_end.value = me.working_hours.end;
  data.quiet_on.checked = Boolean(me.quiet_hours);
  data.quiet_start.value = me.quiet_hours?.start || "22:00";
  data.quiet_end.value = me.quiet_hours?.end || "07:00";
}

function fillPrefs(loaded) {
  prefs = loaded;
  const data = prefsForm.elements;
  data.daily_cap.value = loaded.daily_cap;
  const choices = [...new Set([1, 2, 3, 5, 7, 14, 30, loaded.inactivity_days])].sort((a, b) => a - b);
  const days = choices.map((n) => [String(n), n === 1 ? "1 day without an entry" : `${n} days without an entry`]);
  setOptions(data.inactivity_days, days, String(loaded.inactivity_days));
  replace(
    $("#channels"),
    Object.entries(CHANNELS).map(([value, text]) =>
      checkbox("channel", value, text, loaded.channels.includes(value), { disabled: value === "in_app" }),
    ),
  );
  const dest = loaded.destinations;
  data.slack.value = dest.slack?.webhook_url || "";
  data.teams.value = dest.teams?.webhook_url || "";
  data.webhook.value = dest.webhook?.url || "";
  data.webhook_secret.value = "";
  $("#secret-hint").textContent = dest.webhook?.has_secret
    ? "(a secret is set; leave empty to keep it)"
    : "(16+ characters)";
  data.email.value = dest.email?.address || "";
  data.digest_on.checked = loaded.digest.enabled;
  data.digest_at.value = loaded.digest.at;
  replace(
    $("#types"),
    Object.entries(NUDGE_TYPES).map(([type, text]) =>
      checkbox("type", type, text, loaded.types[type]?.enabled ?? true),
    ),
  );
}

async function saveProfile(event) {
  event.preventDefault();
  const error = $("#profile-error");
  showError(error, "");
  const data = profileForm.elements;
  const days = checked(profileForm, "day").map(Number);
  if (!days.length) {
    showError(error, "Pick at least one working day.");
    return;
  }
  const changes = {
    display_name: data.display_name.value.trim(),
    timezone: data.timezone.value.trim(),
    working_hours: { days, start: data.work_start.value, end: data.work_end.value },
    quiet_hours: data.quiet_on.checked ? { start: data.quiet_start.value, end: data.quiet_end.value } : null,
  };
  try {
    const saved = await busy(event.submitter, () => api("/v1/me", { method: "PATCH", body: changes }));
    fillProfile(saved);
    $("#who-name").textContent = saved.display_name;
    toast("Profile saved.");
  } catch (failure) {
    showError(error, problemText(failure));
  }
}

function destinations(data) {
  const url = (value) => value.trim() || null;
  const webhook = url(data.webhook.value);
  const secret = data.webhook_secret.value;
  return {
    slack: url(data.slack.value) && { webhook_url: url(data.slack.value) },
    teams: url(data.teams.value) && { webhook_url: url(data.teams.value) },
    webhook: webhook && { url: webhook, ...(secret ? { secret } : {}) },
    email: url(data.email.value) && { address: url(data.email.value) },
  };
}

async function savePrefs(event) {
  event.preventDefault();
  const error = $("#prefs-error");
  showError(error, "");
  const data = prefsForm.elements;
  const enabled = new Set(checked(prefsForm, "type"));
  const types = {};
  for (const type of Object.keys(NUDGE_TYPES)) {
    types[type] = { ...(prefs.types[type] || {}), enabled: enabled.has(type) };
  }
  const body = {
    ...prefs,
    daily_cap: Number(data.daily_cap.value),
    inactivity_days: Number(data.inactivity_days.value),
    channels: ["in_app", ...checked(prefsForm, "channel")],
    destinations: destinations(data),
    digest: { enabled: data.digest_on.checked, at: data.digest_at.value || prefs.digest.at },
    types,
  };
  for (const destination of Object.values(body.destinations)) delete destination?.has_secret;
  try {
    const saved = await busy(event.submitter, () => api("/v1/nudges/preferences", { method: "PUT", body }));
    fillPrefs(saved);
    toast("Nudge settings saved.");
  } catch (failure) {
    showError(error, problemText(failure));
  }
}

await startPage(async () => {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  $("#zones").replaceChildren(...zones.map((zone) => h("option", { value: zone })));
  // The forms stay disabled until they hold what is saved, so nothing typed is overwritten.
  const [me, loaded] = await Promise.all([profile(), api("/v1/nudges/preferences")]);
  fillProfile(me);
  fillPrefs(loaded);
  $("#profile-fields").disabled = false;
  $("#prefs-fields").disabled = false;
  profileForm.addEventListener("submit", saveProfile);
  prefsForm.addEventListener("submit", savePrefs);
});
