"""Wording shared by the channels: one line per alert, durations, metric values."""

from __future__ import annotations

from stream.alerts.channels.base import AlertGroup, AlertItem

__all__ = ["describe", "duration", "plain_text", "subject", "value_text", "window_text"]

_METRIC_NAMES = {
    "negative_share": "negative share",
    "mean_score": "mean signed score",
    "negative_count": "negative articles",
    "article_count": "articles",
    "drift_psi": "model drift PSI",
}


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def window_text(window_s: int) -> str:
    return duration(window_s)


def value_text(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if metric == "negative_share":
        return f"{value:.0%}"
    if metric in ("negative_count", "article_count"):
        return f"{value:.0f}"
    if metric == "drift_psi":
        return f"{value:.3f}"
    return f"{value:+.2f}"


def describe(group: AlertGroup, item: AlertItem) -> str:
    """``TSLA: negative articles 18 over the last 2 min (baseline 4.0, ratio 4.5x, 24 articles)``"""
    d = item.details
    metric = _METRIC_NAMES.get(group.metric, group.metric)
    text = f"{item.key}: {metric} {value_text(group.metric, item.value)}"
    text += f" over the last {window_text(group.window_s)}"
    extra = []
    if d.get("condition") == "spike" and d.get("baseline") is not None:
        extra.append(f"baseline {value_text(group.metric, d['baseline'])}")
        ratio = d.get("ratio")
        extra.append(f"ratio {ratio:.1f}x" if ratio is not None else "ratio inf")
    elif d.get("condition") == "zscore" and d.get("z") is not None:
        extra.append(f"z {d['z']:+.1f} vs mean {value_text(group.metric, d.get('mean'))}")
    elif d.get("condition") == "threshold":
        if d.get("worst"):
            extra.append(f"worst: {d['worst']}")  # drift: which statistic moved most
        extra.append(f"threshold {d.get('op')} {value_text(group.metric, d.get('threshold'))}")
    elif d.get("condition") == "nodata":
        text = (
            f"{item.key}: {d.get('volume', 0)} articles in the last {window_text(group.window_s)}"
        )
    if d.get("volume") is not None and d.get("condition") != "nodata":
        extra.append(f"{d['volume']} articles")
    if extra:
        text += f" ({', '.join(extra)})"
    if item.status == "resolved" and item.duration_s is not None:
        text += f"; resolved after {duration(item.duration_s)}"
    elif item.status == "realert" and item.duration_s is not None:
        text += f"; still firing after {duration(item.duration_s)}"
    return text


def subject(group: AlertGroup) -> str:
    keys = ", ".join(i.key for i in group.items[:5]) + (" ..." if len(group.items) > 5 else "")
    status = {"firing": "FIRING", "resolved": "RESOLVED", "mixed": "FIRING/RESOLVED"}[group.kind]
    return f"[finsent][{group.severity.upper()}] {status} {group.rule}: {keys}"


def plain_text(group: AlertGroup) -> str:
    """The message as plain text (the email's text part, the inbox's body)."""
    lines = [f"{group.rule} ({group.severity})", group.description, ""]
    for item in group.items:
        lines.append(f"[{item.status.upper()}] {describe(group, item)}")
        lines.append(f"    {item.dashboard_url}")
        lines.extend(f"    - {h.title} ({h.source}) {h.url or ''}".rstrip() for h in item.headlines)
    lines += ["", f"Window: {window_text(group.window_s)}. All alerts: {group.alerts_url}"]
    return "\n".join(lines) + "\n"
