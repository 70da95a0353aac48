"""Notifiers that reach the subject directly: e-mail over SMTP, SMS through a provider's
HTTP webhook. `GATEWAY_NOTIFIER=direct` routes each message by its channel.

Both use the standard library (smtplib, urllib) in a worker thread: one small
message at a time needs no extra dependency. Neither logs the recipient or the
text; a failure raises `DeliveryFailed` naming only the channel and the cause's type.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
import ssl
import urllib.parse
import urllib.request
from email.message import EmailMessage

from gateway.core.errors import ConfigurationError, GatewayError
from gateway.core.settings import Settings
from gateway.privacy.notify.message import Message, Notifier

SUBJECT_LINE = "隐私请求 / Your privacy request"
TIMEOUT_SECONDS = 15


class DeliveryFailed(GatewayError):
    """A message could not be handed to its channel; the caller logs and moves on."""


class SmtpNotifier:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
    ) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._starttls = starttls

    async def send(self, message: Message) -> None:
        if message.channel != "email":
            raise DeliveryFailed(f"the SMTP notifier cannot send {message.channel} messages")
        await asyncio.to_thread(self._send, message)

    def _send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self._sender, message.recipient, SUBJECT_LINE
        mail.set_content(message.text)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=TIMEOUT_SECONDS) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username and self._password:
                    smtp.login(self._username, self._password)
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP delivery failed ({type(exc).__name__})") from None


class WebhookSmsNotifier:
    """POSTs `{"to": ..., "text": ...}` as JSON to an SMS provider's (or a relay's) URL."""

    def __init__(self, url: str, token: str | None = None) -> None:
        parsed = urllib.parse.urlsplit(url)
        local = parsed.scheme == "http" and parsed.hostname in {"127.0.0.1", "::1", "localhost"}
        if not (parsed.scheme == "https" or local) or parsed.username or not parsed.hostname:
            raise ConfigurationError(
                "GATEWAY_SMS_WEBHOOK_URL must be https:// (or http://127.0.0.1 for a local relay)"
            )
        self._url, self._token = url, token

    async def send(self, message: Message) -> None:
        if message.channel != "sms":
            raise DeliveryFailed(f"the SMS notifier cannot send {message.channel} messages")
        await asyncio.to_thread(self._send, message)

    def _send(self, message: Message) -> None:
        body = json.dumps({"to": message.recipient, "text": message.text}).encode()
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(self._url, data=body, headers=headers, method="POST")  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
                if not 200 <= answer.status < 300:  # noqa: PLR2004
                    raise DeliveryFailed(f"SMS webhook answered {answer.status}")
        except OSError as exc:
            raise DeliveryFailed(f"SMS delivery failed ({type(exc).__name__})") from None


class ByChannel:
    """E-mail to one notifier, SMS to another; a channel with none configured fails."""

    def __init__(self, email: Notifier | None, sms: Notifier | None) -> None:
        self._by_channel = {"email": email, "sms": sms}

    async def send(self, message: Message) -> None:
        notifier = self._by_channel.get(message.channel)
        if notifier is None:
            raise DeliveryFailed(f"no notifier is configured for {message.channel} messages")
        await notifier.send(message)


def direct(settings: Settings) -> Notifier:
    """`GATEWAY_NOTIFIER=direct`: SMTP for e-mail, the webhook for SMS, from settings."""
    email = sms = None
    if settings.smtp_host:
        if not settings.smtp_from:
            raise ConfigurationError("GATEWAY_SMTP_FROM is required with GATEWAY_SMTP_HOST")
        email = SmtpNotifier(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            username=settings.smtp_username,
            password=None
            if settings.smtp_password is None
            else settings.smtp_password.get_secret_value(),
            starttls=settings.smtp_starttls,
        )
    if settings.sms_webhook_url:
        token = settings.sms_webhook_token
        sms = WebhookSmsNotifier(
            settings.sms_webhook_url, None if token is None else token.get_secret_value()
        )
    if email is None and sms is None:
        raise ConfigurationError(
            "GATEWAY_NOTIFIER=direct needs GATEWAY_SMTP_HOST and/or GATEWAY_SMS_WEBHOOK_URL"
        )
    return ByChannel(email, sms)
