"""The public /privacy page: data subjects make and follow their requests in a browser.

Server-rendered HTML (Jinja2, autoescaped) that works without JavaScript, in English
or Chinese (`web/texts.py`; answers are made in `web/render.py`). HTTP in and out only:
the work is done by `PrivacyRequests` and `Downloads`, exactly as for the JSON API
in `routes.py`, with the same input rules (`RequestIn`, `VerifyIn`) and the same
enumeration-safe answer whether or not the contact matched.

The status token must never be in a URL (browser history, server logs, Referer): it
travels in form bodies and in one HttpOnly, SameSite=Strict cookie scoped to /privacy.
Pages never echo the contact back and never show a stack trace.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.response import Template
from pydantic import ValidationError

from gateway.core.errors import CodeLocked, CodeRejected, InvalidTransition, NotFound, RateLimited
from gateway.orders import ORDER_COLUMNS
from gateway.privacy.downloads import Downloads
from gateway.privacy.intake.objections import Objections
from gateway.privacy.intake.requests import PrivacyRequests
from gateway.privacy.model.states import Kind
from gateway.privacy.schemas import ObjectionIn, RequestIn, VerifyIn, contact_kind
from gateway.privacy.web.render import (
    ERROR_HANDLERS,
    REMEMBER_SECONDS,
    REQUEST_COOKIE,
    ROOT,
    SHOW_ONCE_COOKIE,
    SHOW_ONCE_SECONDS,
    AnyRequest,
    Held,
    Refused,
    cookie,
    cross_site,
    download,
    expired,
    forgotten,
    page,
    reader_language,
    redirect,
    refusal,
    require_held,
    script,
    stylesheet,
    template_config,
)

__all__ = ["PAGE_HANDLERS", "PrivacyPages", "template_config"]

STATUS = f"{ROOT}/status"
CHECK = f"{ROOT}/check"
FOLLOW = f"{ROOT}/follow"
FOLLOW_FIELDS = ("request_id", "return_code")
MAX_CERTIFICATE_BYTES = 256 * 1024
FIELDS = tuple(ORDER_COLUMNS)  # the access copy's fields, in the order document's order
FORM_FIELDS = ("kind", "contact", "order_id")
LOOKUP_FIELDS = ("request_id", "status_token")
MAX_LOOKUP_LENGTH = 100


async def _form(request: AnyRequest, *names: str) -> dict[str, str]:
    """The named fields of a posted form, as text (anything else is ignored)."""
    form = await request.form()
    values = {name: form.get(name) for name in names}
    return {name: value if isinstance(value, str) else "" for name, value in values.items()}


def _request_in(values: dict[str, str]) -> tuple[RequestIn | None, dict[str, str]]:
    """The form checked exactly as the API checks its body; errors name fields only."""
    try:
        return RequestIn.model_validate(values), {}
    except ValidationError as exc:
        fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        return None, {name: f"err.{name}" for name in FORM_FIELDS if name in fields}


def _lookup_errors(values: dict[str, str]) -> dict[str, str]:
    return {
        name: f"err.{name}"
        for name, value in values.items()
        if not value.strip() or len(value) > MAX_LOOKUP_LENGTH
    }


async def _status_page(
    request: AnyRequest,
    privacy: PrivacyRequests,
    held: Held,
    *,
    show_token: bool = False,
    **context: Any,
) -> Template:
    try:
        view = await privacy.status(*held)
    except NotFound:
        return forgotten(request)
    cookies = (expired(request, SHOW_ONCE_COOKIE),) if show_token else ()
    token = held[1] if show_token else None
    return page(request, "status", here=STATUS, view=view, token=token, cookies=cookies, **context)


class PrivacyPages(Controller):
    path = ROOT
    include_in_schema = False
    opt = {"exclude_from_auth": True}  # noqa: RUF012 - Litestar reads class attributes
    before_request = staticmethod(cross_site)
    exception_handlers = ERROR_HANDLERS  # pages, not problem+json

    @get("/")
    async def home(self, request: AnyRequest) -> Template:
        return page(request, "home")

    @get("/page.css", sync_to_thread=False)
    def stylesheet(self) -> Response[bytes]:
        return Response(
            stylesheet(),
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @get("/page.js", sync_to_thread=False)
    def script(self) -> Response[bytes]:
        return Response(
            script(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @post("/requests", status_code=303)
    async def submit(
        self, request: AnyRequest, privacy: NamedDependency[PrivacyRequests]
    ) -> Response[Any]:
        """The same answer whether or not the contact matches: only a match sends a code,
        after the answer has left."""
        values = await _form(request, *FORM_FIELDS)
        data, errors = _request_in(values)
        kept = {"kind": values["kind"], "order_id": values["order_id"]}  # never the contact
        if data is None:
            return page(request, "home", status=422, errors=errors, form=kept)
        try:
            done = await privacy.submit(
                Kind(data.kind),
                contact_kind(data.contact),
                data.contact,
                data.order_id,
                reader_language(request),
            )
        except RateLimited as exc:
            return page(request, "home", form=kept, **refusal(exc))
        remember = f"{done.request_id}:{done.status_token}"
        return redirect(
            STATUS,
            cookies=(
                cookie(request, REQUEST_COOKIE, remember, REMEMBER_SECONDS),
                cookie(request, SHOW_ONCE_COOKIE, "1", SHOW_ONCE_SECONDS),
            ),
            task=None if done.message is None else BackgroundTask(privacy.deliver, done.message),
        )

    @post("/lookup", status_code=303)
    async def lookup(
        self, request: AnyRequest, privacy: NamedDependency[PrivacyRequests]
    ) -> Response[Any]:
        values = await _form(request, *LOOKUP_FIELDS)
        errors = _lookup_errors(values)
        if errors:
            return page(request, "home", status=422, errors=errors)
        request_id, token = values["request_id"].strip(), values["status_token"].strip()
        try:
            await privacy.status(request_id, token)
        except NotFound:
            return page(request, "home", status=404, alert="err.not_found")
        remember = cookie(request, REQUEST_COOKIE, f"{request_id}:{token}", REMEMBER_SECONDS)
        return redirect(STATUS, cookies=(remember, expired(request, SHOW_ONCE_COOKIE)))

    @get("/follow")
    async def follow_form(self, request: AnyRequest) -> Template:
        """Where the confirmation message's link leads; its code fills the form here."""
        return page(request, "follow", here=FOLLOW)

    @post("/follow", status_code=303)
    async def follow(
        self, request: AnyRequest, privacy: NamedDependency[PrivacyRequests]
    ) -> Response[Any]:
        """A return code opens its request once, with a new status token shown once."""
        values = await _form(request, *FOLLOW_FIELDS)
        errors = _lookup_errors(values)
        if errors:
            return page(request, "follow", status=422, here=FOLLOW, errors=errors)
        request_id = values["request_id"].strip()
        try:
            token = await privacy.follow(request_id, values["return_code"].strip())
        except NotFound:
            return page(request, "follow", status=404, here=FOLLOW, alert="err.follow")
        except RateLimited as exc:
            return page(request, "follow", here=FOLLOW, **refusal(exc))
        return redirect(
            STATUS,
            cookies=(
                cookie(request, REQUEST_COOKIE, f"{request_id}:{token}", REMEMBER_SECONDS),
                cookie(request, SHOW_ONCE_COOKIE, "1", SHOW_ONCE_SECONDS),
            ),
        )

    @get("/status")
    async def status(
        self, request: AnyRequest, privacy: NamedDependency[PrivacyRequests]
    ) -> Template:
        show = request.cookies.get(SHOW_ONCE_COOKIE) == "1"
        return await _status_page(request, privacy, require_held(request), show_token=show)

    @post("/verify", status_code=303)
    async def verify(
        self, request: AnyRequest, privacy: NamedDependency[PrivacyRequests]
    ) -> Response[Any]:
        held = require_held(request)
        code = (await _form(request, "code"))["code"].strip()
        try:
            VerifyIn(code=code)
        except ValidationError:
            return await _status_page(
                request, privacy, held, status=422, errors={"code": "err.code"}
            )
        try:
            _, notices = await privacy.verify(*held, code)
        except NotFound:
            return forgotten(request)
        except (CodeRejected, CodeLocked, RateLimited, InvalidTransition) as exc:
            answer = refusal(exc)
            if isinstance(exc, CodeRejected):  # about the field: said beside it
                answer["errors"] = {"code": answer.pop("alert")}
            return await _status_page(request, privacy, held, **answer)
        return redirect(STATUS, task=BackgroundTask(privacy.deliver_all, notices))

    @get("/object")
    async def objection_form(self, request: AnyRequest) -> Template:
        return page(request, "object", here=f"{ROOT}/object")

    @post("/object")
    async def object(
        self, request: AnyRequest, objections: NamedDependency[Objections]
    ) -> Template:
        """The code from a notice puts its request on hold (exactly as the API does)."""
        code = (await _form(request, "code"))["code"]
        try:
            ObjectionIn(code=code)
        except ValidationError:
            return page(request, "object", status=422, errors={"code": "err.objection_code"})
        try:
            done = await objections.object(code)
        except NotFound:
            return page(request, "object", status=404, errors={"code": "err.objection_code"})
        except RateLimited as exc:
            return page(request, "object", **refusal(exc))
        result = "held" if done["state"] == "on_hold" else "recorded"
        return page(request, "object", result=result)

    @post("/forget", status_code=303)
    async def forget(self, request: AnyRequest) -> Response[Any]:
        cookies = (expired(request, REQUEST_COOKIE), expired(request, SHOW_ONCE_COOKIE))
        return redirect(ROOT, cookies=cookies)

    @get("/certificate")
    async def certificate(
        self, request: AnyRequest, downloads: NamedDependency[Downloads]
    ) -> Template:
        """The certificate as a printable page (A4), in the reader's language."""
        document = await _certificate(request, downloads)
        return page(
            request,
            "certificate",
            here=f"{ROOT}/certificate",
            cert=document["certificate"],
            signature=document["signature"],
        )

    @get("/certificate.json")
    async def certificate_json(
        self, request: AnyRequest, downloads: NamedDependency[Downloads]
    ) -> Response[str]:
        """The signed document itself, to keep and verify."""
        document = await _certificate(request, downloads)
        name = f"erasure-certificate-{document['certificate']['request_id']}.json"
        return download(json.dumps(document, ensure_ascii=False, indent=2), name)

    @get("/check")
    async def check_form(self, request: AnyRequest) -> Template:
        """Anyone shown a certificate can check it here, without a command line."""
        return page(request, "check", here=CHECK)

    @post("/check")
    async def check(self, request: AnyRequest, downloads: NamedDependency[Downloads]) -> Template:
        """Checked on the server with the published key and the log; nothing is kept."""
        text = await _certificate_text(request)
        if text is None:
            return page(
                request, "check", status=422, here=CHECK, errors={"certificate": "err.certificate"}
            )
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            document = None
        verdict = await downloads.verify(document)
        body = document.get("certificate") if verdict["valid"] else None
        return page(
            request,
            "check",
            here=CHECK,
            verdict=verdict,
            signed_by=_issuer(body, reader_language(request)),
            request_id=None if body is None else body.get("request_id"),
        )

    @get("/copy")
    async def copy(self, request: AnyRequest, downloads: NamedDependency[Downloads]) -> Template:
        """The access copy as a page, order by order (GDPR Art. 15: intelligible)."""
        try:
            text = await downloads.export(*require_held(request))
        except NotFound:
            raise Refused(404, "err.no_export") from None
        return page(request, "copy", here=f"{ROOT}/copy", export=json.loads(text), fields=FIELDS)

    @get("/export")
    async def export(
        self, request: AnyRequest, downloads: NamedDependency[Downloads]
    ) -> Response[str]:
        try:
            text = await downloads.export(*require_held(request))
        except NotFound:
            raise Refused(404, "err.no_export") from None
        return download(text, "my-data.json")


async def _certificate(request: AnyRequest, downloads: Downloads) -> dict[str, Any]:
    try:
        return await downloads.certificate(*require_held(request), None)
    except NotFound:
        raise Refused(404, "err.no_certificate") from None


PAGE_HANDLERS: list[Any] = [PrivacyPages]


async def _certificate_text(request: AnyRequest) -> str | None:
    """The pasted text, else the chosen file's; None if neither, or too large."""
    form = await request.form()
    pasted, chosen = form.get("certificate"), form.get("certificate_file")
    raw: bytes | str = pasted.strip() if isinstance(pasted, str) else ""
    if not raw and isinstance(chosen, UploadFile):
        raw = await chosen.read(MAX_CERTIFICATE_BYTES + 1)
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if not raw or size > MAX_CERTIFICATE_BYTES:
        return None
    if isinstance(raw, bytes):
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    return raw


def _issuer(body: Any, lang: str) -> str | None:
    """Who signed, as the (valid) certificate names them."""
    issuer = body.get("issuer") if isinstance(body, dict) else None
    if isinstance(issuer, dict):
        names = issuer.get("name") or {}
        return str(names.get(lang) or names.get("en") or "") or None
    return None if issuer is None else str(issuer)
