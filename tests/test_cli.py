"""The ``dcycle-async`` command line, in-process and as subprocesses, against the emulator."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dcycle_async import Progress
from dcycle_async._cli import _confirm
from dcycle_async._cli._common import Term
from dcycle_async._cli._main import main, main_async
from dcycle_async._cli._progress import make_bars
from dcycle_async.testing import Emulator, Fault, Organization

from .cli_helpers import EmulatorProcess, FakeTTY, KeptOpen, run_cli

SECRET = "sk_live_SECRET_never_print_me_4242"


@pytest.fixture(autouse=True)
def _no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may ever find (and wait on) the real controlling terminal."""
    monkeypatch.setattr(_confirm, "open_tty", lambda: None)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, dcycle_emulator: Emulator, dcycle_org: Organization
) -> Emulator:
    """The library's environment variables pointing at the emulator's organisation."""
    monkeypatch.setenv("DCYCLE_API_KEY", dcycle_org.api_key)
    monkeypatch.setenv("DCYCLE_ORG_ID", dcycle_org.id)
    monkeypatch.setenv("DCYCLE_BASE_URL", dcycle_emulator.url)
    monkeypatch.delenv("DCYCLE_BEARER_TOKEN", raising=False)
    return dcycle_emulator


def write_ids(path: Path, ids: list[str]) -> str:
    """Write ids one per line; the file's path as a string."""
    path.write_text("\n".join(ids) + "\n", encoding="utf-8")
    return str(path)


def ghosts(n: int) -> list[str]:
    """Valid UUIDs that no organisation has."""
    return [str(uuid.uuid4()) for _ in range(n)]


# --- in-process ----------------------------------------------------------------


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--help and --version print and return 0; no command is a usage error (2)."""
    assert main(["--help"]) == 0
    assert "transports" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert "dcycle-async" in capsys.readouterr().out
    assert main([]) == 2
    assert main(["transports", "frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice" in err
    assert "Traceback" not in err


@pytest.mark.anyio
async def test_bulk_delete_from_file_succeeds(
    env: Emulator, dcycle_org: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """All ids deleted: exit 0, a summary on stdout, the JSON report in --report FILE."""
    ids = env.store.seed_transports(dcycle_org.id, 250)
    report = tmp_path / "report.json"
    code = await main_async(
        ["transports", "bulk-delete", write_ids(tmp_path / "ids.txt", ids), "--yes",
         "--chunk-size", "100", "--report", str(report)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "250 deleted, 0 failed" in out
    doc = json.loads(report.read_text())
    assert doc["ok"] is True
    assert doc["success_count"] == 250
    assert sorted(doc["success_ids"]) == sorted(ids)
    assert doc["requests"] == 3
    assert env.store.transport_ids(dcycle_org.id) == set()


@pytest.mark.anyio
async def test_bulk_delete_with_failed_and_invalid_ids_exits_1(
    env: Emulator, dcycle_org: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown and malformed ids: exit 1, and the JSON lists failed and invalid ids."""
    ids = env.store.seed_vehicles(dcycle_org.id, 20)
    unknown = ghosts(3)
    lines = [*ids, *unknown, "not-an-id", "", ids[0], ids[1].upper()]
    code = await main_async(
        ["vehicles", "bulk-delete", write_ids(tmp_path / "ids.txt", lines), "--yes", "--json"]
    )
    out = capsys.readouterr().out
    assert code == 1
    doc = json.loads(out)  # only the JSON on stdout, no summary
    assert doc["ok"] is False
    assert doc["success_count"] == 20
    assert sorted(doc["failed_ids"]) == sorted(unknown)
    assert doc["invalid_ids"] == ["not-an-id"]
    assert doc["duplicate_count"] == 2
    assert doc["uncertain_ids"] == []


@pytest.mark.anyio
async def test_ids_from_stdin(
    env: Emulator,
    dcycle_org: Organization,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """'-' (or no file) reads ids from stdin, streamed; a BOM and blank lines are ignored."""
    ids = env.store.seed_vehicles(dcycle_org.id, 120)
    monkeypatch.setattr(sys, "stdin", io.StringIO("\ufeff" + "\n\n".join(ids) + "\n"))
    code = await main_async(["vehicles", "bulk-delete", "-", "--yes", "--chunk-size", "50"])
    assert code == 0, capsys.readouterr().err
    assert "120 deleted" in capsys.readouterr().out
    assert env.store.vehicle_ids(dcycle_org.id) == set()


@pytest.mark.anyio
async def test_csv_column(
    env: Emulator, dcycle_org: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--column reads one column of a CSV with a header; a missing column is exit 2."""
    ids = env.store.seed_transports(dcycle_org.id, 30)
    csv_file = tmp_path / "export.csv"
    rows = ["name,transport_id,note", *(f'"Route, {n}",{i},x' for n, i in enumerate(ids))]
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")
    code = await main_async(
        ["transports", "bulk-delete", str(csv_file), "--column", "transport_id", "--yes"]
    )
    assert code == 0
    assert "30 deleted, 0 failed" in capsys.readouterr().out
    code = await main_async(["transports", "bulk-delete", str(csv_file), "--column", "id", "--yes"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no column 'id'" in err
    assert "'transport_id'" in err


@pytest.mark.anyio
async def test_confirmation_prompt_yes_and_no(
    env: Emulator,
    dcycle_org: Organization,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """On a terminal the count is shown and asked about: 'n' sends nothing (exit 1), 'y' deletes."""
    ids = env.store.seed_transports(dcycle_org.id, 40)
    path = write_ids(tmp_path / "ids.txt", ids)
    env.reset_stats()
    monkeypatch.setattr(sys, "stdin", FakeTTY("n\n"))
    assert await main_async(["transports", "bulk-delete", path]) == 1
    captured = capsys.readouterr()
    assert "Delete up to 40 transports" in captured.err
    assert "aborted: nothing was deleted" in captured.err
    assert env.requests == []
    monkeypatch.setattr(sys, "stdin", FakeTTY("y\n"))
    assert await main_async(["transports", "bulk-delete", path]) == 0
    assert "40 deleted" in capsys.readouterr().out
    assert env.store.transport_ids(dcycle_org.id) == set()


@pytest.mark.anyio
async def test_ids_on_stdin_are_confirmed_on_the_terminal(
    env: Emulator,
    dcycle_org: Organization,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With the ids on stdin, the question goes to the controlling terminal (count unknown)."""
    ids = env.store.seed_vehicles(dcycle_org.id, 12)
    asked = KeptOpen()
    monkeypatch.setattr(_confirm, "open_tty", lambda: (FakeTTY("yes\n"), asked))
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(ids)))
    assert await main_async(["vehicles", "bulk-delete"]) == 0
    assert "ids are read from stdin (count unknown" in asked.getvalue()
    assert "12 deleted" in capsys.readouterr().out


@pytest.mark.anyio
async def test_delete_without_a_terminal_needs_yes(
    env: Emulator,
    dcycle_org: Organization,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No terminal to ask on (a pipeline) and no --yes: refused with exit 2, nothing sent."""
    ids = env.store.seed_transports(dcycle_org.id, 5)
    env.reset_stats()
    assert await main_async(["transports", "bulk-delete", write_ids(tmp_path / "i", ids)]) == 2
    assert "pass --yes" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(ids)))
    assert await main_async(["transports", "bulk-delete", "-"]) == 2
    assert "the ids come from stdin" in capsys.readouterr().err
    assert await main_async(["transports", "delete-by-filters", "--filter", "status=error"]) == 2
    assert env.requests == []
    assert len(env.store.transport_ids(dcycle_org.id)) == 5


@pytest.mark.anyio
async def test_dry_run_sends_nothing(
    env: Emulator, dcycle_org: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run counts valid, invalid and duplicate ids and sends no request at all."""
    ids = env.store.seed_transports(dcycle_org.id, 10)
    path = write_ids(tmp_path / "ids.txt", [*ids, ids[0], "bogus"])
    env.reset_stats()
    code = await main_async(["transports", "bulk-delete", path, "--dry-run", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1  # the real run would report the invalid id
    assert doc == {
        "operation": "transports bulk-delete",
        "dry_run": True,
        "ok": False,
        "ids_read": 12,
        "valid_count": 10,
        "invalid_ids": ["bogus"],
        "duplicate_count": 1,
    }
    project = env.store.create_project(dcycle_org.id)
    link = ["projects", "link", project, "invoices", write_ids(tmp_path / "l", ids), "--dry-run"]
    assert await main_async(link) == 0
    assert "nothing sent" in capsys.readouterr().out
    assert env.requests == []
    assert len(env.store.transport_ids(dcycle_org.id)) == 10


@pytest.mark.anyio
async def test_link_and_unlink_by_ids(
    env: Emulator, dcycle_org: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """projects link / unlink send chunks of at most 100 ids and report created/deleted."""
    project = env.store.create_project(dcycle_org.id)
    ids = env.store.seed_entities(dcycle_org.id, "invoices", 250)
    path = write_ids(tmp_path / "ids.txt", ids)
    assert await main_async(["projects", "link", project, "invoices", path, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["created"], doc["skipped"], doc["requests"]) == (250, 0, 3)
    assert env.store.linked_ids(project, "invoices") == set(ids)
    unlink = write_ids(tmp_path / "u.txt", ids[:60])
    assert await main_async(["projects", "unlink", project, "invoices", unlink]) == 0
    assert "60 links removed" in capsys.readouterr().out
    assert env.store.linked_ids(project, "invoices") == set(ids[60:])


@pytest.mark.anyio
async def test_missing_project_aborts_with_partial_report(
    env: Emulator, dcycle_org: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 404 project aborts the run: one error line, exit 1, the report lists unsent ids."""
    ids = env.store.seed_entities(dcycle_org.id, "invoices", 150)
    report = tmp_path / "r.json"
    code = await main_async(
        ["projects", "link", str(uuid.uuid4()), "invoices", write_ids(tmp_path / "i", ids),
         "--report", str(report)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "aborted" in err
    assert "Project not found" in err
    doc = json.loads(report.read_text())
    assert doc["ok"] is False
    assert "aborted" in doc
    # Ids of the input not yet read when the run stopped are not in the report.
    assert 100 <= len(doc["failed_ids"]) <= 150
    assert set(doc["failed_ids"]) <= set(ids)


@pytest.mark.anyio
async def test_link_by_filters_and_filter_errors(
    env: Emulator, dcycle_org: Organization, capsys: pytest.CaptureFixture[str]
) -> None:
    """Filters are checked client-side: a bad key is exit 2 listing the allowed keys."""
    project = env.store.create_project(dcycle_org.id)
    env.store.seed_entities(dcycle_org.id, "invoices", 200)
    env.reset_stats()
    bad = ["projects", "link-by-filters", project, "invoices", "--filter", "facility=x"]
    assert await main_async(bad) == 2
    err = capsys.readouterr().err
    assert "unknown filter key 'facility'" in err
    assert "allowed keys: types, statuses, facility_ids, start_date, end_date" in err
    assert await main_async(["projects", "link-by-filters", project, "invoices"]) == 2
    assert "pass --all" in capsys.readouterr().err
    assert env.requests == []
    good = ["projects", "link-by-filters", project, "invoices", "--filter",
            "types=electricity,heat", "--filter", "start_date=2024-01-01", "--json"]  # fmt: skip
    assert await main_async(good) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["request"]["filters"] == {
        "types": ["electricity", "heat"],
        "start_date": "2024-01-01",
    }
    assert doc["created"] == len(env.store.linked_ids(project, "invoices")) > 0


@pytest.mark.anyio
async def test_delete_by_filters_previews_then_deletes(
    env: Emulator, dcycle_org: Organization, capsys: pytest.CaptureFixture[str]
) -> None:
    """delete-by-filters previews (count, sample), then deletes exactly the previewed set."""
    keep = env.store.seed_transports(dcycle_org.id, 30, status="active")
    doomed = env.store.seed_transports(dcycle_org.id, 20, status="error")
    argv = ["transports", "delete-by-filters", "--filter", "status=error,pending"]
    env.reset_stats()
    assert await main_async([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "20 transports match status=error status=pending" in out
    assert "dry run: nothing was deleted" in out
    assert [r.method for r in env.requests] == ["GET"]
    assert await main_async([*argv, "--yes", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matched"] == doc["success_count"] == 20
    assert env.store.transport_ids(dcycle_org.id) == set(keep)
    assert not set(doomed) & env.store.transport_ids(dcycle_org.id)
    assert await main_async(["vehicles", "delete-by-filters", "--yes"]) == 2
    assert "without a filter" in capsys.readouterr().err


@pytest.mark.anyio
async def test_list_outputs(
    env: Emulator, dcycle_org: Organization, capsys: pytest.CaptureFixture[str]
) -> None:
    """list prints a table, a JSON page, or ids only (every page with --all)."""
    ids = env.store.seed_vehicles(dcycle_org.id, 130, status="archived")
    assert await main_async(["vehicles", "list", "--size", "5"]) == 0
    out = capsys.readouterr().out
    assert "1-5 of 130 vehicles" in out
    assert "filter_hash" in out
    assert await main_async(["vehicles", "list", "--filter", "status=archived", "--json"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert (page["total"], len(page["items"]), bool(page["filter_hash"])) == (130, 50, True)
    assert await main_async(["vehicles", "list", "--all", "--ids-only"]) == 0
    assert sorted(capsys.readouterr().out.split()) == sorted(ids)
    assert await main_async(["vehicles", "list", "--filter", "status=gone"]) == 2
    assert "expected one of 'active', 'archived', 'error'" in capsys.readouterr().err


@pytest.mark.anyio
async def test_retries_are_reported(
    env: Emulator, dcycle_org: Organization, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 503 is retried; the report counts the retry and the chunk retried after it."""
    ids = env.store.seed_transports(dcycle_org.id, 10)
    env.faults.add(Fault("status", status=503, times=1))
    argv = ["transports", "bulk-delete", write_ids(tmp_path / "i", ids), "--yes", "--json"]
    assert await main_async(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["requests"], doc["retries"], len(doc["retried_chunks"])) == (2, 1, 1)


@pytest.mark.anyio
async def test_credentials_errors_exit_2_and_never_print_the_key(
    env: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A rejected key is exit 2 with one clear line; the key appears nowhere in the output."""
    path = write_ids(tmp_path / "ids.txt", ghosts(3))
    monkeypatch.setenv("DCYCLE_API_KEY", SECRET)
    runs = [
        ["transports", "bulk-delete", path, "--yes", "--report", str(tmp_path / "r.json")],
        ["vehicles", "list"],
        ["vehicles", "delete-by-filters", "--filter", "status=error", "--yes"],
        ["--api-key", SECRET, "transports", "list", SECRET],  # a usage error echoing it
    ]
    for argv in runs:
        assert await main_async(argv) == 2, argv
        captured = capsys.readouterr()
        assert SECRET not in captured.out + captured.err
        assert "Traceback" not in captured.err
    assert SECRET not in (tmp_path / "r.json").read_text()
    monkeypatch.delenv("DCYCLE_API_KEY")
    assert await main_async(["vehicles", "list"]) == 2
    assert "no credentials: set DCYCLE_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv("DCYCLE_API_KEY", SECRET)
    assert await main_async(["--org-id", "acme", "vehicles", "list"]) == 2
    assert "organization_id must be a UUID" in capsys.readouterr().err
    assert await main_async(["transports", "bulk-delete", str(tmp_path / "nope.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_progress_bars_are_drawn_with_rich() -> None:
    """With a terminal, bars are drawn by rich from the library's Progress callbacks."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    bars = make_bars(Term(stderr=io.StringIO()), console=console)
    assert bars.active
    with bars:
        bar = bars.bar("transports bulk-delete", 300)
        bar(Progress(ids_done=100, ids_total=None, chunks_done=1, chunks_failed=0))
        bar(Progress(ids_done=300, ids_total=None, chunks_done=3, chunks_failed=1))
        bar.finish()
    drawn = buffer.getvalue()
    assert "transports bulk-delete" in drawn
    assert "300/300" in drawn
    assert not make_bars(Term(stderr=io.StringIO())).active  # not a terminal: no bars


@pytest.mark.anyio
async def test_demo_quick_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """demo --quick runs the whole pipeline and every check against the store passes."""
    assert await main_async(["demo", "--quick", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["checks_passed"] is True
    assert [s["name"] for s in doc["steps"]] == [
        "link invoices by ids",
        "link invoices by filters",
        "unlink invoices by ids",
        "preview transports by filters",
        "delete transports by filters",
        "bulk delete vehicles (stream)",
        "bulk delete transports (file)",
    ]


# --- as subprocesses -------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[EmulatorProcess]:
    """``python -m dcycle_async.testing`` in a subprocess, seeded, until the module ends."""
    with EmulatorProcess.start(seed="transports=400,vehicles=50") as process:
        yield process


def test_subprocess_pipeline_through_stdin(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    """list --ids-only piped into bulk-delete - in a real shell pipeline: exit 0, JSON report."""
    report = tmp_path / "report.json"
    cli = f"{sys.executable} -m dcycle_async"
    result = subprocess.run(
        f"{cli} transports list --all --ids-only | {cli} transports bulk-delete - --yes"
        f" --chunk-size 150 --report {report}",
        shell=True,
        env=emulator_process.env(),
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "400 deleted, 0 failed" in result.stdout
    # Not a terminal: no bars; only the listing's one-line note.
    assert result.stderr == "listed 400 transports\n"
    doc = json.loads(report.read_text())
    assert (doc["ok"], doc["success_count"], doc["requests"]) == (True, 400, 3)


def test_subprocess_exit_codes_and_secrecy(
    emulator_process: EmulatorProcess, tmp_path: Path
) -> None:
    """Exit 1 with failed/invalid ids, 2 without confirmation and for a bad key (never shown)."""
    path = write_ids(tmp_path / "ids.txt", [*ghosts(2), "nope"])
    failed = run_cli(["vehicles", "bulk-delete", path, "--yes", "--json"], emulator_process.env())
    assert failed.returncode == 1, failed.stderr
    doc = json.loads(failed.stdout)
    assert (len(doc["failed_ids"]), doc["invalid_ids"]) == (2, ["nope"])

    unconfirmed = run_cli(["vehicles", "bulk-delete", "-"], emulator_process.env(), stdin=path)
    assert unconfirmed.returncode == 2
    assert "pass --yes" in unconfirmed.stderr

    bad_key = run_cli(
        ["vehicles", "bulk-delete", path, "--yes"], emulator_process.env(DCYCLE_API_KEY=SECRET)
    )
    assert bad_key.returncode == 2
    assert bad_key.stderr.count("\n") == 1
    assert "401" in bad_key.stderr
    assert SECRET not in bad_key.stdout + bad_key.stderr


def test_subprocess_demo_quick() -> None:
    """``python -m dcycle_async demo --quick`` completes with exit 0 and a summary table."""
    env: dict[str, Any] = {**os.environ, "COLUMNS": "160"}
    result = subprocess.run(
        [sys.executable, "-m", "dcycle_async", "demo", "--quick"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "bulk delete transports (file)" in result.stdout
    assert "checked against the emulator's store" in result.stdout
