// Words people see for the API's enumerations.

export const ENTRY_KINDS = {
  reflection: "Reflection",
  learned: "Learned",
  mistake: "Mistake & lesson",
  gem: "Gem",
  achievement: "Achievement",
  interaction: "Interaction",
  experiment: "Experiment",
};

export const NUDGE_TYPES = {
  learning_habit: "Daily learning habit",
  reflect: "Reflect",
  mistake_moment: "Mistake moment",
  spot_strength: "Spotting strengths",
  three_ps: "Three Ps check-in",
  micro_learning: "Micro-learning",
  event_followup: "After an event",
  help_request: "Someone asks for help",
  custom: "From your team",
};

// The journal entry a nudge of each type invites.
export const KIND_FOR_NUDGE = {
  mistake_moment: "mistake",
  spot_strength: "interaction",
  three_ps: "experiment",
  micro_learning: "learned",
  learning_habit: "learned",
};

export const NUDGE_STATUSES = {
  scheduled: "Scheduled",
  delivered: "New",
  opened: "Opened",
  acted: "Done",
  snoozed: "Snoozed",
  dismissed: "Dismissed",
  expired: "Expired",
  failed: "Failed",
};

export const POST_KINDS = {
  tip: "Tip",
  lesson: "Lesson",
  gem: "Gem",
  reflection: "Reflection",
  experiment: "Experiment",
};

export const CHANNELS = {
  in_app: "In the hub",
  slack: "Slack",
  teams: "Microsoft Teams",
  webhook: "Webhook",
  email: "E-mail",
};

export const GATHERING_KINDS = {
  lunch_and_learn: "Lunch & learn",
  book_club: "Book club",
};

export const STAGES = {
  pitch: "Pitch",
  prototype: "Prototype",
  pilot: "Pilot",
  done: "Done",
  stopped: "Stopped",
};

export const WEEKDAYS = [
  [1, "Mon"],
  [2, "Tue"],
  [3, "Wed"],
  [4, "Thu"],
  [5, "Fri"],
  [6, "Sat"],
  [7, "Sun"],
];
