"""Documents the log's API answers with (search pages are streamed as built)."""

from __future__ import annotations

from pydantic import Field

from gateway.core.http import Answer


class ChainHead(Answer):
    seq: int
    hash: str
    at: str


class SignedCheckpoint(Answer):
    seq: int
    head: str = Field(description="The hash of entry `seq`.")
    at: str
    key_id: str
    signature: str = Field(description="Ed25519, base64.")


class LogVerification(Answer):
    """The outcome of verifying the chain and its checkpoints."""

    ok: bool
    entries_checked: int
    head: ChainHead | None
    last_checkpoint: SignedCheckpoint | None
    first_bad_sequence: int | None = Field(description="The first entry that fails, if any.")
    reason: str
