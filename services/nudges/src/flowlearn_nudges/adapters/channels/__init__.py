"""Senders for the outside channels: Slack, Microsoft Teams, a signed webhook, e-mail."""
