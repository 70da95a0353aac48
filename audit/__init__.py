"""Tamper-evident log: a hash chain of entries, signed checkpoints, offline verification.

A library of its own: it knows nothing of orders or HTTP, and imports nothing from
`gateway/` (an import contract checks it). Use it through this face:

- `AuditLog` appends `Draft`s with group commit and signs `Checkpoint`s;
- `verify` (or a `Verifier`, fed step by step) checks entries and checkpoints and names
  the first bad entry in its `Report`;
- `export_lines` and `verify_export` write and check a JSON Lines export offline
  (its `ExportReport` says whether a file was cut short, and where the rest begins);
- `create_schema` or `append_only_statements_v1` set up the tables and the database
  rules that refuse rewrites.

Failures of the log itself (it cannot be written, a file is not an export) are
`AuditError`s; a caller's mistake (a time without a zone, an unsupported database) is
a `ValueError`.
"""

from audit.checkpoint import (
    Checkpoint,
    checkpoint_from_document,
    key_id,
    public_key_pem,
    sign,
)
from audit.entry import GENESIS_HASH, Draft, Entry, Outcome, chain_hash, format_time
from audit.errors import AuditError
from audit.export import ExportError, ExportReport, export_lines, verify_export
from audit.log import AuditLog, InvalidDraft, LogPolicy, LogUnavailable
from audit.schema import append_only_statements_v1, drop_statements_v1
from audit.schema import create as create_schema
from audit.store import (
    SNAPSHOT_OPTION,
    EventFilter,
    audit_checkpoints,
    audit_entries,
    audit_head,
    audit_refs,
    hash_at,
    metadata,
    query,
    seq_bounds,
    snapshot,
)
from audit.verify import Report, Verifier, verify

__all__ = [
    "GENESIS_HASH",
    "SNAPSHOT_OPTION",
    "AuditError",
    "AuditLog",
    "Checkpoint",
    "Draft",
    "Entry",
    "EventFilter",
    "ExportError",
    "ExportReport",
    "InvalidDraft",
    "LogPolicy",
    "LogUnavailable",
    "Outcome",
    "Report",
    "Verifier",
    "append_only_statements_v1",
    "audit_checkpoints",
    "audit_entries",
    "audit_head",
    "audit_refs",
    "chain_hash",
    "checkpoint_from_document",
    "create_schema",
    "drop_statements_v1",
    "export_lines",
    "format_time",
    "hash_at",
    "key_id",
    "metadata",
    "public_key_pem",
    "query",
    "seq_bounds",
    "sign",
    "snapshot",
    "verify",
    "verify_export",
]
