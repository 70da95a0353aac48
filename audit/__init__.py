"""Tamper-evident access log (hash chain, signed checkpoints, offline verification).

A library of its own: it must never import from `gateway/` or know about orders or
HTTP. Empty until the audit-log issue lands; the package exists so the layout and
the import direction are fixed from the start.
"""

__all__: list[str] = []
