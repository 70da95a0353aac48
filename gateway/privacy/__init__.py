"""Data subject requests: intake and proof, execution (erasure, access, retention),
notices, signed documents and the public pages.
"""

from gateway.privacy.chain_routes import ManualPartController, SystemCallbackController
from gateway.privacy.desk.links import Links
from gateway.privacy.desk.register import Register, RegisterQuery
from gateway.privacy.desk.systems import ManualParts
from gateway.privacy.documents.certificate import verify_signature as verify_certificate_signature
from gateway.privacy.downloads import Downloads
from gateway.privacy.execution.answers import SystemAnswers
from gateway.privacy.execution.chain import Chain
from gateway.privacy.execution.erasure import ErasureSteps
from gateway.privacy.execution.runner import InProcessRunner, run_once
from gateway.privacy.execution.sweeper import Sweeper
from gateway.privacy.execution.workflow import Workflow
from gateway.privacy.intake.objections import Objections
from gateway.privacy.intake.requests import IntakeRules, PrivacyRequests
from gateway.privacy.model.secrets import RequestSecrets
from gateway.privacy.model.store import holds_of as hold_history
from gateway.privacy.model.store import requests_received
from gateway.privacy.notify.message import Message, Notifier
from gateway.privacy.notify.notifier import load_notifier
from gateway.privacy.notify.outbox import QueuedMessage, read_outbox
from gateway.privacy.notify.voice import Controller, Voice
from gateway.privacy.routes import (
    CertificateController,
    LinkController,
    ObjectionController,
    PublicRequestController,
    RegisterController,
)
from gateway.privacy.web.pages import PAGE_HANDLERS, template_config

__all__ = [
    "PAGE_HANDLERS",
    "CertificateController",
    "Chain",
    "Controller",
    "Downloads",
    "ErasureSteps",
    "InProcessRunner",
    "IntakeRules",
    "LinkController",
    "Links",
    "ManualPartController",
    "ManualParts",
    "Message",
    "Notifier",
    "ObjectionController",
    "Objections",
    "PrivacyRequests",
    "PublicRequestController",
    "QueuedMessage",
    "Register",
    "RegisterController",
    "RegisterQuery",
    "RequestSecrets",
    "Sweeper",
    "SystemAnswers",
    "SystemCallbackController",
    "Voice",
    "Workflow",
    "hold_history",
    "load_notifier",
    "read_outbox",
    "requests_received",
    "run_once",
    "template_config",
    "verify_certificate_signature",
]
