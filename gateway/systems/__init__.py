"""The systems map: every system that holds customer data, for whole-chain requests
(`policies/systems.toml`, with the gateway's own store generated into it), and the
connectors that reach each system (SQL, webhook, manual; one file each, one
registry).
"""

from gateway.systems import manual, signing, sql, webhook
from gateway.systems.connections import FileConnections
from gateway.systems.connector import (
    Connections,
    Connector,
    ConnectorFailed,
    Job,
    Outcome,
    connector_for,
    methods,
)
from gateway.systems.identities import IDENTITIES, Identities, normalise
from gateway.systems.map import (
    OWN_STORE,
    CustomersTable,
    Dataset,
    Gap,
    Identity,
    LinesTable,
    MappedField,
    OrderSource,
    System,
    SystemsMap,
    VaultOptions,
    load_map,
    own_store,
)
from gateway.systems.signing import BadSignature
from gateway.systems.signing import verify as verify_signature
from gateway.systems.sql import MASK, async_url, identity_equals
from gateway.systems.webhook import (
    MAX_ANSWER_BYTES,
    Answer,
    check_answer,
    outcome_of,
    read_answer,
)

__all__ = [
    "IDENTITIES",
    "MASK",
    "MAX_ANSWER_BYTES",
    "OWN_STORE",
    "Answer",
    "BadSignature",
    "Connections",
    "Connector",
    "ConnectorFailed",
    "CustomersTable",
    "Dataset",
    "FileConnections",
    "Gap",
    "Identities",
    "Identity",
    "Job",
    "LinesTable",
    "MappedField",
    "OrderSource",
    "Outcome",
    "System",
    "SystemsMap",
    "VaultOptions",
    "async_url",
    "check_answer",
    "connector_for",
    "identity_equals",
    "load_map",
    "manual",
    "methods",
    "normalise",
    "outcome_of",
    "own_store",
    "read_answer",
    "signing",
    "sql",
    "verify_signature",
    "webhook",
]
