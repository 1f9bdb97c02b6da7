"""POST a JSON payload; the URL is a secret (Slack's carries its token), so errors omit it."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from stream.alerts.channels.base import DeliveryError

__all__ = ["post_json"]


def post_json(channel: str, url: SecretStr, payload: dict[str, Any], timeout_s: float) -> None:
    try:
        response = httpx.post(url.get_secret_value(), json=payload, timeout=timeout_s)
    except httpx.HTTPError as exc:
        # httpx messages may quote the URL: name the failure only
        raise DeliveryError(f"{channel}: {type(exc).__name__}") from None
    if not response.is_success:
        raise DeliveryError(f"{channel}: HTTP {response.status_code}")
