"""The standalone entry (``python -m dcycle_async.testing``) and the pytest plugin."""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp
import anyio
import pytest
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream
from dcycle_async.testing.__main__ import _parser, parse_records

START_TIMEOUT = 30.0


async def _read_until_ready(process: Process) -> dict[str, str]:
    assert process.stdout is not None
    text = ""
    with anyio.fail_after(START_TIMEOUT):
        async for chunk in TextReceiveStream(process.stdout):
            text += chunk
            if "READY " in text and text.endswith("\n"):
                break
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(": ")
        if sep:
            fields[key] = value.strip()
        elif line.startswith("READY "):
            fields["ready"] = line.removeprefix("READY ").strip()
    return fields


@pytest.mark.anyio
async def test_python_m_serves_until_terminated(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    """The module runs standalone: seeds, prints READY <url>, serves, stops on SIGTERM."""
    command = [
        sys.executable,
        "-m",
        "dcycle_async.testing",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--records",
        "transports=1_000,invoices=50",
        "--ids-dir",
        str(tmp_path),
        "--seed",
        "1",
        "--api-key",
        "sk_test_cli",
    ]
    async with await anyio.open_process(command) as process:
        try:
            fields = await _read_until_ready(process)
            url = fields["ready"]
            assert url.startswith("http://127.0.0.1:")
            assert fields["api key"] == "sk_test_cli"
            headers = {"x-api-key": "sk_test_cli", "x-organization-id": fields["organization id"]}
            async with session.get(f"{url}/v1/transports?size=1", headers=headers) as response:
                assert response.status == 200
                assert (await response.json())["total"] == 1_000
            transports = (tmp_path / "transports.txt").read_text().split()
            assert len(transports) == 1_000
            invoices = (tmp_path / "invoices.txt").read_text().split()
            assert len(invoices) == 50
            link = {"entity_type": "invoices", "entity_ids": invoices[:3]}
            path = f"{url}/v1/projects/{fields['project id']}/entities/link"
            async with session.post(path, json=link, headers=headers) as response:
                assert await response.json() == {"created": 3, "skipped": 0}
        finally:
            process.terminate()
        with anyio.fail_after(START_TIMEOUT):
            code = await process.wait()
            assert process.stderr is not None
            errors = "".join([chunk async for chunk in TextReceiveStream(process.stderr)])
    assert code == 0, errors
    assert errors == ""  # no traceback, no log noise


def test_seed_is_the_random_seed_and_records_are_counts() -> None:
    """--seed (alias --random-seed) is Emulator(seed=)'s random seed; --records the counts."""
    args = _parser().parse_args(["--seed", "3", "--records", "vehicles=2"])
    assert (args.seed, args.records) == (3, {"vehicles": 2})
    assert _parser().parse_args(["--random-seed", "4"]).seed == 4
    assert _parser().parse_args([]).seed is None


def test_parse_records() -> None:
    """--records takes NAME=COUNT pairs of seedable names."""
    assert parse_records("transports=100_000, vehicles=5,invoices=2") == {
        "transports": 100_000,
        "vehicles": 5,
        "invoices": 2,
    }
    assert parse_records("") == {}
    for bad in ("wastes=1", "transports", "transports=many", "transports=-1"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_records(bad)


def test_pytest_plugin_fixtures(tmp_path: Path) -> None:
    """The plugin's fixtures (emulator, org, client, factory, no-backoff) work in a fresh run."""
    (tmp_path / "test_uses_plugin.py").write_text(
        textwrap.dedent(
            """
            import aiohttp
            import pytest

            @pytest.fixture
            def anyio_backend():
                return "asyncio"

            @pytest.mark.anyio
            async def test_fixtures(dcycle_emulator, dcycle_org):
                dcycle_emulator.store.seed_transports(dcycle_org.id, 3)
                headers = {"x-api-key": dcycle_org.api_key, "x-organization-id": dcycle_org.id}
                async with aiohttp.ClientSession() as session:
                    url = dcycle_emulator.url + "/v1/transports"
                    async with session.get(url, headers=headers) as response:
                        assert (await response.json())["total"] == 3

            @pytest.mark.anyio
            async def test_client_retries_without_sleeping(
                dcycle_emulator, dcycle_org, dcycle_client, dcycle_no_backoff
            ):
                from dcycle_async import RetryPolicy
                from dcycle_async.testing import Fault

                ids = dcycle_emulator.store.seed_transports(dcycle_org.id, 5)
                dcycle_emulator.faults.add(Fault("status", status=503, retry_after="60", times=2))
                assert RetryPolicy().delay(1, retry_after=60) == 0
                report = await dcycle_client.transports.bulk_delete(ids)
                assert report.ok and report.retries == 2
                assert not dcycle_emulator.store.transport_ids(dcycle_org.id)

            @pytest.mark.anyio
            async def test_client_factory(
                dcycle_emulator, dcycle_org, dcycle_client_factory, dcycle_no_backoff
            ):
                ids = dcycle_emulator.store.seed_vehicles(dcycle_org.id, 4)
                patient = dcycle_client_factory(max_retries=6, max_concurrency=1)
                by_token = dcycle_client_factory(bearer_token=dcycle_org.bearer_token)
                assert patient.retry_policy.max_retries == 6
                assert (await by_token.vehicles.list()).total == 4
                dcycle_emulator.faults.add(Fault_503_x5())
                report = await patient.vehicles.bulk_delete(ids)
                assert report.ok and report.retries == 5
                assert dcycle_emulator.peak_in_flight == 1

            def Fault_503_x5():
                from dcycle_async.testing import Fault
                return Fault("status", status=503, times=5)
            """
        )
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:dcycle_async",
            "-p",
            "dcycle_async.testing.plugin",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
