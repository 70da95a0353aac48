"""The application factory: assembles settings, policy, storage and routes. Nothing else.

`create_app()` is the only place where the parts meet; tests and `serve` both use it.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.log import AuditLog, LogPolicy
from gateway import __version__
from gateway.apidocs import ASSET_HANDLERS, SwaggerOffline, docs_headers_middleware
from gateway.apidocs.schema import complete as complete_openapi
from gateway.auditing.context import TrustedProxies, request_context
from gateway.auditing.recorder import AccessLog, pseudonym_key
from gateway.auditing.routes import AuditController
from gateway.auditing.service import AuditService
from gateway.auth.middleware import BearerAuthMiddleware
from gateway.auth.principal import Principal
from gateway.auth.routes import PrincipalController
from gateway.auth.service import PrincipalService
from gateway.auth.tokens import Authenticator
from gateway.clock import Clock, SystemClock
from gateway.crypto.keys import KeyRing, load_keys
from gateway.db import make_engine
from gateway.disclosure import PolicySet, load_policy
from gateway.orders.routes import OrderController
from gateway.orders.schemas import STATUSES
from gateway.orders.service import OrderService, SearchLimits
from gateway.orders.store import DOCUMENT_FIELDS, LIST_SECTIONS
from gateway.pii.analyzer import shared_detector
from gateway.privacy.downloads import Downloads
from gateway.privacy.erasure import ErasureSteps
from gateway.privacy.links import Links
from gateway.privacy.notifier import load_notifier
from gateway.privacy.objections import Objections
from gateway.privacy.pages import PAGE_HANDLERS, template_config
from gateway.privacy.register import Register
from gateway.privacy.requests import PrivacyRequests
from gateway.privacy.retention import RetentionRules
from gateway.privacy.routes import (
    CertificateController,
    LinkController,
    ObjectionController,
    PublicRequestController,
    RegisterController,
)
from gateway.privacy.runner import InProcessRunner
from gateway.privacy.secrets import RequestSecrets
from gateway.privacy.sweeper import Sweeper
from gateway.privacy.workflow import Workflow
from gateway.problems import EXCEPTION_HANDLERS, describe_problem
from gateway.readpath import ReadPool, make_read_pool
from gateway.reports.record import ProcessingRecord, load_record
from gateway.reports.routes import ReportController
from gateway.reports.service import KeptReports, Reports
from gateway.resources import shipped_dir
from gateway.reveal.factors import FactorRules, SecondFactors
from gateway.reveal.grants import Grants
from gateway.reveal.routes import GrantController, TotpController
from gateway.settings import Settings, load_settings
from gateway.subjects.keycheck import check_keys
from gateway.subjects.service import SubjectKeys

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Services:
    """Everything a request or a CLI command may need, built once per process."""

    settings: Settings
    clock: Clock
    keys: KeyRing
    engine: AsyncEngine
    reads: ReadPool
    policy: PolicySet
    principals: PrincipalService
    orders: OrderService
    authenticator: Authenticator
    subjects: SubjectKeys
    factors: SecondFactors
    grants: Grants
    audit: AccessLog
    audit_reader: AuditService
    retention: RetentionRules
    privacy: PrivacyRequests
    objections: Objections
    links: Links
    register: Register
    workflow: Workflow
    sweeper: Sweeper
    downloads: Downloads
    reports: Reports
    kept_reports: KeptReports

    async def close(self) -> None:
        await self.audit.log.close()
        await self.reads.dispose()
        await self.engine.dispose()


def load_gateway_policy(settings: Settings) -> PolicySet:
    return load_policy(
        settings.policy_dir or shipped_dir("policies"), DOCUMENT_FIELDS, LIST_SECTIONS
    )


def load_retention(settings: Settings, policy: PolicySet) -> RetentionRules:
    return RetentionRules.load(
        settings.policy_dir or shipped_dir("policies"),
        categories=policy.classification.categories.keys(),
        statuses=STATUSES,
        roles=policy.roles,
    )


def load_processing_record(
    settings: Settings, policy: PolicySet, retention: RetentionRules
) -> ProcessingRecord:
    return load_record(
        settings.policy_dir or shipped_dir("policies"),
        policy.classification,
        policy.roles,
        retention.rules.keys(),
    )


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    policy = load_gateway_policy(settings)
    retention = load_retention(settings, policy)
    record = load_processing_record(settings, policy, retention)
    keys = load_keys(settings)
    engine = make_engine(settings.sqlalchemy_url, settings.db_pool_size)
    reads = make_read_pool(settings.sqlalchemy_url, engine)
    authenticator = Authenticator(reads, clock, settings.auth_cache_seconds)
    subjects = SubjectKeys(keys, clock)
    rules = FactorRules(
        issuer=settings.totp_issuer,
        skew_steps=settings.totp_skew_steps,
        max_failures=settings.totp_max_failures,
        lock_seconds=settings.totp_lock_seconds,
        enrol_hours=settings.totp_enrol_hours,
    )
    audit = AccessLog(
        AuditLog(
            engine,
            keys.audit_signing_key,
            clock.now,
            LogPolicy(
                max_batch=settings.audit_max_batch,
                window_seconds=settings.audit_batch_window_ms / 1000,
                checkpoint_every=settings.audit_checkpoint_every,
                checkpoint_seconds=settings.audit_checkpoint_seconds,
            ),
        ),
        pseudonym_key(keys.blind_index_key),
        clock,
    )
    factors = SecondFactors(engine, keys, policy, clock, rules, audit)
    orders: list[OrderService] = []  # built below, with the grants it needs

    async def outside_scope(principal: Principal, ids: list[str]) -> list[int]:
        # Grants name only orders their holder can read: the order service knows.
        return await orders[0].outside_scope(principal, ids)

    grants = Grants(
        engine, reads, policy, factors, clock, settings.unmask_grant_seconds, audit,
        outside_scope=outside_scope,
    )  # fmt: skip
    request_secrets = RequestSecrets(keys.blind_index_key)
    notifier = load_notifier(settings, engine, clock)
    privacy = PrivacyRequests(engine, subjects, request_secrets, clock, audit, notifier, settings)
    register = Register(engine, policy, audit, clock, subjects, notifier)
    workflow = Workflow(
        engine,
        ErasureSteps(policy.classification, retention, subjects, request_secrets),
        subjects,
        keys,
        audit,
        clock,
        export_hours=settings.privacy_export_hours,
    )
    sweeper = Sweeper(
        engine,
        audit,
        clock,
        verify_hours=settings.privacy_verify_hours,
        lead_hours=settings.privacy_sla_lead_hours,
    )
    reports = Reports(engine, policy, retention, record, audit, clock)
    orders.append(
        OrderService(
            engine,
            reads,
            policy,
            subjects,
            clock,
            grants,
            audit,
            retention,
            shared_detector(tuple(sorted(settings.pii_ner_models.items())))
            if settings.pii_detection
            else None,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
            search=SearchLimits(settings.search_alert_per_hour, settings.search_limit_per_hour),
        )
    )
    return Services(
        settings=settings,
        clock=clock,
        keys=keys,
        engine=engine,
        reads=reads,
        policy=policy,
        principals=PrincipalService(engine, policy, clock, audit, on_revoke=authenticator.forget),
        orders=orders[0],
        authenticator=authenticator,
        subjects=subjects,
        factors=factors,
        grants=grants,
        audit=audit,
        audit_reader=AuditService(
            engine,
            policy,
            audit,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
        ),
        retention=retention,
        privacy=privacy,
        objections=Objections(
            engine, request_secrets, clock, audit, privacy.limits, settings.privacy_verify_per_hour
        ),
        links=Links(engine, policy, audit, clock),
        register=register,
        workflow=workflow,
        sweeper=sweeper,
        downloads=Downloads(engine, privacy, register, subjects, keys, audit),
        reports=reports,
        kept_reports=KeptReports(engine, reports, audit),
    )


def _provide(service: object) -> Provide:
    """A dependency that is always the one service object built at start-up."""

    def dependency() -> object:
        return service

    return Provide(dependency, sync_to_thread=False, use_cache=True)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Litestar:
    services = build_services(settings or load_settings(), clock)
    logging.getLogger("gateway").setLevel(services.settings.log_level.upper())
    runner = InProcessRunner(
        services.workflow, services.sweeper, services.settings.privacy_worker_seconds
    )

    @get("/healthz", exclude_from_auth=True, sync_to_thread=False, tags=["operations"])
    def health() -> dict[str, Any]:
        """Liveness, and which policy version this process enforces."""
        return {"status": "ok", "version": __version__, "policy_version": services.policy.version}

    def freeze_startup_objects() -> None:
        # Everything built at start-up (policy, plans, routes) lives as long as the
        # process: keep it out of the collector's way, so full collections stay short.
        gc.freeze()

    async def check_store_keys() -> None:
        # Before anything is served: a well-formed but wrong key stops start-up here.
        await check_keys(services.engine, services.keys, services.clock.now())

    async def log_policy_and_keys() -> None:
        # Which policy this process enforces, from when: policy changes are in the log.
        await services.audit.at_start(
            "policy.load", "policy", details={"version": services.policy.version}
        )
        # Which keys (by version and public id, never their bytes) this process uses.
        keys = services.keys
        await services.audit.at_start(
            "keys.load",
            "keys",
            details={
                "kek_versions": sorted(keys.keks),
                "active_kek_version": keys.active_kek_version,
                "audit_key_id": keys.audit_key_id,
            },
        )

    app = Litestar(
        route_handlers=[
            OrderController,
            PrincipalController,
            TotpController,
            GrantController,
            AuditController,
            PublicRequestController,
            ObjectionController,
            CertificateController,
            RegisterController,
            LinkController,
            ReportController,
            *PAGE_HANDLERS,
            *ASSET_HANDLERS,
            health,
            describe_problem,
        ],
        dependencies={
            "orders": _provide(services.orders),
            "principals": _provide(services.principals),
            "factors": _provide(services.factors),
            "grants": _provide(services.grants),
            "audit": _provide(services.audit_reader),
            "privacy": _provide(services.privacy),
            "objections": _provide(services.objections),
            "links": _provide(services.links),
            "register": _provide(services.register),
            "downloads": _provide(services.downloads),
            "reports": _provide(services.reports),
            "kept": _provide(services.kept_reports),
            "authenticator": _provide(services.authenticator),
        },
        middleware=[
            request_context(TrustedProxies(services.settings.trusted_networks)),
            docs_headers_middleware,
            DefineMiddleware(
                BearerAuthMiddleware,
                authenticator=services.authenticator,
                audit=services.audit,
                exclude=[
                    "^/schema",
                    "^/healthz",
                    "^/problems/",
                    "^/privacy",
                    "^/v1/privacy/requests",
                    "^/v1/privacy/objections",
                    "^/v1/privacy/certificates",
                ],
            ),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        on_startup=[check_store_keys, log_policy_and_keys, freeze_startup_objects, runner.start],
        on_shutdown=[runner.stop, services.close],
        request_max_body_size=MAX_BODY_BYTES,
        template_config=template_config(),
        openapi_config=OpenAPIConfig(
            title="Order Privacy Gateway",
            version=__version__,
            description="The one door to customer order data. Every field is disclosed "
            "at the level the caller's role is given by policy: hidden, masked or clear.",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http", scheme="bearer", bearer_format="opg token"
                    )
                }
            ),
            security=[{"bearer": []}],
            render_plugins=[SwaggerOffline()],
        ),
        state=State({"services": services}),
        # Our handlers log unexpected errors by type; Litestar must not log them whole
        # (their messages and tracebacks can carry personal data).
        logging_config=LoggingConfig(log_exceptions="never"),
        debug=False,
    )
    complete_openapi(app)
    return app
