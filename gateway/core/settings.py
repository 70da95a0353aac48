"""Typed settings, read once from `GATEWAY_*` environment variables.

Nothing else in the code base reads the environment: the one `Settings` object is
built at start-up and passed in. Bad values stop start-up with one clear line per
problem (`SettingsError`), never a traceback.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.core.errors import ConfigurationError

DEFAULT_VAR_DIR = Path("var")


def _default_zones() -> dict[Literal["en", "zh"], str]:
    return {"en": "UTC", "zh": "Asia/Shanghai"}


class Settings(BaseSettings):
    """Every setting of the gateway; the settings reference (docs) is generated from it."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the order store. Empty: the embedded SQLite "
        "file `<var_dir>/gateway.db`. `postgresql://` and `sqlite:///` URLs are "
        "given their async drivers (asyncpg, aiosqlite) automatically.",
    )
    var_dir: Path = Field(
        default=DEFAULT_VAR_DIR,
        description="Directory for the embedded default's state (SQLite file, keys, demo tokens).",
    )
    policy_dir: Path | None = Field(
        default=None,
        description="Directory holding the Casbin model, policy and field classification. "
        "Empty: the `policies/` folder shipped with the gateway.",
    )
    mode: Literal["embedded", "production"] = Field(
        default="embedded",
        description="`embedded` generates missing keys under `<var_dir>/keys` (with a "
        "warning); `production` never generates keys and refuses to start without them.",
    )
    keys_dir: Path | None = Field(
        default=None,
        description="Directory of key files (`kek-v<N>.key`, `blind-index.key`, "
        "`audit-signing.key`). Empty: `<var_dir>/keys` in embedded mode.",
    )
    keks: SecretStr | None = Field(
        default=None,
        description="Key-encryption keys as `<version>:<base64>` pairs, comma-separated; "
        "used instead of `kek-v<N>.key` files.",
    )
    kek_version: int | None = Field(
        default=None, ge=1, description="Active KEK version. Empty: the highest available."
    )
    blind_index_key: SecretStr | None = Field(
        default=None, description="Blind-index HMAC key (base64 of 32 bytes), instead of a file."
    )
    audit_signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key seed for the audit log (base64 of 32 bytes), "
        "instead of a file.",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` binds to.")
    trusted_proxies: str = Field(
        default="",
        max_length=2000,
        description="Reverse proxies whose `X-Forwarded-For` is believed: comma-separated "
        "addresses or networks (`10.0.0.5, 10.1.0.0/16`). The client is the first address "
        "from the right of that header that is not one of them. Empty (the default): "
        "nobody, the TCP peer is the client.",
    )
    port: int = Field(default=8000, ge=1, le=65535, description="Port `serve` listens on.")
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a verified bearer token is remembered in memory. "
        "A revoked token stops working after at most this long; 0 disables the cache.",
    )
    totp_issuer: str = Field(
        default="Order Privacy Gateway",
        min_length=1,
        max_length=64,
        pattern=r"^[^:]+$",
        description="Issuer name authenticator apps show beside the account (no colon).",
    )
    totp_skew_steps: int = Field(
        default=1,
        ge=0,
        le=2,
        description="Clock skew tolerated, in 30-second steps each side of now.",
    )
    totp_max_failures: int = Field(
        default=5, ge=1, le=20, description="Wrong codes in a row that lock a second factor."
    )
    totp_enrol_hours: float = Field(
        default=72,
        ge=0,
        le=24 * 365,
        description="A principal's first second factor must be enrolled within this many "
        "hours of its creation (whoever holds the token first enrols it). 0: any time.",
    )
    totp_lock_seconds: int = Field(
        default=900, ge=30, le=86_400, description="How long a locked second factor stays locked."
    )
    unmask_grant_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="Lifetime of an unmask grant (POST /v1/unmask-grants).",
    )
    console_idle_minutes: int = Field(
        default=15,
        ge=1,
        le=240,
        description="A console session unused this long ends; the DPO signs in again.",
    )
    console_session_hours: float = Field(
        default=8,
        gt=0,
        le=24,
        description="A console session ends this long after sign-in, however busy.",
    )
    audit_checkpoint_every: int = Field(
        default=1000, ge=1, le=1_000_000, description="Sign a checkpoint every N log entries."
    )
    audit_checkpoint_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="... or when this many seconds passed since the last one (if the log grew).",
    )
    audit_batch_window_ms: float = Field(
        default=0.0,
        ge=0,
        le=50,
        description="Extra wait for more entries before a group commit. 0: none (entries "
        "that arrive while a commit is in flight form the next batch anyway).",
    )
    audit_max_batch: int = Field(
        default=512, ge=1, le=10_000, description="Most log entries in one commit."
    )
    notifier: str = Field(
        default="outbox",
        pattern=r"^(outbox|direct|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$",
        description="Where codes and notices to data subjects go: `outbox` (a table; "
        "`privacy-gateway outbox` lists it), `direct` (SMTP for e-mail, an HTTP webhook "
        "for SMS) or a plug-in `module:factory`.",
    )
    smtp_host: str = Field(default="", description="SMTP server for `direct` e-mail.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    smtp_from: str = Field(default="", max_length=320, description="Sender address.")
    smtp_username: str | None = Field(default=None, description="SMTP login, if any.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=True, description="Upgrade to TLS (STARTTLS).")
    sms_webhook_url: str = Field(
        default="",
        description="SMS provider (or relay) URL for `direct` SMS: POST {to, text} as JSON.",
    )
    sms_webhook_token: SecretStr | None = Field(
        default=None, description="Bearer token sent to the SMS webhook."
    )
    privacy_target_hours: float = Field(
        default=72,
        gt=0,
        le=24 * 30,
        description="Our own target for finishing a verified erasure or access request.",
    )
    privacy_pipl_days: int = Field(
        default=15,
        ge=1,
        le=60,
        description="Deadline used for PIPL (which says 'in a timely manner'), in days from "
        "receipt. GDPR's one month (Art. 12(3)) is fixed by law.",
    )
    privacy_code_minutes: int = Field(
        default=30, ge=5, le=1440, description="Lifetime of a privacy request's one-time code."
    )
    privacy_code_max_failures: int = Field(
        default=5, ge=1, le=20, description="Wrong codes that lock a privacy request."
    )
    privacy_verify_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 30,
        description="A request not verified this long after receipt expires.",
    )
    privacy_sla_lead_hours: float = Field(
        default=12,
        ge=0,
        le=24 * 30,
        description="How long before a deadline the SLA sweeper flags a request `due_soon`.",
    )
    privacy_submit_per_hour: int = Field(
        default=10, ge=1, le=10_000, description="Privacy requests per client address per hour."
    )
    privacy_codes_per_contact_per_hour: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Codes sent to one contact per hour. Past it, submissions are still "
        "answered 202 (the answer never tells whether a contact matched) but no code is sent. "
        "Requests that match no order never count against a contact.",
    )
    privacy_verify_per_hour: int = Field(
        default=30,
        ge=1,
        le=10_000,
        description="Wrong codes per client address per hour; past it, a wrong code answers "
        "429. A correct code is always accepted (each request locks after "
        "GATEWAY_PRIVACY_CODE_MAX_FAILURES wrong codes, whoever sent them).",
    )
    privacy_cooling_off_hours: float = Field(
        default=24,
        ge=0,
        le=24 * 7,
        description="How long a verified erasure waits before it runs. The other contacts "
        "of the orders it covers are told at verification and may object until then, "
        "which puts it on hold for a DPO. 0: no wait (tests, or a store with one contact "
        "per customer).",
    )
    privacy_approval: Literal["none", "erasure", "all"] = Field(
        default="none",
        description="Which verified requests wait for a DPO's approval before they run "
        "(`POST /v1/privacy/register/{id}/approve`), as Fides' manual request approval: "
        "`erasure`, `all` (access requests too) or `none`. The legal clocks keep running "
        "while a request waits, and the SLA sweeper warns as the deadline nears.",
    )
    privacy_export_hours: int = Field(
        default=72,
        ge=1,
        le=24 * 30,
        description="How long an access request's export can be downloaded before deletion.",
    )
    privacy_worker_seconds: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="How often `serve` runs the request workflow and sweepers in-process. "
        "0: not in-process (run `privacy-gateway worker` instead).",
    )
    privacy_public_url: str | None = Field(
        default=None,
        description="Where customers reach the /privacy pages, as they would type it: "
        "`https://shop.example.com` (the gateway's public address, or the proxy's). The "
        "confirmation message links to it so a customer can come back to their request. "
        "Not set: the message names the page without a link. https only, except for "
        "localhost.",
    )
    privacy_time_zones: dict[Literal["en", "zh"], str] = Field(
        default_factory=_default_zones,
        description="The time zone a data subject reads times in, by the language they read "
        'in, as JSON of IANA zone names: `{"en": "Europe/Amsterdam", "zh": "Asia/Shanghai"}`. '
        "Used on the /privacy pages, in notices and in certificates, always with the zone "
        "named. A language left out reads UTC; an unknown zone stops start-up.",
    )
    systems_dir: Path | None = Field(
        default=None,
        description="Directory of the connection files of the systems map's systems: "
        "`<key>.url` (a SQLAlchemy URL, or a webhook's https URL) and `<key>.secret` (a "
        "webhook's HMAC key, 32 bytes or more), owner-only. Empty: `<var_dir>/systems`. "
        "Never in the map, which is reviewed and committed.",
    )
    systems_callback_url: str | None = Field(
        default=None,
        description="The gateway's address as webhook systems reach it (`https://"
        "gateway.internal`): a system that answers `202` reports completion to "
        "`<this>/v1/privacy/systems/<key>/callback`. Not set: webhook systems must "
        "answer at once. https only, except for localhost.",
    )
    systems_max_attempts: int = Field(
        default=5,
        ge=1,
        le=50,
        description="Attempts at a system of the map (with backoff: 1, 2, 4 ... minutes, "
        "at most an hour apart) before the request is blocked for a DPO, who retries it "
        "or records a manual completion.",
    )
    order_source: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Serve the orders of an existing order store read-through instead of "
        "the gateway's own: the key of a SQL system of the systems map with an "
        "`[systems.<key>.orders]` mapping, connected by `<systems_dir>/<key>.url` (give "
        "it a read-only account). Orders are then written by that store's own system; "
        "`POST /v1/orders` is refused. See the guide to fronting an existing store.",
    )
    pii_detection: bool = Field(
        default=True,
        description="Detect personal data in free text (note, gift_message) when an order is "
        "written. Off: free text is stored without detection and shown as `****` wherever "
        "the policy shows it masked (measuring only; never less safe).",
    )
    pii_ner_models: dict[Literal["zh", "en"], str] = Field(
        default_factory=dict,
        description="Optional spaCy NER models for extra PERSON results, as JSON: "
        '`{"zh": "zh_core_web_sm", "en": "/models/en"}` (an installed package or a model '
        "directory). Empty: rules only. A model that is not installed stops start-up; "
        "nothing is ever downloaded.",
    )
    search_alert_per_hour: int = Field(
        default=200,
        ge=1,
        le=100_000,
        description="Searches by phone, e-mail or id number one principal may make in an hour "
        "before the log gets an `orders.search_volume` alert entry (once per hour).",
    )
    search_limit_per_hour: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Searches one principal may make in an hour; past it, 429.",
    )
    max_page_size: int = Field(
        default=100, ge=1, le=1000, description="Upper bound of `limit` on order lists."
    )
    default_page_size: int = Field(
        default=50, ge=1, le=1000, description="`limit` when none given."
    )
    db_pool_size: int = Field(
        default=10, ge=1, le=200, description="Database connection pool size."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Application log level. Logs never carry personal data."
    )

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    "must be IP addresses or networks (CIDR), comma-separated"
                ) from None
        return value

    @field_validator("privacy_public_url", "systems_callback_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        local = parts.hostname in {"localhost", "127.0.0.1", "::1"}
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise ValueError("must be an https:// address (http:// only for localhost)")
        if not parts.hostname or parts.query or parts.fragment or "@" in parts.netloc:
            raise ValueError("must be a plain address: scheme, host, optional port and path")
        return value.strip().rstrip("/")

    @field_validator("privacy_time_zones")
    @classmethod
    def _zones(cls, value: dict[str, str]) -> dict[str, str]:
        for zone in value.values():
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"{zone!r} is not an IANA time zone name (such as Asia/Shanghai or UTC)"
                ) from None
        return value

    @property
    def trusted_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        parts = filter(None, (part.strip() for part in self.trusted_proxies.split(",")))
        return [ipaddress.ip_network(part, strict=False) for part in parts]

    @model_validator(mode="after")
    def _pages_fit(self) -> Settings:
        if self.default_page_size > self.max_page_size:
            raise ValueError("GATEWAY_DEFAULT_PAGE_SIZE must not exceed GATEWAY_MAX_PAGE_SIZE")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with an async driver, as SQLAlchemy's async engine needs."""
        url = self.database_url or f"sqlite:///{self.var_dir / 'gateway.db'}"
        for prefix, driver in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgresql+psycopg://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(prefix):
                return driver + url[len(prefix) :]
        return url

    @property
    def is_embedded(self) -> bool:
        """True for the embedded SQLite default, which keeps its state under `var_dir`."""
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def systems_directory(self) -> Path:
        """Where the systems' connection files are read."""
        return self.systems_dir if self.systems_dir is not None else self.var_dir / "systems"

    @property
    def key_directory(self) -> Path | None:
        """Where key files are read (and, in embedded mode, generated)."""
        if self.keys_dir is not None:
            return self.keys_dir
        return self.var_dir / "keys" if self.mode == "embedded" else None


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation errors into one clear message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            if error["loc"]:
                name = "GATEWAY_" + "_".join(str(part) for part in error["loc"]).upper()
                lines.append(f"{name}: {error['msg']}")
            else:
                lines.append(str(error["msg"]).removeprefix("Value error, "))
        raise ConfigurationError("invalid settings:\n  " + "\n  ".join(lines)) from None
