"""The plain-language summary at the top of a certificate page, made from what it signs.

A customer reads three things first: what was erased, what was kept (until when, and
why), and where to complain. Each sentence here is computed from the signed JSON of
that certificate, never written per request, so the summary cannot say more than the
evidence below it; the technical evidence follows it on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.privacy.notify.voice import Voice
from gateway.privacy.web.texts import TEXT


@dataclass(frozen=True, slots=True)
class Kept:
    records: int
    categories: list[str]  # labels in the reader's language
    readable_by: list[str]  # role names
    until: str  # a readable time
    because: str  # the rule's legal basis, as signed


@dataclass(frozen=True, slots=True)
class Summary:
    erased: str
    key_destroyed: str | None
    kept: list[Kept]
    contact: str | None  # the shop's, to ask first; the authorities come after
    systems: str | None = None  # the other systems of the map the erasure reached


def summarise(cert: Mapping[str, Any], lang: str, voice: Voice) -> Summary:
    t = TEXT[lang]
    steps = {step.get("step"): step for step in cert.get("steps", [])}
    orders = steps.get("orders", {})
    deleted = int(orders.get("records_deleted", 0))
    anonymised = int(orders.get("records_anonymised", 0))
    erased = t["sum_erased"].format(n=deleted + anonymised)
    if anonymised:
        erased += " " + t["sum_anonymised"].format(n=anonymised)
    still_open = int(orders.get("open_orders", 0))
    if still_open:
        erased += " " + t["sum_open"].format(n=still_open)
    keys = int(steps.get("data_key", {}).get("records", 0))
    kept = [
        Kept(
            records=int(entry["records"]),
            categories=[t.get(f"category.{c}", c) for c in entry.get("categories_kept", [])],
            readable_by=list(entry.get("readable_by", [])),
            until=voice.time(entry.get("until"), lang),
            because=str(entry.get("citation") or "–"),
        )
        for entry in cert.get("retained", [])
        if int(entry.get("records", 0)) > 0
    ]
    reached = [
        str(entry["name"])
        for entry in cert.get("systems", [])
        if entry.get("method") != "gateway" and entry.get("result") in {"erased", "anonymised"}
    ]
    return Summary(
        erased=erased,
        key_destroyed=t["sum_key"] if keys else None,
        kept=kept,
        contact=voice.controller.contact,
        systems=t["sum_systems"].format(n=len(reached), names=t["list_sep"].join(reached))
        if reached
        else None,
    )
