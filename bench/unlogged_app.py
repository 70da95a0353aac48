"""The gateway with its audit log replaced by one that writes nothing: the baseline that
`read_path.py` compares the logged read path against. Bench only; the product has no
switch that turns the log off."""

from __future__ import annotations

from litestar import Litestar

import gateway.app
from audit.entry import Draft, Entry
from audit.log import AuditLog


class UnloggedAuditLog(AuditLog):
    async def append(self, draft: Draft) -> Entry:
        return Entry.from_draft(0, draft)


def create_app() -> Litestar:
    gateway.app.AuditLog = UnloggedAuditLog  # type: ignore[misc]
    return gateway.app.create_app()
