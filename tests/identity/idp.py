"""A real OpenID Connect provider for tests: panva's oidc-provider, run by Node.js.

`TestIdP.start(config, workdir)` runs tests/idp/server.mjs (see its header) on a free
loopback port and drives it: client-credentials tokens over HTTP, a person's tokens through
the authorization code flow with PKCE in a Playwright page (password, and the one-time code
page when the provider asks for it), key rotation, disabling a user, revocation and
introspection, and canned answers for any of its paths (`override`: a provider broken or
hostile). Access tokens are RFC 9068 JWTs for `config["resource"]`.

`default_config()` builds the suite's usual provider: three clients, four users, each user
with a fresh TOTP secret. Node's packages come from `make test` (npm ci in tests/idp).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import selectors
import shutil
import subprocess
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ClassVar, Self
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pyotp
from playwright.sync_api import Page

IDP_DIR = Path(__file__).resolve().parents[1] / "idp"
SERVER = IDP_DIR / "server.mjs"
NODE_MODULES = IDP_DIR / "node_modules"
# Seconds for Node to print its ready line (under half a second here): a start that stays
# silent longer is tried once more (`TestIdP.start`).
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0  # seconds for the process to end after SIGTERM, before SIGKILL
HTTP_TIMEOUT = 10.0
PAGE_TIMEOUT_MS = 10_000

RESOURCE = "urn:opg:gateway"
OTHER_RESOURCE = "urn:opg:other"
ACR_PASSWORD = "urn:opg:loa:1"
ACR_MFA = "urn:opg:loa:2"
CALLBACK = "<issuer>/__test/callback"  # server.mjs puts the issuer in


class SilentStart(RuntimeError):
    """The provider printed no ready line in time (see `TestIdP.start`)."""


class IdPError(Exception):
    """The provider refused: an OAuth error answer, or an error on one of its pages."""

    def __init__(
        self, message: str, *, status: int | None = None, error: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error


@dataclass(frozen=True)
class TestUser:
    """A user of the provider, as its config lists them (with the password and TOTP secret)."""

    __test__: ClassVar[bool] = False  # not a test class, whatever its name

    id: str
    username: str
    password: str
    name: str
    email: str
    groups: tuple[str, ...] = ()
    region: str | None = None
    totp_secret: str | None = None

    def totp(self) -> str:
        """The user's current one-time code."""
        if self.totp_secret is None:
            raise ValueError(f"{self.username} has no TOTP secret")
        return pyotp.TOTP(self.totp_secret).now()

    def as_config(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "password": self.password,
            "name": self.name,
            "email": self.email,
            "groups": list(self.groups),
            "region": self.region,
            "totp_secret": self.totp_secret,
        }

    @classmethod
    def from_config(cls, entry: dict[str, Any]) -> TestUser:
        return cls(
            id=entry["id"],
            username=entry["username"],
            password=entry["password"],
            name=entry["name"],
            email=entry["email"],
            groups=tuple(entry.get("groups") or ()),
            region=entry.get("region"),
            totp_secret=entry.get("totp_secret"),
        )


@dataclass(frozen=True)
class TestClient:
    """A client of the provider, as its config lists them (redirect URIs with the issuer in)."""

    __test__: ClassVar[bool] = False

    client_id: str
    secret: str | None
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...] = ()
    public: bool = False
    introspection: bool = False
    claims: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, entry: dict[str, Any], issuer: str) -> TestClient:
        return cls(
            client_id=entry["client_id"],
            secret=entry.get("client_secret"),
            grant_types=tuple(entry.get("grant_types") or ()),
            redirect_uris=tuple(
                uri.replace("<issuer>", issuer) for uri in entry.get("redirect_uris") or ()
            ),
            public=bool(entry.get("public")),
            introspection=bool(entry.get("introspection")),
            claims=dict(entry.get("claims") or {}),
        )


def default_users() -> list[TestUser]:
    """Users alice and bob (cs-agents), carol (no group), wendy (warehouse-east, region east)."""

    def user(
        id_: str, username: str, name: str, groups: tuple[str, ...], region: str | None
    ) -> TestUser:
        return TestUser(
            id=id_,
            username=username,
            password=f"{username}-pass",
            name=name,
            email=f"{username}@example.test",
            groups=groups,
            region=region,
            totp_secret=pyotp.random_base32(),
        )

    return [
        user("u-alice", "alice", "Alice Agent", ("cs-agents",), None),
        user("u-bob", "bob", "Bob Agent", ("cs-agents",), None),
        user("u-carol", "carol", "Carol Nogroup", (), None),
        user("u-wendy", "wendy", "Wendy Warehouse", ("warehouse-east",), "east"),
    ]


def default_config(**overrides: Any) -> dict[str, Any]:
    """The suite's provider: the gateway's resource, three clients, `default_users()`.

    Keyword arguments replace top-level keys (e.g. `algorithm="ES256"`, `access_token_ttl=5`).
    """
    config: dict[str, Any] = {
        "port": 0,
        "resource": RESOURCE,
        "access_token_ttl": 600,
        "algorithm": "RS256",
        "acr": {"password": ACR_PASSWORD, "mfa": ACR_MFA},
        "clients": [
            {
                "client_id": "batch-exporter",
                "client_secret": "s3cret-batch-exporter-0123456789",
                "grant_types": ["client_credentials"],
            },
            {
                "client_id": "cs-console",
                "public": True,
                "grant_types": ["authorization_code", "refresh_token"],
                "redirect_uris": [CALLBACK],
            },
            {
                "client_id": "gateway-introspector",
                "client_secret": "s3cret-gateway-introspector-0123456789",
                "grant_types": [],
                "introspection": True,
            },
        ],
        "users": [user.as_config() for user in default_users()],
    }
    config.update(overrides)
    return config


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwt_payload(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified: only to compare the nonce we sent."""
    segment = token.split(".")[1]
    payload: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return payload


def _oauth_error(response: httpx.Response, what: str) -> IdPError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    description = body.get("error_description") if isinstance(body, dict) else None
    detail = f"{error}: {description}" if error else response.text[:500]
    return IdPError(
        f"{what}: HTTP {response.status_code} {detail}", status=response.status_code, error=error
    )


def _shutdown(process: subprocess.Popen[bytes], http: httpx.Client, files: list[IO[Any]]) -> None:
    """End the Node process (SIGTERM, then SIGKILL) and close what we held of it."""
    http.close()
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdin, process.stdout, *files):
        if stream is not None:
            stream.close()


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> bytes | None:
    """The process's first stdout line; b"" if stdout closed first, None if `timeout` passed."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                return None
            chunk = os.read(fd, 4096)
            if not chunk:  # end of file: the process closed stdout, so it is ending
                return b""
            buffer += chunk
    return buffer.split(b"\n", 1)[0]


def _ready_issuer(line: bytes) -> str | None:
    """The issuer of server.mjs's ready line, {"issuer": "http://127.0.0.1:<port>"}."""
    try:
        ready = json.loads(line)
    except ValueError:
        return None
    issuer = ready.get("issuer") if isinstance(ready, dict) else None
    return issuer if isinstance(issuer, str) else None


class TestIdP:
    """A running tests/idp/server.mjs: the provider's issuer and what it was configured with."""

    __test__: ClassVar[bool] = False

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        issuer: str,
        config: dict[str, Any],
        log_path: Path,
        log_file: IO[bytes],
    ) -> None:
        self.issuer = issuer
        self.config = config
        self.log_path = log_path
        self.resource: str = config["resource"]
        self.acr_password: str = config["acr"]["password"]
        self.acr_mfa: str = config["acr"]["mfa"]
        self.users = {u["username"]: TestUser.from_config(u) for u in config.get("users", [])}
        self.clients = {
            c["client_id"]: TestClient.from_config(c, issuer) for c in config.get("clients", [])
        }
        self._process = process
        self._http = httpx.Client(base_url=issuer, timeout=HTTP_TIMEOUT)
        self._finalizer = weakref.finalize(self, _shutdown, process, self._http, [log_file])
        self._metadata: dict[str, Any] | None = None

    @classmethod
    def start(
        cls, config: dict[str, Any], workdir: Path, *, timeout: float = STARTUP_TIMEOUT
    ) -> TestIdP:
        """Write `config` to `workdir`, start the provider, wait for it to listen.

        A start that stays silent is tried once more, in a fresh process: twice in full
        suites a provider went quiet after loading oidc-provider and before generating
        its key (its log shows the step it reached), where it starts in under a second
        otherwise. A second silent start fails with both logs kept."""
        try:
            return cls._start(config, workdir, timeout=timeout)
        except SilentStart:
            return cls._start(config, workdir / "second-start", timeout=timeout)

    @classmethod
    def _start(cls, config: dict[str, Any], workdir: Path, *, timeout: float) -> TestIdP:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError(
                "node is not on PATH: install Node.js 20 and npm "
                "(Debian: apt-get install nodejs npm)"
            )
        if not (NODE_MODULES / "oidc-provider").is_dir():
            raise RuntimeError(
                f"{NODE_MODULES} is missing: run `make test` (it installs tests/idp's npm packages)"
            )
        workdir.mkdir(parents=True, exist_ok=True)
        config_path = workdir / "idp-config.json"
        config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        log_path = workdir / "idp.log"
        log_file = log_path.open("wb")
        try:
            process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
                [node, str(SERVER), str(config_path)],
                cwd=IDP_DIR,
                stdin=subprocess.PIPE,  # held open: the server exits when it closes
                stdout=subprocess.PIPE,
                stderr=log_file,
            )
        except BaseException:
            log_file.close()
            raise
        line = _read_line(process, timeout)
        issuer = _ready_issuer(line) if line else None
        if issuer is not None:
            return cls(process, issuer, config, log_path, log_file)
        if line == b"":
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_TIMEOUT)
            state = f"exited (status {process.returncode}) before listening"
        elif line is None:
            state = f"printed no ready line within {timeout} s"
        else:
            state = f"printed {line!r} instead of its ready line"
        _shutdown(process, httpx.Client(), [log_file])
        error = SilentStart if line is None else RuntimeError
        raise error(
            f"the test IdP {state}; its log, {log_path}:\n"
            + log_path.read_text(encoding="utf-8", errors="replace")
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """End the provider (idempotent; also done when the object is collected, or at exit)."""
        self._finalizer()

    @property
    def running(self) -> bool:
        return self._finalizer.alive and self._process.poll() is None

    def log(self) -> str:
        """What the server wrote to stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    # -- metadata -----------------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The provider's OpenID Connect discovery document."""
        response = self._http.get("/.well-known/openid-configuration")
        if response.status_code != 200:
            raise _oauth_error(response, "discovery")
        metadata: dict[str, Any] = response.json()
        return metadata

    def _endpoint(self, name: str) -> str:
        if self._metadata is None:
            self._metadata = self.discovery()
        url: str = self._metadata[name]
        return url

    def jwks(self) -> dict[str, Any]:
        """The provider's published keys (its jwks_uri)."""
        response = self._http.get(self._endpoint("jwks_uri"))
        if response.status_code != 200:
            raise _oauth_error(response, "jwks")
        keys: dict[str, Any] = response.json()
        return keys

    # -- tokens -------------------------------------------------------------------------------

    def _client_post(
        self, endpoint: str, data: dict[str, str], client_id: str, secret: str | None
    ) -> httpx.Response:
        """POST a form as the client: client_secret_basic, or client_id alone if public."""
        url = self._endpoint(endpoint)
        if secret is None:
            return self._http.post(url, data={**data, "client_id": client_id})
        return self._http.post(url, data=data, auth=httpx.BasicAuth(client_id, secret))

    def _token_request(
        self, data: dict[str, str], client_id: str, secret: str | None, what: str
    ) -> dict[str, Any]:
        response = self._client_post("token_endpoint", data, client_id, secret)
        if response.status_code != 200:
            raise _oauth_error(response, what)
        body: dict[str, Any] = response.json()
        return body

    def client_credentials(
        self, client_id: str, secret: str, *, resource: str | None = None, scope: str | None = None
    ) -> str:
        """An access token for the client itself (client_secret_basic)."""
        data = {"grant_type": "client_credentials"}
        if resource is not None:
            data["resource"] = resource
        if scope is not None:
            data["scope"] = scope
        body = self._token_request(data, client_id, secret, "client credentials grant")
        token: str = body["access_token"]
        return token

    def person_token(
        self,
        page: Page,
        *,
        username: str,
        password: str,
        client_id: str = "cs-console",
        totp_secret: str | None = None,
        acr_values: str | None = None,
        max_age: int | None = None,
        prompt: str | None = None,
        scope: str = "openid profile orders",
        resource: str | None = None,
    ) -> dict[str, Any]:
        """The token endpoint's answer after signing in as `username` in `page`.

        Authorization code flow with PKCE (S256), random state and nonce (both checked). The
        login form is filled if the provider shows it (a page whose context already has a
        session may go straight back); the one-time code page too, with `totp_secret`'s
        current code. Raises IdPError when the provider refuses.
        """
        client = self.clients[client_id]
        redirect_uri = client.redirect_uris[0]
        state = secrets.token_urlsafe(16)
        nonce = secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(48)
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": _b64url(hashlib.sha256(verifier.encode("ascii")).digest()),
            "code_challenge_method": "S256",
        }
        optional = {"acr_values": acr_values, "prompt": prompt, "resource": resource}
        params.update({key: value for key, value in optional.items() if value is not None})
        if max_age is not None:
            params["max_age"] = str(max_age)

        page.goto(f"{self._endpoint('authorization_endpoint')}?{urlencode(params)}")
        step = _step(page, "login-page", "otp-page", "callback-page", "error-page")
        if step == "login-page":
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            step = _step(page, "login-error", "otp-page", "callback-page", "error-page")
        if step == "otp-page":
            if totp_secret is None:
                raise IdPError(
                    f"the provider asks {username} for a one-time code: pass totp_secret"
                )
            page.get_by_label("One-time code").fill(pyotp.TOTP(totp_secret).now())
            page.get_by_role("button", name="Verify").click()
            step = _step(page, "otp-error", "callback-page", "error-page")
        if step != "callback-page":
            raise IdPError(f"signing in as {username} failed ({step}): {page.inner_text('main')}")

        query = parse_qs(urlsplit(page.url).query)
        if query.get("state") != [state]:
            raise IdPError(f"the callback's state {query.get('state')} is not the one sent")
        if "error" in query:
            error = query["error"][0]
            description = query.get("error_description", [""])[0]
            raise IdPError(f"authorization refused: {error}: {description}", error=error)
        if query.get("iss") != [self.issuer]:  # RFC 9207
            raise IdPError(f"the callback's iss {query.get('iss')} is not {self.issuer}")
        code = page.locator("#code").inner_text()

        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        body = self._token_request(data, client_id, client.secret, "authorization code grant")
        if "id_token" in body and _jwt_payload(body["id_token"]).get("nonce") != nonce:
            raise IdPError("the ID token's nonce is not the one sent")
        return body

    def refresh(
        self, refresh_token: str, *, client_id: str = "cs-console", resource: str | None = None
    ) -> dict[str, Any]:
        """The token endpoint's answer to a refresh_token grant."""
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if resource is not None:
            data["resource"] = resource
        secret = self.clients[client_id].secret
        return self._token_request(data, client_id, secret, "refresh token grant")

    def revoke(
        self,
        token: str,
        client_id: str,
        secret: str | None = None,
        *,
        token_type_hint: str | None = None,
    ) -> None:
        """RFC 7009 revocation; IdPError if refused (a JWT access token: unsupported_token_type).

        Without `secret` the client is public: `client_id` goes in the form.
        """
        data = {"token": token}
        if token_type_hint is not None:
            data["token_type_hint"] = token_type_hint
        response = self._client_post("revocation_endpoint", data, client_id, secret)
        if response.status_code != 200:
            raise _oauth_error(response, "revocation")

    def introspect(self, token: str, client_id: str, secret: str) -> dict[str, Any]:
        """RFC 7662 introspection (client_secret_basic); IdPError if refused (JWTs are)."""
        response = self._client_post("introspection_endpoint", {"token": token}, client_id, secret)
        if response.status_code != 200:
            raise _oauth_error(response, "introspection")
        body: dict[str, Any] = response.json()
        return body

    # -- test controls ------------------------------------------------------------------------

    def _control(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(f"/__control/{action}", json=body)
        if response.status_code != 200:
            raise _oauth_error(response, f"control {action}")
        result: dict[str, Any] = response.json()
        return result

    def rotate(self, *, keep_old: bool = True) -> str:
        """Sign with a new key from now on; the JWKS keeps the old ones if `keep_old`. Its kid."""
        kid: str = self._control("rotate", {"keep_old": keep_old})["kid"]
        return kid

    def override(
        self,
        path: str,
        *,
        status: int = 200,
        body: str = "",
        content_type: str = "application/json",
        pad: int = 0,
    ) -> None:
        """Answer `path` (e.g. the JWKS's or /introspect) with this instead, until cleared:
        the provider broken or hostile. `pad` spaces follow `body` (a large answer, cheaply)."""
        self._control(
            "override",
            {
                "path": path,
                "status": status,
                "body": body,
                "content_type": content_type,
                "pad": pad,
            },
        )

    def clear_override(self, path: str) -> None:
        """`path` answers as the provider does again."""
        self._control("override", {"path": path, "clear": True})

    def path_of(self, endpoint: str) -> str:
        """The path of a discovery endpoint (`jwks_uri`, `introspection_endpoint`)."""
        return urlsplit(self._endpoint(endpoint)).path

    def disable(self, user: str) -> dict[str, Any]:
        """The user (id or username) can no longer sign in; their grants and sessions end.

        JWT access tokens already issued stay valid until they expire (nothing stores them).
        Answers {"user", "revoked_grants", "ended_sessions"}.
        """
        return self._control("disable", {"user": user})


def _step(page: Page, *ids: str) -> str:
    """Wait until the page shows one of the elements `ids` (by id); which one."""
    selector = ", ".join(f"#{id_}" for id_ in ids)
    page.locator(selector).first.wait_for(timeout=PAGE_TIMEOUT_MS)
    for id_ in ids:
        if page.locator(f"#{id_}").count():
            return id_
    raise AssertionError("unreachable: an element was there a moment ago")  # pragma: no cover
