"""E-mail through the operator's SMTP server (aiosmtplib): plain text with an HTML
alternative, one message per nudge or one per digest."""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib
from flowlearn_shared.contracts.nudges import Channel, NudgePreferences

from flowlearn_nudges.adapters.channels.base import DeliveryError, NotConfigured
from flowlearn_nudges.domain.delivery import Outgoing
from flowlearn_nudges.settings import NudgesSettings

SUBJECT_MAX = 120


def _clip(text: str, limit: int) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def email_message(outgoing: Outgoing, sender: str, to: str) -> EmailMessage:
    message = EmailMessage()
    subject = outgoing.title if outgoing.digest else f"{outgoing.title}: {outgoing.summary}"
    message["Subject"] = _clip(subject, SUBJECT_MAX)
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="flowlearn")
    message["X-Flowlearn-Delivery"] = outgoing.delivery_id
    lines: list[str] = []
    parts: list[str] = []
    for item in outgoing.items:
        if outgoing.digest:
            lines.append(f"{item.title}\n{item.message}\n{item.link}\n")
        else:
            lines.append(f"{item.message}\n\nOpen in Flowlearn: {item.link}\n")
        parts.append(
            f"<h3>{html.escape(item.title)}</h3><p>{html.escape(item.message)}</p>"
            f'<p><a href="{html.escape(item.link, quote=True)}">Open in Flowlearn</a></p>'
        )
    footer = "\nYou get these because e-mail is on in your Flowlearn nudge preferences.\n"
    message.set_content("\n".join(lines) + footer)
    message.add_alternative(
        f"<html><body>{''.join(parts)}<p><small>{html.escape(footer.strip())}</small></p>"
        "</body></html>",
        subtype="html",
    )
    return message


class EmailSender:
    channel = Channel.EMAIL

    def __init__(self, settings: NudgesSettings, timeout: float) -> None:
        self.settings = settings
        self.timeout = timeout

    def endpoint(self, preferences: NudgePreferences) -> str:
        if not self.settings.smtp_host:
            raise NotConfigured("e-mail is not set up on this server")
        if preferences.destinations.email is None:
            raise NotConfigured("no e-mail address is set")
        # One SMTP server serves everyone: its health is one circuit.
        return f"smtp://{self.settings.smtp_host}:{self.settings.smtp_port}"

    async def send(self, outgoing: Outgoing, preferences: NudgePreferences) -> None:
        self.endpoint(preferences)
        destination = preferences.destinations.email
        assert destination is not None
        assert self.settings.smtp_host is not None
        settings = self.settings
        message = email_message(outgoing, settings.smtp_from, destination.address)
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                start_tls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=password,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx: try later; 5xx: the server will not take it (bad address, policy).
            transient = 400 <= exc.code < 500
            raise DeliveryError(
                f"the mail server answered {exc.code}: {exc.message}", transient=transient
            ) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"the mail server refused the address: {exc}", transient=False
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"could not reach the mail server: {exc}", transient=True) from None
