"""pytest plugin (registered through the ``pytest11`` entry point): the ``mockidp`` fixture.

- ``mockidp``: a :class:`mockidp.MockIdp` for the test. One server runs for the whole session
  (started at the first test that asks for it) and is reset after each test, so tests cannot
  see each other's tokens, rules, clock or journal. ``@pytest.mark.mockidp(fixtures=...,
  admin_token=..., args=[...])`` gives a test a server of its own instead.
- ``mockidp_session``: the shared server itself, not reset (for session-scoped fixtures).
- ``mockidp_namespace``: a :class:`mockidp.Namespace` of the shared server for this test,
  deleted afterwards: issuers of its own, so that tests running at the same time against one
  server (pytest-xdist workers, several CI jobs) never see each other's changes.

With ``MOCKIDP_URL`` set (say ``http://127.0.0.1:8180``, a server already running: a container
of the CI job), no server is started: ``mockidp_session`` connects to that one
(``MOCKIDP_ADMIN_TOKEN`` if it has an admin token), and ``mockidp`` gives each test a namespace
of it instead of resetting a server that other workers share.

Settings, in ``pytest.ini`` / ``[tool.pytest.ini_options]`` of ``pyproject.toml`` (paths are
relative to that file): ``mockidp_fixtures`` (TOML fixture file; default: the built-in
fixtures), ``mockidp_admin_token``. ``MOCKIDP_BIN`` picks another binary.

When a test that used ``mockidp`` fails, the server's log for that test is added to its report
(section ``mockidp server log``): the refused requests are there, each with its reason.
"""

from __future__ import annotations

from pathlib import Path
import os
from typing import Any, Dict, Generator, Optional, Union

import pytest

from . import MockIdp, Namespace

_LOG_START = pytest.StashKey[int]()
_SERVER = pytest.StashKey[MockIdp]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("mockidp_fixtures", "mockidp: TOML fixture file (default: built-in fixtures)")
    parser.addini("mockidp_admin_token", "mockidp: admin token of the fixtures' admin API")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mockidp(fixtures=None, admin_token=None, args=()): run this test against a mockidp "
        "server of its own",
    )


def _settings(config: pytest.Config) -> Dict[str, Any]:
    """The ini settings, fixture path resolved against the ini file's folder."""
    base = config.inipath.parent if config.inipath else config.rootpath
    fixtures: Optional[Path] = None
    value = str(config.getini("mockidp_fixtures") or "")
    if value:
        fixtures = base / value
    token = str(config.getini("mockidp_admin_token") or "") or None
    return {"fixtures": fixtures, "admin_token": token}


@pytest.fixture(scope="session")
def mockidp_session(pytestconfig: pytest.Config) -> Generator[MockIdp, None, None]:
    """The session's shared server: the one at ``MOCKIDP_URL``, else one started on the ini
    settings."""
    shared = os.environ.get("MOCKIDP_URL")
    if shared:
        yield MockIdp.connect(shared, admin_token=os.environ.get("MOCKIDP_ADMIN_TOKEN") or None)
        return
    with MockIdp.start(**_settings(pytestconfig)) as idp:
        yield idp


@pytest.fixture
def mockidp_namespace(request: pytest.FixtureRequest) -> Generator[Namespace, None, None]:
    """A namespace of the shared server for this test (issuers of its own), deleted after."""
    server: MockIdp = request.getfixturevalue("mockidp_session")
    _watch(request.node, server)
    with server.namespace() as ns:
        yield ns


@pytest.fixture
def mockidp(request: pytest.FixtureRequest) -> Generator[Union[MockIdp, Namespace], None, None]:
    """A mockidp server for this test: the shared one, reset afterwards, or its own when the
    test is marked ``@pytest.mark.mockidp(...)``; with ``MOCKIDP_URL`` set, a namespace of the
    server there."""
    marker = request.node.get_closest_marker("mockidp")
    if marker is None and os.environ.get("MOCKIDP_URL"):
        yield request.getfixturevalue("mockidp_namespace")
        return
    if marker is None:
        idp: MockIdp = request.getfixturevalue("mockidp_session")
        _watch(request.node, idp)
        yield idp
        if idp.running:
            idp.reset()
        return
    options = {**_settings(request.config), **marker.kwargs}
    if "fixtures" in marker.kwargs and marker.kwargs["fixtures"] is not None:
        options["fixtures"] = Path(request.node.path).parent / str(marker.kwargs["fixtures"])
    with MockIdp.start(**options) as own:
        _watch(request.node, own)
        yield own


def _watch(item: pytest.Item, idp: MockIdp) -> None:
    """Remembers where this test's part of the server log starts."""
    item.stash[_SERVER] = idp
    item.stash[_LOG_START] = idp.log_size()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    idp = item.stash.get(_SERVER, None)
    if idp is None or not report.failed:
        return
    log = idp.log(item.stash.get(_LOG_START, 0))
    report.sections.append(("mockidp server log", log or "(nothing logged during this test)"))
