"""Building every service once per process, for the web app and the command line alike.

`build_services()` is the one place where capabilities are wired to each other; the
app (`gateway.app`) adds HTTP on top, and CLI commands use it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from audit import AuditLog, LogPolicy
from gateway.accesslog import AccessLog, pseudonym_key
from gateway.auth import Authenticator, FactorRules, People, PrincipalService, SecondFactors
from gateway.console import Console, LocalSignIn, Sessions
from gateway.core.clock import Clock, SystemClock
from gateway.core.db import make_engine
from gateway.core.errors import ConfigurationError
from gateway.core.principal import Principal
from gateway.core.readpath import ReadPool, make_read_pool
from gateway.core.resources import shipped_dir
from gateway.core.settings import Settings
from gateway.crypto import KeyRing, load_keys
from gateway.disclosure import PolicySet, load_policy
from gateway.fronted import FrontedOrders
from gateway.logsearch import LogSearch
from gateway.orders import (
    DOCUMENT_FIELDS,
    LIST_SECTIONS,
    ORDER_COLUMNS,
    STATUSES,
    OrderService,
    SearchLimits,
)
from gateway.pii import Detector, shared_detector
from gateway.privacy import (
    Chain,
    Controller,
    Downloads,
    ErasureSteps,
    IntakeRules,
    Links,
    ManualParts,
    Objections,
    PrivacyRequests,
    Register,
    RequestSecrets,
    Sweeper,
    SystemAnswers,
    Voice,
    Workflow,
    load_notifier,
)
from gateway.reports import KeptReports, ProcessingRecord, Reports, load_record
from gateway.retention import RetentionRules
from gateway.reveal import Grants, delete_grants_of
from gateway.staff import IdentityConfig, StaffSignIn, load_identity
from gateway.subjects import SubjectKeys
from gateway.systems import OWN_STORE, FileConnections, SystemsMap, load_map
from gateway.vault import Vault, plan_of


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
    access_log: AccessLog
    log_search: LogSearch
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
    voice: Voice
    systems: SystemsMap
    answers: SystemAnswers
    manual_parts: ManualParts
    fronted: FrontedOrders | None
    vault: Vault
    identity: IdentityConfig
    staff: StaffSignIn
    people: People
    console: Console

    async def close(self) -> None:
        await self.staff.close()
        if self.fronted is not None:
            await self.fronted.close()
        await self.access_log.log.close()
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


def vault_of(
    settings: Settings,
    engine: AsyncEngine,
    policy: PolicySet,
    systems: SystemsMap,
    subjects: SubjectKeys,
    clock: Clock,
    audit: AccessLog,
) -> Vault:
    """The vault over every system of the map with an order mapping (mode 2)."""
    plans = {
        key: plan_of(key, system, policy.classification)
        for key, system in systems.systems.items()
        if system.orders is not None
    }
    connections = FileConnections(settings.systems_directory)
    return Vault(engine, plans, connections, subjects, clock, audit, policy)


def fronted_store(
    settings: Settings,
    systems: SystemsMap,
    keys: KeyRing,
    detector: Detector | None,
    vault: Vault | None = None,
    reads: ReadPool | None = None,
) -> FrontedOrders | None:
    """The existing order store served read-through (GATEWAY_ORDER_SOURCE), if any."""
    key = settings.order_source
    if key is None:
        return None
    system = systems.systems.get(key)
    if system is None or key == OWN_STORE:
        known = ", ".join(k for k in systems.systems if k != OWN_STORE) or "none"
        raise ConfigurationError(
            f"GATEWAY_ORDER_SOURCE={key}: no such system in the systems map (systems: {known})"
        )
    return FrontedOrders(
        key,
        system,
        FileConnections(settings.systems_directory),
        paths=tuple(ORDER_COLUMNS),
        statuses=STATUSES,
        pseudonym_key=keys.blind_index_key,
        detector=detector,
        vault=None if vault is None or key not in vault.plans else vault.reads(key, reads),
    )


def load_systems_map(
    settings: Settings, policy: PolicySet, retention: RetentionRules
) -> SystemsMap:
    return load_map(
        settings.policy_dir or shipped_dir("policies"),
        policy.classification,
        retention.rules.keys(),
    )


def voice_of(settings: Settings, record: ProcessingRecord) -> Voice:
    """How the shop speaks to its customers: its name, notice and contact from the
    processing record, and the time zones its readers read in."""
    party = record.controller
    names = {} if party.name is None else {"en": party.name.en, "zh": party.name.zh}
    controller = Controller(names, party.contact, party.privacy_notice)
    zones = {str(lang): zone for lang, zone in settings.privacy_time_zones.items()}
    return Voice(controller, zones, settings.privacy_public_url)


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    policy = load_gateway_policy(settings)
    retention = load_retention(settings, policy)
    record = load_processing_record(settings, policy, retention)
    systems = load_systems_map(settings, policy, retention)  # a bad map stops start-up
    voice = voice_of(settings, record)
    identity = load_identity(settings.policy_dir or shipped_dir("policies"), policy)
    keys = load_keys(settings)
    engine = make_engine(settings.sqlalchemy_url, settings.db_pool_size)
    reads = make_read_pool(settings.sqlalchemy_url, engine)
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
    staff = StaffSignIn(identity, clock, settings.var_dir, audit.staff_pseudonym)
    people = People(engine, reads, audit, clock)
    authenticator = Authenticator(
        reads,
        clock,
        settings.auth_cache_seconds,
        staff=(staff, people) if staff.enabled else None,
    )
    factors = SecondFactors(engine, keys, policy, clock, rules, audit, on_reset=delete_grants_of)
    orders: list[OrderService] = []  # built below, with the grants it needs

    async def outside_scope(principal: Principal, ids: list[str]) -> list[int]:
        # Grants name only orders their holder can read: the order service knows.
        return await orders[0].outside_scope(principal, ids)

    grants = Grants(
        engine,
        reads,
        policy,
        factors,
        clock,
        settings.unmask_grant_seconds,
        audit,
        outside_scope=outside_scope,
        step_up=staff.require_step_up,
    )
    request_secrets = RequestSecrets(keys.blind_index_key)
    notifier = load_notifier(settings, engine, clock)
    intake = IntakeRules(
        submit_per_hour=settings.privacy_submit_per_hour,
        codes_per_contact_per_hour=settings.privacy_codes_per_contact_per_hour,
        verify_per_hour=settings.privacy_verify_per_hour,
        code_minutes=settings.privacy_code_minutes,
        code_max_failures=settings.privacy_code_max_failures,
        pipl_days=settings.privacy_pipl_days,
        target_hours=settings.privacy_target_hours,
        cooling_off_hours=settings.privacy_cooling_off_hours,
        approval=settings.privacy_approval,
    )
    vault = vault_of(settings, engine, policy, systems, subjects, clock, audit)
    privacy = PrivacyRequests(
        engine, subjects, request_secrets, clock, audit, notifier, intake, voice, vault.plans
    )
    register = Register(engine, policy, audit, clock, subjects, notifier, voice)
    downloads = Downloads(engine, privacy, register, subjects, keys, audit)
    log_search = LogSearch(
        engine,
        policy,
        audit,
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
    )
    chain = Chain(
        engine,
        systems,
        FileConnections(settings.systems_directory, settings.systems_callback_url),
        subjects,
        audit,
        clock,
        max_attempts=settings.systems_max_attempts,
        rule_years={name: rule.years for name, rule in retention.rules.items()},
    )
    answers = SystemAnswers(chain)
    workflow = Workflow(
        engine,
        ErasureSteps(policy.classification, retention, subjects, request_secrets),
        subjects,
        keys,
        audit,
        clock,
        export_hours=settings.privacy_export_hours,
        free_text_detection=settings.pii_detection,
        voice=voice,
        chain=chain,
    )
    sweeper = Sweeper(
        engine,
        audit,
        clock,
        verify_hours=settings.privacy_verify_hours,
        lead_hours=settings.privacy_sla_lead_hours,
    )
    reports = Reports(engine, policy, retention, record, systems, audit, clock)
    kept_reports = KeptReports(engine, reports, audit)
    sessions = Sessions(
        engine, clock, settings.console_idle_minutes, settings.console_session_hours
    )
    console = Console(
        sessions,
        LocalSignIn(engine, authenticator, factors, policy, sessions, audit),
        authenticator,
        policy,
        register,
        log_search,
        reports,
        kept_reports,
        clock,
        (engine, keys, systems),
        downloads,
    )
    detector = (
        shared_detector(tuple(sorted(settings.pii_ner_models.items())))
        if settings.pii_detection
        else None
    )
    fronted = fronted_store(settings, systems, keys, detector, vault, reads)
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
            detector,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
            search=SearchLimits(settings.search_alert_per_hour, settings.search_limit_per_hour),
            fronted=fronted,
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
        access_log=audit,
        log_search=log_search,
        retention=retention,
        privacy=privacy,
        objections=Objections(
            engine, request_secrets, clock, audit, privacy.limits, settings.privacy_verify_per_hour
        ),
        links=Links(engine, policy, audit, clock),
        register=register,
        workflow=workflow,
        sweeper=sweeper,
        downloads=downloads,
        reports=reports,
        kept_reports=kept_reports,
        voice=voice,
        systems=systems,
        answers=answers,
        manual_parts=ManualParts(register, answers, systems, clock, audit),
        fronted=fronted,
        vault=vault,
        identity=identity,
        staff=staff,
        people=people,
        console=console,
    )
