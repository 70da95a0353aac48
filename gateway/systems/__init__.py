"""The systems map: every system that holds customer data, for whole-chain requests
(`policies/systems.toml`, with the gateway's own store generated into it).
"""

from gateway.systems.map import (
    OWN_STORE,
    Dataset,
    Gap,
    MappedField,
    System,
    SystemsMap,
    load_map,
    own_store,
)

__all__ = [
    "OWN_STORE",
    "Dataset",
    "Gap",
    "MappedField",
    "System",
    "SystemsMap",
    "load_map",
    "own_store",
]
