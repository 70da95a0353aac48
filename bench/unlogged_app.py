"""The gateway with its audit log off: the baseline `read_path.py` compares the logged read
path against. Nothing is built or written for the log (no entry, no pseudonyms), so
the difference is the whole cost of logging. Bench only: the product has no switch
that turns the log off."""

from __future__ import annotations

from typing import Any

from litestar import Litestar

import gateway.app
import gateway.services
from audit import Entry
from gateway.accesslog import AccessLog

_NOTHING = Entry(0, "", "", "", "", "", (), (), {}, None, None, None, None, {}, "")


class UnloggedAccessLog(AccessLog):
    async def record(self, *args: Any, **kwargs: Any) -> Entry:
        return _NOTHING


def create_app() -> Litestar:
    # build_services (gateway.services) makes the access log: swap the class it uses.
    gateway.services.AccessLog = UnloggedAccessLog  # type: ignore[misc]
    return gateway.app.create_app()
