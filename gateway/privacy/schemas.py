"""Documents of the privacy request API, checked at the edge."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gateway.core.http import Answer
from gateway.core.textfold import fold_identifier
from gateway.core.validators import check_reason, normalise_email, normalise_phone


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, hide_input_in_errors=True
    )


def check_contact(value: str) -> str:
    try:
        return normalise_email(value) if "@" in fold_identifier(value) else normalise_phone(value)
    except ValueError:
        raise ValueError(
            "contact must be the phone number or e-mail address given with the order"
        ) from None


def contact_kind(contact: str) -> str:
    return "email" if "@" in contact else "phone"


Reason = Annotated[str, Field(max_length=500), AfterValidator(check_reason)]


class RequestIn(_Strict):
    kind: Literal["erasure", "access"]
    contact: Annotated[str, Field(min_length=3, max_length=320), AfterValidator(check_contact)]
    order_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The order number the shop showed, or the gateway's order id.",
    )
    lang: Literal["en", "zh"] | None = Field(
        default=None,
        description="The language the notices about this request are written in. Not "
        "given: each notice comes in Chinese and English.",
    )


class RequestCreated(_Strict):
    request_id: str
    status_token: str = Field(
        description="Needed for every later call about the request (header X-Status-Token). "
        "Keep it: it is shown only once."
    )
    state: str
    detail: str


class VerifyIn(_Strict):
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code that was sent.")


class ObjectionIn(_Strict):
    code: str = Field(
        min_length=20,
        max_length=40,
        pattern=r"^[A-Za-z2-7 -]+$",
        description="The objection code from the notice (groups of four letters and digits; "
        "spaces, dashes and case do not matter).",
    )


class ReasonIn(_Strict):
    reason: Reason


class ExtendIn(_Strict):
    months: int = Field(ge=1, le=2)
    reason: Reason


class CertificateIn(BaseModel):
    """A certificate as issued: checked by signature, not by schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate: dict[str, Any]
    signature: dict[str, Any]


# --- answers ---------------------------------------------------------------------------
# The services build these views as plain data; each route hands them through one of
# these documents, so the OpenAPI document says what each answer holds.


class StepDone(Answer):
    step: str
    finished_at: str


class RequestStatus(Answer):
    """What the data subject may see of their request: no hold reason, no internal names."""

    request_id: str
    kind: str
    state: str
    received_at: str
    verified_at: str | None
    started_at: str | None
    completed_at: str | None
    target_at: str | None
    cooling_off_until: str | None
    awaiting_review: bool = Field(
        description="Verified, and waiting for the DPO's review before work starts."
    )
    deadline_at: str = Field(description="The earlier of the GDPR and PIPL deadlines.")
    gdpr_deadline_at: str = Field(
        description="GDPR Art. 12(3): a month from receipt, or up to three once extended."
    )
    pipl_deadline_at: str = Field(
        description="PIPL: GATEWAY_PRIVACY_PIPL_DAYS from receipt; it cannot be extended."
    )
    extension_reason: str | None = Field(
        description="Why the GDPR deadline was extended, as the DPO wrote it (also sent)."
    )
    rejection_reason: str | None
    steps_done: list[StepDone]
    open_orders_erased: int = Field(
        description="Orders not yet delivered or completed when the erasure took their data."
    )
    certificate_available: bool
    export_available: bool


class ObjectionRecorded(Answer):
    request_id: str
    kind: str
    state: str
    detail: str


class CertificateCheck(Answer):
    valid: bool
    reason: str
    chain_head_in_log: bool | None = Field(
        default=None,
        description="Whether the audit chain head the certificate names is in this "
        "gateway's log; null when it was not checked (the signature failed, or the "
        "certificate names no chain head).",
    )


class Hold(Answer):
    """The hold the request is under now."""

    reason: str
    by: str | None
    at: str | None


class HoldRecord(Answer):
    """One hold of the request's history: placed, and ended unless it is the current one."""

    number: int = Field(description="1 for the request's first hold, then 2, 3, ...")
    held_at: str
    held_by: str
    held_from: str = Field(description="The state the request was in when it was held.")
    reason: str
    ended_at: str | None
    ended_by: str | None
    ended_as: Literal["lifted", "rejected"] | None
    end_reason: str | None


class Approval(Answer):
    """GATEWAY_PRIVACY_APPROVAL: the request waits for a DPO's approval before it runs."""

    approved: bool
    by: str | None
    at: str | None
    reason: str | None


class Rejection(Answer):
    reason: str
    by: str | None


class RegisterEntry(Answer):
    """A request as the DPO's register shows it."""

    request_id: str
    kind: str
    state: str
    matched: bool = Field(description="Whether the contact and order matched a data subject.")
    received_at: str
    verified_at: str | None
    started_at: str | None
    completed_at: str | None
    target_at: str | None
    gdpr_deadline_at: str
    pipl_deadline_at: str
    sla: str
    blocked: str | None
    extension_reason: str | None
    extended_by: str | None
    approval: Approval | None = Field(
        description="Null when the request needs no approval (GATEWAY_PRIVACY_APPROVAL)."
    )
    hold: Hold | None
    holds: list[HoldRecord] = Field(description="Every hold, lifted or not, oldest first.")
    rejection: Rejection | None


class SystemPart(Answer):
    """One system's part of a whole-chain request, as the register shows it."""

    system: str = Field(description="The system's key in the systems map.")
    method: str = Field(description="sql, webhook or manual.")
    status: Literal["pending", "waiting", "done"]
    attempts: int
    last_error: str | None = Field(description="Why the last attempt failed (no personal data).")
    next_attempt_at: str | None
    waiting_for: str | None = Field(description="What the step waits for, if not done.")
    task: str | None = Field(
        default=None, description="A manual system's task: what a person is to do there."
    )


class RegisterRequest(RegisterEntry):
    steps_done: list[StepDone]
    systems: list[SystemPart] = Field(
        description="Each system of the map reached for this request (none before it runs)."
    )
    held_up_by: list[str] = Field(
        description="The systems whose part is not done yet (their keys in the map)."
    )


class ManualRecordIn(_Strict):
    """What a person did in a manual system (paper archive, partner without an API)."""

    action: Literal["erased", "anonymised", "copied", "nothing_found"] = Field(
        description="erased/anonymised/nothing_found for an erasure, copied/nothing_found "
        "for an access request."
    )
    done_on: date = Field(description="The day it was done (not in the future).")
    reference: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_ .:/#-]+$",
        description="Where the record of it is kept (a ticket, a destruction log's number): "
        "ASCII letters, digits and ` _.:/#-`; no personal data (one holding the subject's "
        "phone, e-mail or resident id is refused).",
    )


class ManualRecorded(Answer):
    """A manual system's part after a person's record of it."""

    request_id: str
    system: str
    part: SystemPart


class ManualTask(Answer):
    """What a person needs to find the subject in a manual system (personal data:
    shown to a DPO or the system's owner_principal only, never stored or logged)."""

    request_id: str
    system: str
    datasets: list[str]
    find_by: dict[str, list[str]] = Field(
        description="The request's identities by kind (order_number, phone, ...), of the "
        "kinds this system's datasets are found by."
    )


class CallbackAck(Answer):
    """The gateway's receipt of a webhook system's callback."""

    request: str
    system: str
    result: Literal["recorded", "already recorded", "failure recorded"]


class RegisterNotified(RegisterRequest):
    """A request after a move the subject is told of (an extension, a rejection)."""

    subject_notified: bool = Field(description="Whether the notice reached the notifier.")


class RegisterPage(Answer):
    items: list[RegisterEntry]
    next_cursor: str | None


class LinkedRecord(Answer):
    pseudonym: str
    order_ids: list[str]


class Link(Answer):
    """Two records that may be one person, and the DPO's decision if made."""

    link_id: str
    state: str
    shared: list[str] = Field(description="Which kinds of contact the two records share.")
    records: list[LinkedRecord]
    created_at: str
    decided_at: str | None
    decided_by: str | None
    reason: str | None


class LinkPage(Answer):
    items: list[Link]
    next_cursor: str | None


class Signature(Answer):
    algorithm: str = Field(description="`Ed25519` over the RFC 8785 bytes of `certificate`.")
    key_id: str
    value: str = Field(description="The signature, base64.")


class SignedCertificate(Answer):
    """An erasure certificate and its signature; `certificate` is exactly what was signed."""

    certificate: dict[str, Any]
    signature: Signature
