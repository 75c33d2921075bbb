"""Credentials never show: not in reprs, errors, tracebacks, logs or the CLI's output.

API keys and bearer tokens are fuzzed with Hypothesis (printable text, text
shaped like URLs, JSON and quoting, non-ASCII), then driven through every
path where one could surface: the client's and config's reprs, construction
errors, 401/403/404/422/500 answers (also answers that echo the key back),
dropped and refused connections, timeouts, DEBUG logs of every logger, and
the command line with the key in a flag or in the environment.  Plain http
is refused for non-loopback hosts, and redirects, which would carry the key
elsewhere, are never followed.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys
import traceback
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import pytest
from dcycle_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BulkOperationError,
    ClientConfig,
    DcycleClient,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    UnprocessableEntityError,
)
from dcycle_async._cli import _confirm
from dcycle_async._cli._main import main_async
from dcycle_async.testing import Emulator, Fault
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ..conftest import ORG_ID, Reply, ScriptedServer, make_client, serve_scripted

pytestmark = pytest.mark.anyio

V: Final = "0f1e2d3c-4b5a-4697-8877-665544332211"
_ENV_NAMES: Final = ("DCYCLE_API_KEY", "DCYCLE_BEARER_TOKEN", "DCYCLE_ORG_ID", "DCYCLE_BASE_URL")

# --- the secrets ---------------------------------------------------------------------

_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_UNICODE = st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"))
_QUOTING = st.sampled_from(list("'\"`\\{}[]<>%&=?#:/;, \t"))
_cores = st.one_of(
    st.text(_PRINTABLE, min_size=8, max_size=48),
    st.text(_PRINTABLE | _UNICODE, min_size=8, max_size=32),
    st.text(_QUOTING | _PRINTABLE, min_size=8, max_size=32).filter(lambda s: "\t" not in s),
    st.builds(
        "https://{}@{}/{}?token={}#{}".format,
        st.text(_PRINTABLE, max_size=8),
        st.from_regex(r"[a-z]{1,10}\.example", fullmatch=True),
        st.text(_PRINTABLE, max_size=8),
        st.text(_PRINTABLE, max_size=8),
        st.text(_PRINTABLE, max_size=4),
    ),
    st.dictionaries(
        st.text(_PRINTABLE, max_size=6), st.text(_PRINTABLE, max_size=8), min_size=1, max_size=3
    ).map(json.dumps),
)
# Wrapped, so that every secret is at least 14 characters long with no edge
# whitespace (which the client strips) and cannot occur in output by chance.
SECRETS: Final = _cores.map(lambda core: f"sk_{core}_Zq")

TRICKY: Final = [
    "sk_two  spaces and   three_Zq",  # whitespace runs, which one-line messages collapse
    'sk_{"detail": "x", "code": "INVALID_API_KEY"}_Zq',
    "sk_https://user:pw@evil.example/v1/transports?x=1#frag_Zq",
    "sk_'\"`\\\\ quotes \\n and backslashes_Zq",
    "sk_ünïcödé  漢字 \u2013 keys\u00a0with\u2003spaces_Zq",
    "sk_%2F..%2F%00%0d%0a_Zq",
]

_WHITESPACE = re.compile(r"\s+")


def forms(secret: str) -> set[str]:
    """The ways a leaked secret could be spelled: as is, escaped, quoted, squeezed."""
    return {
        secret,
        repr(secret)[1:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        _WHITESPACE.sub(" ", secret),
        quote(secret, safe=""),
    }


def assert_hidden(secret: str, texts: Iterable[str], where: str) -> None:
    """No spelling of ``secret`` occurs in any of ``texts``."""
    spellings = forms(secret)
    for text in texts:
        for spelling in spellings:
            assert spelling not in text, f"the secret leaked into {where}: {text[:400]!r}"


def exception_texts(exc: BaseException) -> list[str]:
    """Everything an exception can show: str, repr, args, notes, attributes, causes, traceback."""
    texts = ["".join(traceback.format_exception(exc))]
    stack: list[BaseException] = [exc]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        texts.append(repr(getattr(current, "__notes__", None)))
        texts.append(repr(getattr(current, "__dict__", None)))
        report = getattr(current, "report", None)
        if report is not None:
            texts.append(repr(report))
            stack.extend(chunk.error for chunk in report.errors)
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
    return texts


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured log record, formatted with its traceback, message and arguments."""
    texts = [caplog.text]
    for record in caplog.records:
        texts += [record.getMessage(), repr(record.args), repr(record.__dict__)]
    return texts


def credentials(secret: str, bearer: bool) -> dict[str, Any]:
    """The secret as the client's api_key or bearer_token."""
    return {"bearer_token": secret} if bearer else {"api_key": secret}


@asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A TCP server on loopback that accepts connections and never answers."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()  # until the client gives up and closes
        finally:
            writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


# --- the library ---------------------------------------------------------------------


async def every_library_path(secret: str, bearer: bool) -> tuple[list[BaseException], list[str]]:
    """Drive the secret through success and every kind of failure; the errors and reprs."""
    creds = credentials(secret, bearer)
    errors: list[BaseException] = []
    texts: list[str] = []

    def caught(exc: BaseException) -> None:
        errors.append(exc)

    # Construction errors, with the secret among the arguments.
    other = {"api_key": "sk_other_key_1234"} if bearer else {"bearer_token": "tok_other_1234"}
    bad_configs: list[dict[str, Any]] = [
        {**creds, **other, "organization_id": ORG_ID},
        {**creds, "organization_id": "acme"},
        {**creds, "organization_id": ORG_ID, "base_url": "http://api.dcycle.io"},
        {**creds, "organization_id": ORG_ID, "timeout": -1},
        {**creds, "organization_id": ORG_ID, "max_concurrency": 0},
    ]
    for kwargs in bad_configs:
        with pytest.raises((ValueError, TypeError)) as info:
            DcycleClient(**kwargs)
        caught(info.value)

    emu = Emulator(seed=0)
    async with emu.serve() as url:
        stranger = emu.create_organization()
        # 401: the secret opens nothing yet.
        async with DcycleClient(**creds, organization_id=stranger.id, base_url=url) as client:
            with pytest.raises(AuthenticationError) as auth:
                await client.transports.list()
            caught(auth.value)
            with pytest.raises(BulkOperationError) as aborted:
                await client.transports.bulk_delete([V])
            assert isinstance(aborted.value.__cause__, AuthenticationError)
            caught(aborted.value)

        if bearer:
            org = emu.create_organization(bearer_token=secret)
        else:
            org = emu.create_organization(api_key=secret)
        project = emu.store.create_project(org.id)
        routes = emu.store.seed_transports(org.id, 3)
        invoices = emu.store.seed_entities(org.id, "invoices", 3)
        async with DcycleClient(
            **creds, organization_id=org.id, base_url=url, max_retries=1
        ) as client:
            texts += [repr(client), str(client), repr(client.config), str(client.config)]
            texts += [repr(client.projects), repr(client.transports), repr(client.vehicles)]
            texts += [repr(client.retry_policy), repr(client._http)]
            # Success.
            texts.append(repr(await client.transports.list()))
            texts.append(repr(await client.transports.bulk_delete(routes)))
            texts.append(repr(await client.projects.link(project, "invoices", invoices)))
            # 404: a project that does not exist.
            with pytest.raises(BulkOperationError) as missing:
                await client.projects.link(str(uuid.uuid4()), "invoices", invoices)
            assert isinstance(missing.value.__cause__, NotFoundError)
            caught(missing.value)
            # 422, as FastAPI writes it: the offending input echoed back.
            echo_422 = {"detail": [{"loc": ["header", "x-api-key"], "msg": "bad", "input": secret}]}
            emu.faults.add(Fault("status", status=422, body=json.dumps(echo_422), times=1))
            with pytest.raises(UnprocessableEntityError) as invalid:
                await client.vehicles.list()
            caught(invalid.value)
            # 401 whose detail repeats the key.
            echo_401 = {"detail": f"Invalid API key {secret!r}", "code": "INVALID_API_KEY"}
            emu.faults.add(Fault("status", status=401, body=json.dumps(echo_401), times=1))
            with pytest.raises(AuthenticationError) as echoed:
                await client.vehicles.list()
            caught(echoed.value)
            # 500 from a proxy whose HTML page dumps the request headers; retried first.
            page = f"<html><pre>x-api-key: {secret}\nAuthorization: Bearer {secret}</pre></html>"
            emu.faults.add(Fault("status", status=500, body=page, times=2))
            with pytest.raises(ServerError) as server:
                await client.transports.list()
            caught(server.value)
            # A chunk failing with a 500 is reported, not raised.
            emu.faults.add(Fault("status", status=500, body=page, times=2))
            report = await client.vehicles.bulk_delete([V])
            assert isinstance(report.errors[0].error, ServerError)
            texts.append(repr(report))
            caught(report.errors[0].error)
            # Dropped connections, retried, then given up on.
            drop = emu.faults.add(Fault("drop_before"))
            with pytest.raises(APIConnectionError) as dropped:
                await client.transports.list()
            caught(dropped.value)
            emu.faults.remove(drop)

        # 403: the secret's organisation is not this one; 404: no such organisation.
        async with DcycleClient(**creds, organization_id=stranger.id, base_url=url) as client:
            with pytest.raises(PermissionDeniedError) as denied:
                await client.transports.list()
            caught(denied.value)
        async with DcycleClient(**creds, organization_id=V, base_url=url) as client:
            with pytest.raises(NotFoundError) as nowhere:
                await client.transports.list()
            caught(nowhere.value)

    # Nobody listening, and somebody listening who never answers.
    async with DcycleClient(
        **creds, organization_id=ORG_ID, base_url="http://127.0.0.1:9"
    ) as client:
        with pytest.raises(APIConnectionError) as refused:
            await client.transports.list()
        caught(refused.value)
    async with (
        silent_server() as quiet,
        DcycleClient(
            **creds, organization_id=ORG_ID, base_url=quiet, timeout=0.02, max_retries=0
        ) as client,
    ):
        with pytest.raises(APITimeoutError) as timed_out:
            await client.transports.list()
        caught(timed_out.value)
    return errors, texts


_LIBRARY_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_LIBRARY_SETTINGS
@given(secret=SECRETS, bearer=st.booleans())
@example(secret=TRICKY[0], bearer=False)
@example(secret=TRICKY[1], bearer=True)
@example(secret=TRICKY[2], bearer=False)
@example(secret=TRICKY[3], bearer=True)
@example(secret=TRICKY[4], bearer=False)
@example(secret=TRICKY[5], bearer=True)
async def test_secret_never_in_reprs_errors_tracebacks_or_logs(
    secret: str, bearer: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever the key or token, and whatever goes wrong, it is never shown anywhere."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        errors, texts = await every_library_path(secret, bearer)
    assert len(errors) == 17
    assert_hidden(secret, texts, "a repr")
    for exc in errors:
        assert_hidden(secret, exception_texts(exc), f"a {type(exc).__name__}")
    assert any("retrying" in r.getMessage() for r in caplog.records)  # logs were captured
    assert_hidden(secret, log_texts(caplog), "a log record")


@given(secret=SECRETS)
@settings(max_examples=30, deadline=None)
def test_config_shows_only_a_redacted_secret(secret: str) -> None:
    """ClientConfig's repr and str show the credential as asterisks, and reveal() gives it back."""
    for kind in ("api_key", "bearer_token"):
        kwargs: dict[str, Any] = {kind: secret}
        config = ClientConfig.create(**kwargs, organization_id=ORG_ID, environ={})
        credential = config.api_key or config.bearer_token
        assert credential is not None
        assert credential.reveal() == secret
        texts = [repr(config), str(config), repr(credential), str(credential), f"{credential}"]
        assert_hidden(secret, texts, "the config")
        assert "**" in repr(config)


@pytest.mark.parametrize("char", ["\r", "\n", "\x00", "\x01", "\x08", "\x1b", "\x7f", "\x85"])
@pytest.mark.parametrize("kind", ["api_key", "bearer_token"])
def test_control_characters_in_a_credential_are_refused_at_construction(
    kind: str, char: str
) -> None:
    """A control character is no part of a header value: refused up front, without echoing it."""
    secret = f"sk_live_{char}_secret_value_42"
    with pytest.raises(ValueError, match=f"{kind} contains a control character") as info:
        DcycleClient(**{kind: secret}, organization_id=ORG_ID)  # type: ignore[arg-type]
    assert_hidden(secret, exception_texts(info.value), "the construction error")
    assert_hidden(secret.replace(char, ""), exception_texts(info.value), "the construction error")


# --- the command line -----------------------------------------------------------------


async def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The CLI in-process; its exit status and everything it printed."""
    code = await main_async(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(secret=SECRETS, bearer=st.booleans())
@example(secret=TRICKY[0], bearer=False)
@example(secret=TRICKY[4], bearer=True)
@example(secret=TRICKY[1], bearer=False)
async def test_cli_never_prints_the_secret(
    secret: str, bearer: bool, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Key in a flag or in the environment, run ok or rejected (401): never in any output."""
    flag = "--bearer-token" if bearer else "--api-key"
    variable = "DCYCLE_BEARER_TOKEN" if bearer else "DCYCLE_API_KEY"
    report = tmp_path / "report.json"
    ids_file = tmp_path / "ids.txt"
    capsys.readouterr()
    emu = Emulator(seed=0)
    async with emu.serve() as url:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_confirm, "open_tty", lambda: None)
            mp.setattr(sys, "stdin", io.StringIO(""))
            for name in _ENV_NAMES:
                mp.delenv(name, raising=False)
            mp.setenv("DCYCLE_BASE_URL", url)
            stranger = emu.create_organization()
            mp.setenv("DCYCLE_ORG_ID", stranger.id)
            ids_file.write_text(f"{V}\n", encoding="utf-8")
            outputs: list[str] = []
            # Rejected (401): the secret opens nothing yet.
            rejected = [
                [f"{flag}={secret}", "transports", "list"],
                [f"{flag}={secret}", "vehicles", "bulk-delete", str(ids_file), "--yes",
                 "--report", str(report)],
                [f"{flag}={secret}", "transports", "list", secret],  # argparse echoes this one
            ]  # fmt: skip
            for argv in rejected:
                code, output = await run_cli(argv, capsys)
                assert code == 2, output
                outputs.append(output)
            mp.setenv(variable, secret)
            code, output = await run_cli(["vehicles", "list", "--json"], capsys)
            assert code == 2, output
            outputs += [output, report.read_text(encoding="utf-8")]
            # Accepted: the secret now opens an organisation.
            org = emu.create_organization(**credentials(secret, bearer))
            mp.setenv("DCYCLE_ORG_ID", org.id)
            routes = emu.store.seed_transports(org.id, 4)
            ids_file.write_text("\n".join(routes) + "\n", encoding="utf-8")
            code, output = await run_cli(
                ["transports", "bulk-delete", str(ids_file), "--yes", "--json",
                 "--report", str(report)],
                capsys,
            )  # fmt: skip
            assert code == 0, output
            outputs += [output, report.read_text(encoding="utf-8")]
            mp.delenv(variable)
            code, output = await run_cli([f"{flag}={secret}", "transports", "list"], capsys)
            assert code == 0, output
            outputs.append(output)
            assert emu.store.transport_ids(org.id) == set()
    assert_hidden(secret, outputs, "the CLI's output")


# --- transport security -----------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url",
    [
        "http://api.dcycle.io",
        "HTTP://API.DCYCLE.IO",
        "http://10.0.0.1",
        "http://192.168.1.10:8080",
        "http://127.0.0.1.nip.io",
        "http://localhost.evil.example",
        "http://0.0.0.0:8080",
        "http://[::]:8080",
        "http://2130706433",
    ],
)
def test_plain_http_to_a_non_loopback_host_is_refused(base_url: str) -> None:
    """The key would travel in clear text: refused at construction unless explicitly allowed."""
    with pytest.raises(ValueError, match="allow_insecure_http"):
        DcycleClient("sk_test_key_1234", ORG_ID, base_url=base_url)
    client = DcycleClient("sk_test_key_1234", ORG_ID, base_url=base_url, allow_insecure_http=True)
    assert client.config.base_url.lower() == base_url.lower()


def test_plain_http_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """DCYCLE_BASE_URL is held to the same rule."""
    monkeypatch.setenv("DCYCLE_BASE_URL", "http://api.dcycle.io")
    with pytest.raises(ValueError, match="allow_insecure_http"):
        DcycleClient("sk_test_key_1234", ORG_ID)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8080",
        "http://127.0.0.2",
        "http://localhost:8080",
        "http://LOCALHOST",
        "http://[::1]:8080",
        "https://api.dcycle.io",
        "https://10.0.0.1",
    ],
)
def test_https_or_loopback_http_is_accepted(base_url: str) -> None:
    """https anywhere, and plain http to 127.0.0.0/8, localhost or [::1], need no opt-in."""
    assert DcycleClient("sk_test_key_1234", ORG_ID, base_url=base_url).config.base_url


@pytest.mark.parametrize(
    "base_url",
    [
        "https://user:hunter2hunter2@api.dcycle.io",
        "https://:hunter2hunter2@api.dcycle.io",
        "ftp://user:hunter2hunter2@api.dcycle.io",
        "https://user:hunter2hunter2@",
        "api.dcycle.io/?key=hunter2hunter2",
    ],
)
def test_credentials_in_the_base_url_are_refused_without_being_echoed(base_url: str) -> None:
    """A URL with a password is refused; the error does not repeat the password."""
    with pytest.raises(ValueError, match="base_url") as info:
        DcycleClient("sk_test_key_1234", ORG_ID, base_url=base_url)
    assert_hidden("hunter2hunter2", exception_texts(info.value), "the base_url error")


@pytest.fixture
async def elsewhere() -> AsyncIterator[ScriptedServer]:
    """A second scripted server: where a hostile redirect would send the client."""
    async with serve_scripted("localhost") as server:
        yield server


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_never_followed(
    scripted: ScriptedServer, elsewhere: ScriptedServer, status: int
) -> None:
    """A redirect would carry the key to another host or path: it is an error, not followed."""
    secret = "sk_live_never_follow_redirects_42"
    scripted.push(
        Reply(status=status, body=b"", headers={"Location": f"{elsewhere.url}/steal"}),
        Reply(status=status, body=b"", headers={"Location": "/v1/vehicles/bulk-delete"}),
    )
    async with make_client(scripted.url, api_key=secret, max_retries=3) as client:
        with pytest.raises(APIError) as info:
            await client.transports.list()
        assert info.value.status == status
        report = await client.transports.bulk_delete([V])
    assert report.failed_ids == (V,)
    assert isinstance(report.errors[0].error, APIError)
    assert report.errors[0].error.status == status
    assert elsewhere.seen == []
    assert [seen.path for seen in scripted.seen] == ["/v1/transports", "/v1/transports/bulk-delete"]
    assert_hidden(secret, exception_texts(info.value), "the redirect error")
