"""The manual connector: for a system nobody can automate (a paper archive, a partner
without an API).

The gateway cannot act there, so the step waits: the register shows the task to the
DPO and to the system's named owner, and the request goes on only once one of them
records what was done, when, and a reference (`POST .../systems/{system}/complete`).
The record is the evidence the certificate carries.
"""

from __future__ import annotations

from gateway.systems.connector import Connections, Job, Outcome, register
from gateway.systems.map import System


class ManualConnector:
    """A system whose part a person does."""

    method = "manual"

    def __init__(self, key: str, system: System, connections: Connections) -> None:
        self._key = key
        self._system = system

    def _task(self, job: Job, verb: str) -> Outcome:
        datasets = sorted(self._system.datasets)
        fields = [f for d in self._system.datasets.values() for f in d.identities]
        kinds = sorted({f.identifies for f in fields if f.identifies is not None})
        return Outcome(
            "waiting",
            {
                "method": self.method,
                "task": f"{verb} the subject's records in {', '.join(datasets)}, found by "
                f"{', '.join(kinds)}, then record what was done and a reference",
                "owner": self._system.owner,
            },
        )

    async def erase(self, job: Job) -> Outcome:
        return self._task(job, "erase")

    async def export(self, job: Job) -> Outcome:
        return self._task(job, "copy")

    async def rescan(self, job: Job) -> dict[str, int] | None:
        return None  # only the person who did it can look

    async def check(self) -> list[str]:
        return []

    async def close(self) -> None:
        return None


@register("manual")
def _manual(key: str, system: System, connections: Connections) -> ManualConnector:
    return ManualConnector(key, system, connections)
