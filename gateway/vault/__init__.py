"""The vault: an existing store's personal columns moved into the gateway's encrypted
records, with tokens left in their cells (mode 2 of fronting an existing store).
"""

from gateway.vault.plan import VaultPlan, plan_of
from gateway.vault.reads import RESTRICTED as VAULT_RESTRICTED
from gateway.vault.reads import SUBJECT as VAULT_SUBJECT
from gateway.vault.reads import Lookup, VaultReads
from gateway.vault.requests import erase as erase_records
from gateway.vault.requests import match_order, open_copy, order_numbers, still_open, tokens_in
from gateway.vault.routes import VaultController
from gateway.vault.service import Summary, Vault, unfit
from gateway.vault.tables import vault_records, vault_walks
from gateway.vault.tokens import is_token, new_token
from gateway.vault.walks import Step

__all__ = [
    "VAULT_RESTRICTED",
    "VAULT_SUBJECT",
    "Lookup",
    "Step",
    "Summary",
    "Vault",
    "VaultController",
    "VaultPlan",
    "VaultReads",
    "erase_records",
    "is_token",
    "match_order",
    "new_token",
    "open_copy",
    "order_numbers",
    "plan_of",
    "still_open",
    "tokens_in",
    "unfit",
    "vault_records",
    "vault_walks",
]
