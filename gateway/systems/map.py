"""The systems map (`policies/systems.toml`): every system that holds customer data.

A whole-chain erasure or copy reaches each system here, so the map is reviewed like
the policy and checked at start-up against the classification (categories) and the
retention rules. A field of an unknown category, a dataset with no field that
identifies a subject, or a kept field without a known rule stops the gateway with the
file, line and reason: such a map would leave data behind without anyone seeing it.
A personal field with no erasure treatment does not stop it; it is a *gap*, which
`gaps()` names (and the reports show), so a map can be written step by step.

The gateway's own order store is one system of the map too, generated from the
classification (`own_store`), never written by hand.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.core.errors import ConfigurationError
from gateway.disclosure import Classification

SYSTEMS_FILE = "systems.toml"
OWN_STORE = "gateway"  # the key of the generated system: the gateway's own order store
Identity = Literal["phone", "email", "order_number", "customer_id", "resident_id"]
Treatment = Literal["delete_row", "null", "mask", "keep"]
# What a request proves about its subject (the contact verified with a code, the order
# numbers in scope): a dataset found by nothing of these can never be reached.
PROVABLE: frozenset[str] = frozenset({"phone", "email", "order_number"})
_KEY = r"^[a-z][a-z0-9_]{0,39}$"
_DATASET_AT = 3  # systems.<key>.datasets.<name>: where a dataset's name is in an error
_FIELD_AT = 5  # ... .fields.<index>: where a field's index is


class MappedField(BaseModel):
    """One field of a dataset: what it holds, whether it names the subject, and what an
    erasure does to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    category: str
    identifies: Identity | None = None
    erase: Treatment | None = None
    rule: str | None = None  # the retention rule of `erase = "keep"`


class Dataset(BaseModel):
    """A table, collection or endpoint of a system."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    fields: list[MappedField] = Field(min_length=1)

    @property
    def identities(self) -> list[MappedField]:
        return [f for f in self.fields if f.identifies is not None]


_COLUMN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"  # a table's or column's name: nothing to escape
_COLUMN_REF = r"^(customers\.)?[A-Za-z_][A-Za-z0-9_]{0,63}$"


class CustomersTable(BaseModel):
    """The existing store's customers, joined to its orders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(pattern=_COLUMN)
    key: str = Field(pattern=_COLUMN)  # the customers table's key column
    order_column: str = Field(pattern=_COLUMN)  # the orders column that names it


class LinesTable(BaseModel):
    """The existing store's order lines (the document's `items`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(pattern=_COLUMN)
    order_column: str = Field(pattern=_COLUMN)  # the lines column naming the order's key
    order_by: str = Field(pattern=_COLUMN)
    columns: dict[Literal["sku", "name", "quantity", "unit_price"], str] = Field(min_length=4)


class OrderSource(BaseModel):
    """How an existing order store's tables make the gateway's order document, for
    serving it read-through (`GATEWAY_ORDER_SOURCE`): which column is which field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(pattern=_COLUMN)
    key: str = Field(pattern=_COLUMN)  # an integer key: it travels inside the order_id
    # Document path -> column of the orders table, or `customers.<column>`.
    columns: dict[str, str] = Field(min_length=1)
    # The store's own status values -> the gateway's statuses (as they are, if absent).
    statuses: dict[str, str] = Field(default_factory=dict)
    # Rows the store keeps but that are not orders any more (`{ is_deleted = 1 }`).
    hidden_when: dict[str, int | str] = Field(default_factory=dict)
    # The zone of the store's times without one (an OMS in Shanghai: "Asia/Shanghai").
    time_zone: str = "UTC"
    customers: CustomersTable | None = None
    lines: LinesTable | None = None


class VaultOptions(BaseModel):
    """How the vault follows an existing store's own writes (`vault follow`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Table -> a column the store's own system sets on every insert and update (an
    # `updated_time`): rows it changes are seen again. Without one, only new rows
    # (keys beyond the last seen) are followed.
    watermarks: dict[
        Annotated[str, Field(pattern=_COLUMN)], Annotated[str, Field(pattern=_COLUMN)]
    ] = Field(default_factory=dict)
    batch: int = Field(default=500, ge=1, le=10_000)


class System(BaseModel):
    """A system that holds customer data, who answers for it, where it is, and how the
    gateway reaches it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    purpose: str = Field(min_length=3)
    # None only for the gateway's own store when the map does not say where it runs.
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    connector: Literal["gateway", "sql", "webhook", "manual"]
    datasets: dict[str, Dataset] = Field(min_length=1)
    # Hours from the start of a request within which this system must have done its
    # part (it never goes past the request's own target); a system failing or silent
    # past it blocks the request for a DPO at once instead of being retried.
    deadline_hours: int | None = Field(default=None, ge=1, le=24 * 90)
    # The principal (its bearer token's name) who may record a manual system's part
    # besides a DPO: the person the map names as `owner`, signed in as themselves.
    owner_principal: str | None = Field(default=None, min_length=1, max_length=100)
    # An existing order store the gateway can serve read-through (a SQL system only).
    orders: OrderSource | None = None
    # Moving the order source's personal columns into the vault (mode 2).
    vault: VaultOptions | None = None


class _OwnStore(BaseModel):
    """Where the gateway's own store runs, and who answers for it: facts the code
    cannot know, so the map states them (reviewed) rather than the code assuming."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str = Field(pattern=r"^[A-Z]{2}$")
    owner: str = Field(default="Data protection officer", min_length=1)


class _SystemsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    own_store: _OwnStore | None = None
    systems: dict[str, System] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Gap:
    """A personal field whose erasure the map does not say: named, not fatal."""

    system: str
    dataset: str
    field: str
    category: str


@dataclass(frozen=True, slots=True)
class SystemsMap:
    """Every system, the gateway's own store first."""

    systems: Mapping[str, System]
    personal: frozenset[str]  # the personal categories, for gaps

    def gaps(self) -> list[Gap]:
        return [
            Gap(key, name, f.name, f.category)
            for key, system in self.systems.items()
            for name, dataset in system.datasets.items()
            for f in dataset.fields
            if f.category in self.personal and f.erase is None
        ]

    def unplaced(self) -> list[str]:
        """Systems whose country the map does not state (only the own store can be)."""
        return [key for key, system in self.systems.items() if system.country is None]


def own_store(
    classification: Classification,
    country: str | None = None,
    owner: str = "Data protection officer",
) -> System:
    """The gateway's own store as the map shows it, from the classification: every
    personal field is crypto-shredded with its subject's key (`null`), the order
    reference and the contact identify the subject."""
    identities: dict[str, Identity] = {
        "external_id": "order_number",
        "customer.phone": "phone",
        "customer.email": "email",
        "customer.id_number": "resident_id",
    }
    fields = [
        MappedField(
            name=path,
            category=field.category,
            identifies=identities.get(path),
            erase="null" if classification.categories[field.category].personal else None,
        )
        for path, field in sorted(classification.fields.items())
    ]
    return System(
        name="Order Privacy Gateway order store",
        owner=owner,
        purpose="orders from every sales channel, read only through the gateway",
        country=country,
        connector="gateway",
        datasets={"orders": Dataset(description="orders and order lines", fields=fields)},
    )


def load_map(
    policy_dir: Path,
    classification: Classification,
    retention_rules: Collection[str],
) -> SystemsMap:
    """The map in `policy_dir` (none: the gateway's own store alone), checked; raise
    `ConfigurationError` naming the file, line and reason of every bad entry."""
    personal = frozenset(n for n, c in classification.categories.items() if c.personal)
    path = policy_dir / SYSTEMS_FILE
    if not path.is_file():
        return SystemsMap({OWN_STORE: own_store(classification)}, personal)
    text = path.read_text(encoding="utf-8")
    try:
        raw = _SystemsFile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"systems map {path}: {exc}") from None
    except ValidationError as exc:
        problems = [_shape_problem(text, error["loc"], error["msg"]) for error in exc.errors()]
        raise ConfigurationError(f"systems map {path}: " + "; ".join(problems)) from None
    problems = []
    stated = raw.own_store
    own = {
        OWN_STORE: own_store(classification)
        if stated is None
        else own_store(classification, stated.country, stated.owner)
    }
    for key, system in raw.systems.items():
        if system.country is None:
            problems.append(f"line {_line(text, key)}: system {key!r}: no country")
        if not re.match(_KEY, key) or key == OWN_STORE:
            problems.append(
                f"line {_line(text, key)}: system {key!r}: a key is lower-case letters, "
                f"digits and _ ({OWN_STORE!r} is the gateway's own store, generated)"
            )
        if system.owner_principal is not None and system.connector != "manual":
            problems.append(
                f"line {_line(text, key)}: system {key!r}: owner_principal only goes with "
                'connector = "manual" (a person records what was done)'
            )
        if system.orders is not None:
            problems += _source_problems(text, key, system, classification)
        for name, dataset in system.datasets.items():
            problems += _dataset_problems(text, key, name, dataset, classification, retention_rules)
    if problems:
        raise ConfigurationError(f"systems map {path}: " + "; ".join(problems))
    return SystemsMap({**own, **raw.systems}, personal)


def _dataset_problems(
    text: str,
    system: str,
    name: str,
    dataset: Dataset,
    classification: Classification,
    rules: Collection[str],
) -> list[str]:
    where = f"system {system!r}, dataset {name!r}"
    problems = []
    if not dataset.identities:
        problems.append(
            f"line {_line(text, system, name)}: {where} has no field that identifies a "
            'subject (give one `identifies = "phone"`, email, order_number, customer_id '
            "or resident_id)"
        )
    elif not any(f.identifies in PROVABLE for f in dataset.identities):
        problems.append(
            f"line {_line(text, system, name)}: {where} finds subjects only by "
            + ", ".join(sorted({str(f.identifies) for f in dataset.identities}))
            + ", which no request proves: map the field that holds the phone, e-mail "
            "or order number too (a request proves its verified contact and its orders)"
        )
    for f in dataset.fields:
        at = f"line {_line(text, system, name, f.name)}: {where}, field {f.name!r}"
        if f.category not in classification.categories:
            known = ", ".join(sorted(classification.categories))
            problems.append(f"{at}: unknown category {f.category!r} (known: {known})")
        if f.erase == "keep" and f.rule not in rules:
            problems.append(
                f"{at}: kept on erasure under "
                + (f"unknown retention rule {f.rule!r}" if f.rule else "no retention rule")
                + f" (known: {', '.join(sorted(rules)) or 'none'})"
            )
        if f.erase != "keep" and f.rule is not None:
            problems.append(f'{at}: a retention rule only goes with erase = "keep"')
    treatments = {f.erase for f in dataset.fields}
    if "delete_row" in treatments and "keep" in treatments:
        problems.append(
            f"line {_line(text, system, name)}: {where}: a row cannot be deleted and kept: "
            'give the kept fields "keep" and the others "null" or "mask", or delete the row'
        )
    return problems


REQUIRED_PATHS = ("external_id", "channel", "region", "status", "created_at")


def _source_problems(
    text: str, key: str, system: System, classification: Classification
) -> list[str]:
    """An order source whose mapping could not make the order document."""
    source = system.orders
    assert source is not None  # noqa: S101 - the caller checks
    at = f"line {_line(text, key)}: system {key!r}, orders"
    problems = []
    if system.connector != "sql":
        problems.append(f'{at}: an order source is read through connector = "sql"')
    paths = {p for p in classification.fields if not p.startswith("items.")}
    for path, column in sorted(source.columns.items()):
        if path not in paths or path == "order_id":
            problems.append(f"{at}: {path!r} is not a field of the order document")
        if not re.match(_COLUMN_REF, column):
            problems.append(f"{at}: {path!r} names {column!r}, not a column")
        elif column.startswith("customers.") and source.customers is None:
            problems.append(f"{at}: {path!r} reads the customers table, which is not mapped")
    missing = [p for p in REQUIRED_PATHS if p not in source.columns]
    if missing:
        problems.append(f"{at}: no column for {', '.join(missing)} (every order has them)")
    for column in source.hidden_when:
        if not re.match(_COLUMN, column):
            problems.append(f"{at}: hidden_when names {column!r}, not a column")
    try:
        ZoneInfo(source.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{at}: time_zone {source.time_zone!r} is not an IANA time zone")
    return problems


def _shape_problem(text: str, loc: tuple[int | str, ...], message: str) -> str:
    """A validation error where the file has it: systems.<key>.datasets.<name>.fields.<i>."""
    parts = [str(p) for p in loc]
    system = parts[1] if parts[:1] == ["systems"] and len(parts) > 1 else None
    in_dataset = parts[2:3] == ["datasets"] and len(parts) > _DATASET_AT
    dataset = parts[_DATASET_AT] if in_dataset else None
    line = _line(text, *(p for p in (system, dataset) if p is not None)) if system else 1
    if dataset is not None and parts[4:5] == ["fields"] and len(parts) > _FIELD_AT:
        line = _nth_entry(text, line, int(parts[_FIELD_AT]))
    return f"line {line}: {'.'.join(parts)}: {message}"


def _nth_entry(text: str, header_line: int, index: int) -> int:
    """The line of the `index`-th `{ name = ... }` entry after a dataset's header."""
    lines = text.splitlines()
    seen = -1
    for i in range(header_line, len(lines)):
        if lines[i].lstrip().startswith("["):
            break
        if re.search(r"\bname\s*=", lines[i]):
            seen += 1
            if seen == index:
                return i + 1
    return header_line


def _line(text: str, system: str, dataset: str | None = None, field: str | None = None) -> int:
    """The line of a system's table, a dataset's, or a field's entry in it (1 if not
    found: the message still names what is wrong)."""
    header = f"[systems.{system}" + (f".datasets.{dataset}" if dataset else "") + "]"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == header), None)
    if start is None:
        return 1
    if field is None:
        return start + 1
    entry = re.compile(r"name\s*=\s*" + re.escape(f'"{field}"'))
    for i in range(start + 1, len(lines)):
        if lines[i].lstrip().startswith("[") and not lines[i].lstrip().startswith("[["):
            break
        if entry.search(lines[i]):
            return i + 1
    return start + 1
