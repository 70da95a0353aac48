"""Documents the log's API answers with (search pages are streamed as built)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChainHead(_Out):
    seq: int
    hash: str
    at: str


class SignedCheckpoint(_Out):
    seq: int
    head: str = Field(description="The hash of entry `seq`.")
    at: str
    key_id: str
    signature: str = Field(description="Ed25519, base64.")


class LogVerification(_Out):
    """The outcome of verifying the chain and its checkpoints."""

    ok: bool
    entries_checked: int
    head: ChainHead | None
    last_checkpoint: SignedCheckpoint | None
    first_bad_sequence: int | None = Field(description="The first entry that fails, if any.")
    reason: str
