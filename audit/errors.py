"""The errors of the audit library: one base, so a caller can catch the library's own."""

from __future__ import annotations


class AuditError(Exception):
    """Base of every error the audit library raises on purpose."""
