"""The systems map: every system that holds customer data, for whole-chain requests
(`policies/systems.toml`, with the gateway's own store generated into it), and the
connectors that reach each system (SQL, manual; one file each, one registry).
"""

from gateway.systems import manual, sql
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
from gateway.systems.identities import IDENTITIES, Identities
from gateway.systems.map import (
    OWN_STORE,
    Dataset,
    Gap,
    Identity,
    MappedField,
    System,
    SystemsMap,
    load_map,
    own_store,
)

__all__ = [
    "IDENTITIES",
    "OWN_STORE",
    "Connections",
    "Connector",
    "ConnectorFailed",
    "Dataset",
    "FileConnections",
    "Gap",
    "Identities",
    "Identity",
    "Job",
    "MappedField",
    "Outcome",
    "System",
    "SystemsMap",
    "connector_for",
    "load_map",
    "manual",
    "methods",
    "own_store",
    "sql",
]
