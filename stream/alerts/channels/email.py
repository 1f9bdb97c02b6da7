"""Email over SMTP: STARTTLS and login when configured, a plain-text and an HTML body."""

from __future__ import annotations

import html
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from pydantic import SecretStr

from stream.alerts.channels.base import AlertGroup, DeliveryError
from stream.alerts.channels.text import describe, plain_text, subject

__all__ = ["EmailNotifier"]


class EmailNotifier:
    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: tuple[str, ...],
        user: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = True,
        timeout_s: float = 10.0,
    ) -> None:
        if not recipients:
            raise ValueError("email needs at least one recipient")
        self.host, self.port, self.sender, self.recipients = host, port, sender, recipients
        self.user, self._password, self.starttls, self.timeout_s = (
            user,
            password,
            starttls,
            timeout_s,
        )

    def __repr__(self) -> str:  # never the password
        return f"EmailNotifier({self.host}:{self.port}, to={len(self.recipients)})"

    def render(self, group: AlertGroup) -> dict[str, Any]:
        blocks = []
        for item in group.items:
            status = item.status.upper()
            links = "".join(
                f'<li><a href="{html.escape(h.url or item.dashboard_url)}">'
                f"{html.escape(h.title)}</a> <small>{html.escape(h.source)}</small></li>"
                for h in item.headlines
            )
            blocks.append(
                f"<h3>{status}: {html.escape(item.key)}</h3>"
                f"<p>{html.escape(describe(group, item))}</p>"
                + (f"<ul>{links}</ul>" if links else "")
                + f'<p><a href="{html.escape(item.dashboard_url)}">Open in the dashboard</a></p>'
            )
        body_html = (
            f"<html><body><h2>{html.escape(group.rule)} ({html.escape(group.severity)})</h2>"
            f"<p>{html.escape(group.description)}</p>{''.join(blocks)}"
            f'<p><a href="{html.escape(group.alerts_url)}">All alerts</a></p></body></html>'
        )
        return {
            "subject": subject(group),
            "from": self.sender,
            "to": list(self.recipients),
            "text": plain_text(group),
            "html": body_html,
        }

    def send(self, payload: dict[str, Any]) -> None:
        message = EmailMessage()
        message["Subject"] = payload["subject"]
        message["From"] = payload["from"]
        message["To"] = ", ".join(payload["to"])
        message.set_content(payload["text"])
        message.add_alternative(payload["html"], subtype="html")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.user:
                    password = self._password.get_secret_value() if self._password else ""
                    smtp.login(self.user, password)
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            # the server's reply code and text: no credential is ever echoed in them
            error = exc.smtp_error
            reply = (error.decode("utf-8", "replace") if isinstance(error, bytes) else error)[:200]
            raise DeliveryError(f"email: SMTP {exc.smtp_code} {reply}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"email: {type(exc).__name__}: {exc}"[:300]) from None
