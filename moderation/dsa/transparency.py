"""The counts a transparency report needs (DSA Art. 15(1) and 24(1)), over any range of whole UTC days.

Every script that restricts a comment, files or decides a notice or an appeal, or suspends or bans an
author adds to its day's counts in the same step; the report sums the days asked for, so no
comment needs to be kept (or read) to report on it, and rejected spam dropped by retention still
counts.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, timedelta
from typing import Any

from redis import Redis

from moderation.keys import Keys

MAX_DAYS = 3 * 366  # a report covers a year or so (Art. 15: at least once a year); three, at most


def _days(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def _median_hours(values: list[str]) -> float | None:
    seconds = [int(value) for value in values]
    return round(statistics.median(seconds) / 3600, 2) if seconds else None


def report(redis: Redis, keys: Keys, start: date, end: date) -> dict[str, Any]:
    """The counts from `start` to `end`, both days included."""
    days = _days(start, end)
    pipe = redis.pipeline(transaction=False)
    for day in days:
        pipe.hgetall(keys.dsa_day(day))
        pipe.lrange(keys.dsa_durations(day, "notice"), 0, -1)
        pipe.lrange(keys.dsa_durations(day, "appeal"), 0, -1)
    replies = pipe.execute()
    counts: Counter[str] = Counter()
    notice_seconds: list[str] = []
    appeal_seconds: list[str] = []
    for i in range(len(days)):
        counts.update({field: int(value) for field, value in replies[3 * i].items()})
        notice_seconds += replies[3 * i + 1]
        appeal_seconds += replies[3 * i + 2]

    def prefixed(prefix: str) -> dict[str, int]:
        return {field.removeprefix(prefix): value for field, value in sorted(counts.items())
                if field.startswith(prefix)}

    notices = prefixed("notices:")
    trusted = notices.pop("trusted_flagger", 0)
    automated = prefixed("restricted:automated:")
    human = prefixed("restricted:human:")
    decisions = prefixed("notice_decisions:")
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "notices": {
            "received": sum(notices.values()),
            "by_category": notices,
            "from_trusted_flaggers": trusted,
            "decisions": decisions,
            "acted_on": sum(value for key, value in decisions.items() if key.endswith(":remove")),
            "median_hours_to_decision": _median_hours(notice_seconds),
        },
        "actions": {
            "total": sum(automated.values()) + sum(human.values()),
            "by_moderators": human,
            "automated": automated,
            "detected_by_automated_means": counts["detected:automated"] + sum(automated.values()),
            "decided_by_automated_means": sum(automated.values()),
            "reversed": counts["reversed"],
        },
        "appeals": {
            "received": counts["appeals:received"],
            "upheld": counts["appeals:upheld"],
            "reversed": counts["appeals:reversed"],
            "median_hours_to_decision": _median_hours(appeal_seconds),
        },
        "authors": {
            "suspended": counts["standing:suspended"],
            "banned": counts["standing:banned"],
            "premoderated": counts["standing:premoderated"],
        },
    }


def rows(found: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The report flattened to (measure, value) rows, for CSV: `notices.by_category.violence`, 3."""
    out: list[tuple[str, str]] = []
    for name, value in found.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            out += rows(value, path + ".")
        else:
            out.append((path, "" if value is None else str(value)))
    return out
