"""Unmask grants: a fresh second factor and a stated purpose buy a short-lived grant."""

from gateway.reveal.grants import Grants
from gateway.reveal.routes import GrantController
from gateway.reveal.store import delete_grants_of

__all__ = ["GrantController", "Grants", "delete_grants_of"]
