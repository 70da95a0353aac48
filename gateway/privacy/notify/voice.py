"""Who speaks to a data subject, and how a time reads to them.

Customers deal with the shop, not with this software: every page header, notice and
certificate names the controller from the processing record, links its privacy notice
and gives its contact (`Controller`). Times are shown in the reader's zone, chosen by
the language they read in (`GATEWAY_PRIVACY_TIME_ZONES`), to the minute, with the zone
named, so "18:00" can never be misread as another zone's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

LANGUAGES = ("en", "zh")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Controller:
    """The controller as the processing record names it; any part may be missing (the
    reports flag that gap), and then nothing is made up in its place."""

    names: Mapping[str, str] = field(default_factory=dict)  # by language
    contact: str | None = None
    privacy_notice: str | None = None

    def name(self, lang: str) -> str | None:
        return self.names.get(lang) or next(iter(self.names.values()), None)


@dataclass(frozen=True, slots=True)
class Voice:
    """The controller, and the zone each language's readers read times in."""

    controller: Controller = field(default_factory=Controller)
    zones: Mapping[str, str] = field(default_factory=dict)
    public_url: str | None = None  # where customers reach /privacy (GATEWAY_PRIVACY_PUBLIC_URL)

    def zone(self, lang: str) -> ZoneInfo:
        return ZoneInfo(self.zones.get(lang, "UTC"))

    def time(self, value: datetime | str | None, lang: str) -> str:
        return readable_time(value, lang, self.zone(lang))


def readable_time(value: datetime | str | None, lang: str, zone: ZoneInfo | None = None) -> str:
    """`20 Nov 2026, 18:00 (Asia/Shanghai, UTC+8)` or `2026年11月20日 18:00（Asia/Shanghai，
    UTC+8）`; in UTC just `… 10:00 UTC`. To the minute: seconds mean nothing to a reader."""
    if value is None or value == "":
        return "–"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    zone = zone or ZoneInfo("UTC")
    local = moment.astimezone(zone)
    named = _zone_name(zone, local.utcoffset() or timedelta(0))
    if lang == "zh":
        label = "UTC" if named == "UTC" else named.replace(", ", "，")
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（{label}）"
    day = f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"
    return f"{day} UTC" if named == "UTC" else f"{day} ({named})"


def _zone_name(zone: ZoneInfo, offset: timedelta) -> str:
    if zone.key in {"UTC", "Etc/UTC", "Zulu"} or (zone.key is None and not offset):
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    utc = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    return f"{zone.key}, {utc}"
