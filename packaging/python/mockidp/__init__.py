"""Run mockidp, the fake OAuth2 / OpenID Connect identity provider, from Python.

:class:`MockIdp` starts the ``mockidp`` binary this wheel installs on a free loopback port and
drives it through its admin API (``/_mockidp/...``, described by ``GET /_mockidp/openapi.json``).
The pytest plugin (:mod:`mockidp.pytest_plugin`) wraps it in a ``mockidp`` fixture.

Only the standard library is used: the client speaks HTTP with :mod:`urllib.request`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Dict, List, Mapping, Optional, Sequence, Type, Union

__all__ = ["MockIdp", "Namespace", "MockIdpError", "find_binary", "__version__"]
__version__ = "0.1.0"

StrPath = Union[str, "os.PathLike[str]"]
Json = Dict[str, Any]

#: The banner line the server prints once it listens: ``mockidp 0.1.0 listening on URL (...)``.
_LISTENING = re.compile(r"^mockidp \S+ listening on (\S+)")


class MockIdpError(RuntimeError):
    """The server did not start, or the admin API refused a request (its ``error`` and
    ``error_description`` are in the message)."""


def find_binary() -> str:
    """The ``mockidp`` executable: ``$MOCKIDP_BIN``, else the one this wheel installed next to
    the running interpreter (a venv's ``bin/``, even when that venv is not activated), else the
    first on ``PATH``."""
    explicit = os.environ.get("MOCKIDP_BIN")
    if explicit:
        return explicit
    for scripts in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(scripts) / "mockidp"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("mockidp")
    if found:
        return found
    raise MockIdpError("no mockidp binary: install the mockidp wheel or set MOCKIDP_BIN")


class _Controls:
    """What a server and a namespace have in common: their issuers, minted tokens and the test
    controls of the admin API, all sent to ``_admin_url``."""

    url: str
    _admin_url: str
    _admin_token: Optional[str]
    _issuer_urls: Dict[str, str]

    @property
    def _admin_path(self) -> str:
        return urllib.parse.urlsplit(self._admin_url).path

    # --- issuers and tokens --------------------------------------------------------------------

    def issuer_url(self, name: str) -> str:
        """The ``iss`` of issuer ``name``, as its discovery document announces it (so a
        fixture's ``public_url`` or ``frontend_url`` is honoured)."""
        try:
            return self._issuer_urls[name]
        except KeyError:
            known = ", ".join(self._issuer_urls) or "none"
            raise MockIdpError(f"no issuer {name!r} (known: {known})") from None

    @property
    def issuers(self) -> List[Json]:
        """Every issuer with its dialect, path, client ids and usernames (``GET /issuers``)."""
        return self.admin("GET", "/issuers")  # type: ignore[no-any-return]

    def token(
        self,
        client: str,
        *,
        issuer: Optional[str] = None,
        user: Optional[str] = None,
        claims: Optional[Mapping[str, Any]] = None,
        scope: Optional[str] = None,
        ttl: Optional[int] = None,
    ) -> str:
        """A signed access token for ``client`` (and ``user``), minted directly with no OAuth
        flow; ``claims`` are added or replace the issued ones. ``issuer`` defaults to the one
        that has ``client``."""
        body: Json = {"issuer": issuer or self._issuer_of(client), "client_id": client}
        if user is not None:
            body["username"] = user
        if claims:
            body["claims"] = dict(claims)
        if scope is not None:
            body["scope"] = scope
        if ttl is not None:
            body["ttl_secs"] = ttl
        return str(self.admin("POST", "/tokens", body)["access_token"])

    # --- test control --------------------------------------------------------------------------

    def override(
        self,
        claims: Optional[Mapping[str, Any]] = None,
        *,
        header: Optional[Mapping[str, Any]] = None,
        client_id: Optional[str] = None,
        issuer: Optional[str] = None,
        username: Optional[str] = None,
        token: Optional[str] = None,
        count: int = 1,
    ) -> None:
        """Changes the claims (``None`` removes one) and JWT header members of the next ``count``
        tokens issued (to ``client_id`` / ``username`` / at ``issuer`` when given; ``token`` is
        ``"access_token"`` or ``"id_token"``)."""
        body = _present(
            claims=dict(claims) if claims is not None else None,
            header=dict(header) if header is not None else None,
            client_id=client_id,
            issuer=issuer,
            username=username,
            token=token,
            count=count,
        )
        self.admin("POST", "/overrides", body)

    def defect(
        self,
        defect: str,
        *,
        client_id: Optional[str] = None,
        issuer: Optional[str] = None,
        username: Optional[str] = None,
        token: Optional[str] = None,
        count: int = 1,
    ) -> None:
        """Breaks the next ``count`` tokens: ``expired``, ``not_yet_valid``, ``wrong_issuer``,
        ``wrong_audience``, ``bad_signature``, ``unknown_kid`` or ``alg_none``."""
        body = _present(
            defect=defect,
            client_id=client_id,
            issuer=issuer,
            username=username,
            token=token,
            count=count,
        )
        self.admin("POST", "/defects", body)

    def fail(
        self,
        endpoint: str,
        *,
        status: Optional[int] = None,
        error: Optional[str] = None,
        error_description: Optional[str] = None,
        delay_ms: Optional[int] = None,
        drop: Optional[bool] = None,
        issuer: Optional[str] = None,
        count: int = 1,
    ) -> None:
        """Fails the next ``count`` calls of ``endpoint`` (``token``, ``discovery``, ``jwks``,
        ``userinfo``, ...): an HTTP ``status`` with an OAuth ``error``, a ``delay_ms``, or a
        dropped connection (``drop=True``)."""
        body = _present(
            endpoint=endpoint,
            status=status,
            error=error,
            error_description=error_description,
            delay_ms=delay_ms,
            drop=drop,
            issuer=issuer,
            count=count,
        )
        self.admin("POST", "/failures", body)

    def advance_clock(self, seconds: int) -> int:
        """Moves the server's clock forward (tokens, codes and sessions expire on demand);
        returns the server's new time (seconds since the epoch)."""
        return int(self.admin("POST", "/clock", {"advance_secs": seconds})["now"])

    def now(self) -> int:
        """The server's time (seconds since the epoch, clock offset included)."""
        return int(self.admin("GET", "/clock")["now"])

    def rotate_keys(self, grace_secs: Optional[int] = None) -> Json:
        """A new signing key; the old one stays in the JWKS for ``grace_secs``."""
        return self.admin("POST", "/keys/rotate", _present(grace_secs=grace_secs))  # type: ignore[no-any-return]

    def journal(self, **filters: Union[str, int]) -> List[Json]:
        """The requests the server saw, oldest first (no secrets, codes or tokens). Filters:
        ``issuer``, ``client_id``, ``grant_type``, ``endpoint``, ``outcome``, ``limit``."""
        query = urllib.parse.urlencode({k: str(v) for k, v in filters.items()})
        return self.admin("GET", "/journal" + (f"?{query}" if query else ""))  # type: ignore[no-any-return]

    def clear_journal(self) -> None:
        """Forgets the journal."""
        self.admin("DELETE", "/journal")

    def put_client(self, issuer: str, client: Mapping[str, Any]) -> None:
        """Adds or replaces a client (``{"id": ..., "secret": ..., "grants": [...], ...}``)."""
        self.admin("PUT", f"/issuers/{_segment(issuer)}/clients/{_segment(client['id'])}", dict(client))

    def put_user(self, issuer: str, user: Mapping[str, Any]) -> None:
        """Adds or replaces a user (``{"username": ..., "password": ..., "claims": {...}}``)."""
        self.admin("PUT", f"/issuers/{_segment(issuer)}/users/{_segment(user['username'])}", dict(user))

    def reset(self) -> None:
        """Back to the fixtures: clients, users, key and clock; every token, session, queued
        rule and journal entry forgotten."""
        self.admin("POST", "/reset")

    def admin(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        """Calls the admin API at ``/_mockidp{path}`` (a namespace's: ``/_mockidp/ns/{id}{path}``);
        returns the decoded JSON (``None`` for an empty answer). A 4xx/5xx raises
        :class:`MockIdpError` with the server's explanation."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self._admin_url}{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._admin_token is not None:
            request.add_header("Authorization", f"Bearer {self._admin_token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")
            raise MockIdpError(f"{method} {self._admin_path}{path}: HTTP {e.code} {detail}") from None
        except urllib.error.URLError as e:
            raise MockIdpError(f"{method} {self._admin_path}{path}: {e.reason}") from None
        return json.loads(raw) if raw else None

    def _issuer_of(self, client: str) -> str:
        for issuer in self.issuers:
            if client in issuer["clients"]:
                return str(issuer["name"])
        raise MockIdpError(f"no issuer has a client {client!r}: pass issuer=")


class MockIdp(_Controls):
    """A running mockidp server. Start one with :meth:`start`; stop it with :meth:`stop` or by
    using it as a context manager.

    ``url`` is the base URL (``http://127.0.0.1:PORT``); ``issuer_url(name)`` the URL of one
    issuer of the fixtures (``iopole``, ``inqom`` and ``generic`` by default)."""

    url: str
    #: Path of the server's log (its stdout and stderr: start-up, refused requests with their
    #: reasons, logins); removed by :meth:`stop`.
    log_path: Path

    def __init__(
        self,
        process: "Optional[subprocess.Popen[bytes]]",
        url: str,
        log: Optional[IO[bytes]],
        admin_token: Optional[str],
    ) -> None:
        self._process = process
        self.url = url
        self._admin_url = f"{url}/_mockidp"
        self._log = log
        self.log_path = Path(log.name) if log is not None else Path(os.devnull)
        self._admin_token = admin_token
        self._issuers: List[Json] = []
        self._issuer_urls: Dict[str, str] = {}

    # --- life cycle ----------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        fixtures: Optional[StrPath] = None,
        *,
        admin_token: Optional[str] = None,
        binary: Optional[StrPath] = None,
        args: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        timeout: float = 10.0,
    ) -> "MockIdp":
        """Starts a server on a free loopback port and waits until it answers.

        ``fixtures``: a TOML fixture file (default: the built-in ``fixtures/default.toml``).
        ``admin_token``: pass it when the fixtures protect the admin API (or to protect it).
        ``args``: more ``mockidp serve`` flags (e.g. ``["--generate-keys"]``).
        ``env``: extra environment (e.g. ``{"RUST_LOG": "mockidp=debug"}``)."""
        command = [str(binary or find_binary()), "serve", "--bind", "127.0.0.1", "--port", "0"]
        if fixtures is not None:
            command += ["--config", str(fixtures)]
        if admin_token is not None:
            command += ["--admin-token", admin_token]
        command += list(args)
        child_env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "info")}
        # The server's own flags win over a stray MOCKIDP_PORT/MOCKIDP_BIND in the caller's env.
        for name in ("MOCKIDP_PORT", "MOCKIDP_BIND", "MOCKIDP_CONFIG", "MOCKIDP_ADMIN_TOKEN"):
            child_env.pop(name, None)
        child_env.update(env or {})
        log = tempfile.NamedTemporaryFile(prefix="mockidp-", suffix=".log", delete=False)
        log_path = Path(log.name)
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=child_env
        )
        try:
            url = _wait_until_listening(process, log, log_path, timeout)
        except BaseException:
            _terminate(process)
            log.close()
            log_path.unlink(missing_ok=True)
            raise
        idp = cls(process, url, log, admin_token)
        idp._load_issuers()
        return idp

    @classmethod
    def connect(cls, url: str, *, admin_token: Optional[str] = None) -> "MockIdp":
        """A server that is already running (a container of the CI job, say) at base URL
        ``url``: the same controls, no process of ours (:meth:`stop` leaves it running, and
        :meth:`log` is empty). Give each test a :meth:`namespace` rather than :meth:`reset`
        when other workers share that server."""
        idp = cls(None, url.rstrip("/"), None, admin_token)
        idp._load_issuers()
        return idp

    def namespace(
        self,
        id: Optional[str] = None,
        *,
        fixtures: Optional[Union[StrPath, Mapping[str, Any]]] = None,
        own_keys: bool = False,
    ) -> "Namespace":
        """An isolated copy of every issuer on this server, for one test or one CI worker:
        its own clients, users, sessions, tokens, journal, queued rules and clock, under
        ``{url}/ns/{id}``. ``fixtures``: a TOML fixture file or the same structure as a dict
        (default: a copy of the server's fixtures); ``own_keys``: sign with a key of its own.
        Delete it with :meth:`Namespace.delete` or by using it as a context manager; an idle
        one expires by itself (``--namespace-idle``)."""
        body: Json = _present(id=id, own_keys=own_keys or None)
        if isinstance(fixtures, Mapping):
            body["fixtures"] = dict(fixtures)
        elif fixtures is not None:
            body["fixtures"] = Path(fixtures).read_text()
        return Namespace(self, self.admin("POST", "/namespaces", body))

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its log. Safe to call
        twice."""
        if self._process is None:  # connected to a server that is not ours
            return
        _terminate(self._process)
        if self._log is not None:
            self._log.close()
        self.log_path.unlink(missing_ok=True)

    @property
    def running(self) -> bool:
        """Whether the server process is still alive (always true for a connected server)."""
        return self._process is None or self._process.poll() is None

    def __enter__(self) -> "MockIdp":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"MockIdp(url={self.url!r})"

    # --- logs ----------------------------------------------------------------------------------

    def log(self, since: int = 0) -> str:
        """The server's log from byte offset ``since`` (see :meth:`log_size`); empty once
        stopped, and for a connected server."""
        if self._log is None:
            return ""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        """The log's current length: pass it to :meth:`log` later for what came after."""
        if self._log is None:
            return 0
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    # --- internals -----------------------------------------------------------------------------

    def _load_issuers(self) -> None:
        """Reads every issuer's URL from its discovery document once, then clears the journal
        so that tests see only their own requests."""
        self._issuers = self.issuers
        for issuer in self._issuers:
            discovery = f"{self.url}{issuer['path']}/.well-known/openid-configuration"
            with urllib.request.urlopen(discovery, timeout=10) as response:
                self._issuer_urls[issuer["name"]] = json.load(response)["issuer"]
        self.clear_journal()


class Namespace(_Controls):
    """Issuers of one test's own on a shared server (:meth:`MockIdp.namespace`): the same
    controls as :class:`MockIdp`, applied to this namespace only. ``url`` is its base
    (``{server}/ns/{id}``); ``issuer_url(name)`` its issuers' URLs."""

    def __init__(self, server: MockIdp, created: Json) -> None:
        self.server = server
        self.id: str = str(created["id"])
        self.url = str(created["url"])
        self._admin_url = str(created["admin_url"])
        self._admin_token = server._admin_token
        self._issuer_urls = {str(k): str(v) for k, v in created["issuers"].items()}

    def delete(self) -> None:
        """Removes the namespace and everything in it. Safe to call twice."""
        try:
            self.server.admin("DELETE", f"/namespaces/{_segment(self.id)}")
        except MockIdpError as e:
            if "HTTP 404" not in str(e):
                raise

    def __enter__(self) -> "Namespace":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.delete()

    def __repr__(self) -> str:
        return f"Namespace(id={self.id!r}, url={self.url!r})"


def _wait_until_listening(
    process: "subprocess.Popen[bytes]", log: IO[bytes], log_path: Path, timeout: float
) -> str:
    """Reads the banner on stdout until ``ready``; returns the URL it announced. The rest of
    stdout keeps flowing into the log (a full pipe would block the server)."""
    assert process.stdout is not None
    stdout = process.stdout
    found: Dict[str, str] = {}
    done = threading.Event()

    def pump() -> None:
        for raw in stdout:
            line = raw.decode(errors="replace")
            try:
                log.write(raw)
                log.flush()
            except ValueError:  # stop() closed the log: the server is going away
                break
            match = _LISTENING.match(line)
            if match:
                found["url"] = match.group(1)
            if line.strip() == "ready":
                done.set()
        done.set()

    threading.Thread(target=pump, name="mockidp-stdout", daemon=True).start()
    deadline = time.monotonic() + timeout
    while not done.wait(0.01):
        if time.monotonic() > deadline:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise MockIdpError(f"mockidp was not ready within {timeout} s; its log:\n{tail}")
    if "url" not in found:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise MockIdpError(f"mockidp exited ({process.poll()}) before it was ready:\n{tail}")
    return found["url"]


def _terminate(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _present(**fields: Any) -> Json:
    """The fields that were given (the admin API rejects unknown members, not absent ones)."""
    return {k: v for k, v in fields.items() if v is not None}


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")
