"""Imports every capability's tables so the one `metadata` is complete (for Alembic)."""

from gateway.auth.factor_store import totp_factors
from gateway.auth.store import principals
from gateway.console import console_sessions
from gateway.core.db import metadata
from gateway.core.ratelimits import rate_limits
from gateway.orders.tables import order_items, orders
from gateway.privacy.model.chain import privacy_system_steps
from gateway.privacy.model.store import (
    outbox,
    privacy_holds,
    privacy_objections,
    privacy_requests,
    privacy_scope,
    privacy_steps,
)
from gateway.reports.archive import report_archive
from gateway.reveal.store import unmask_grants
from gateway.subjects.store import (
    data_subjects,
    key_checks,
    subject_identifiers,
    subject_keys,
    subject_links,
)
from gateway.vault import vault_records, vault_walks

__all__ = [
    "console_sessions",
    "data_subjects",
    "key_checks",
    "metadata",
    "order_items",
    "orders",
    "outbox",
    "principals",
    "privacy_holds",
    "privacy_objections",
    "privacy_requests",
    "privacy_scope",
    "privacy_steps",
    "privacy_system_steps",
    "rate_limits",
    "report_archive",
    "subject_identifiers",
    "subject_keys",
    "subject_links",
    "totp_factors",
    "unmask_grants",
    "vault_records",
    "vault_walks",
]
