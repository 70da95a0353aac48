"""The application factory: assembles settings, policy, storage and routes. Nothing else.

`create_app()` is the only place where the parts meet; tests and `serve` both use it.
"""

from __future__ import annotations

import gc
import logging

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from gateway import __version__
from gateway.accesslog import TrustedProxies, request_context
from gateway.apidocs import ASSET_HANDLERS, SwaggerOffline, docs_headers_middleware
from gateway.apidocs import complete as complete_openapi
from gateway.auth import (
    BearerAuthMiddleware,
    PeopleController,
    PrincipalController,
    TotpController,
)
from gateway.console import CONSOLE_HANDLERS
from gateway.core import dbstate
from gateway.core.clock import Clock
from gateway.core.http import Answer
from gateway.core.problems import EXCEPTION_HANDLERS, describe_problem
from gateway.core.settings import Settings, load_settings
from gateway.logsearch import LogSearchController
from gateway.orders import OrderController
from gateway.privacy import (
    PAGE_HANDLERS,
    CertificateController,
    InProcessRunner,
    LinkController,
    ManualPartController,
    ObjectionController,
    PublicRequestController,
    RegisterController,
    SystemCallbackController,
    template_config,
)
from gateway.reports import ReportController
from gateway.reveal import GrantController
from gateway.services import build_services
from gateway.subjects import check_keys
from gateway.vault import VaultController

MAX_BODY_BYTES = 1024 * 1024


class Health(Answer):
    status: str
    version: str
    policy_version: str


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
    def health() -> Health:
        """Liveness, and which policy version this process enforces."""
        return Health(status="ok", version=__version__, policy_version=services.policy.version)

    def freeze_startup_objects() -> None:
        # Everything built at start-up (policy, plans, routes) lives as long as the
        # process: keep it out of the collector's way, so full collections stay short.
        gc.freeze()

    async def check_store_keys() -> None:
        # Before anything is served: a well-formed but wrong key stops start-up here,
        # and what was opened for it is closed (no shutdown follows a failed start-up).
        # The schema too: one older than this code would answer requests with 500s.
        try:
            await check_keys(services.engine, services.keys, services.clock.now())
            await dbstate.require_migrated(services.settings.sqlalchemy_url)
        except BaseException:
            await services.close()
            raise

    async def log_policy_and_keys() -> None:
        # Which policy this process enforces, from when: policy changes are in the log.
        await services.access_log.at_start(
            "policy.load", "policy", details={"version": services.policy.version}
        )
        # Which identity providers this process trusts, and how many mapping rules.
        identity = services.identity
        if identity.issuers:
            await services.access_log.at_start(
                "identity.load",
                "identity",
                details={
                    "issuers": [i.name for i in identity.issuers],
                    "people_rules": len(identity.people),
                    "app_rules": len(identity.apps),
                },
            )
        # Which keys (by version and public id, never their bytes) this process uses.
        keys = services.keys
        await services.access_log.at_start(
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
            PeopleController,
            TotpController,
            GrantController,
            LogSearchController,
            PublicRequestController,
            ObjectionController,
            CertificateController,
            RegisterController,
            LinkController,
            SystemCallbackController,
            ManualPartController,
            ReportController,
            VaultController,
            *CONSOLE_HANDLERS,
            *PAGE_HANDLERS,
            *ASSET_HANDLERS,
            health,
            describe_problem,
        ],
        dependencies={
            "orders": _provide(services.orders),
            "principals": _provide(services.principals),
            "people": _provide(services.people),
            "policy": _provide(services.policy),
            "factors": _provide(services.factors),
            "grants": _provide(services.grants),
            "log_search": _provide(services.log_search),
            "privacy": _provide(services.privacy),
            "objections": _provide(services.objections),
            "links": _provide(services.links),
            "register": _provide(services.register),
            "answers": _provide(services.answers),
            "manual": _provide(services.manual_parts),
            "downloads": _provide(services.downloads),
            "reports": _provide(services.reports),
            "kept": _provide(services.kept_reports),
            "authenticator": _provide(services.authenticator),
            "vault": _provide(services.vault),
            "console": _provide(services.console),
        },
        middleware=[
            request_context(TrustedProxies(services.settings.trusted_networks)),
            docs_headers_middleware,
            DefineMiddleware(
                BearerAuthMiddleware,
                authenticator=services.authenticator,
                audit=services.access_log,
                exclude=[
                    "^/schema",
                    "^/healthz",
                    "^/problems/",
                    "^/privacy",
                    "^/console",  # signed in by session (gateway.console), not a bearer
                    "^/v1/privacy/requests",
                    "^/v1/privacy/objections",
                    "^/v1/privacy/certificates",
                    # Signed by the system itself (gateway.systems.signing), not a bearer.
                    "^/v1/privacy/systems/[a-z][a-z0-9_]{0,39}/callback$",
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
