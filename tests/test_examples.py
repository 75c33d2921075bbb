"""The programs in examples/ run, against the emulator, and print what they should.

Each example runs as a user would run it (``python examples/<name>.py``, in
a subprocess, from the repository root) with no ``DCYCLE_*`` variable set,
so it starts its own emulator.  The assertions check the facts it prints
against what it seeded, not just that it exited.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from dcycle_async import DcycleClient
from dcycle_async.testing import Emulator, Organization

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TIMEOUT = 60


def run(*args: str) -> str:
    """Run ``python *args`` from the repository root; its stdout (exit status 0)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DCYCLE_")}
    result = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def run_example(name: str) -> list[str]:
    """The stdout lines of ``examples/<name>``."""
    return run(str(Path("examples") / name)).splitlines()


def line(lines: list[str], prefix: str, n: int = 0) -> str:
    """The n-th line starting with ``prefix``."""
    found = [text for text in lines if text.startswith(prefix)]
    assert len(found) > n, f"no line {n} starting with {prefix!r} in:\n" + "\n".join(lines)
    return found[n]


def fields(text: str) -> dict[str, str]:
    """``key=value`` pairs of a line, thousands separators removed."""
    return {k: v.replace(",", "") for k, v in re.findall(r"(\w+)=([\w,.\-]+)", text)}


def counts(text: str) -> dict[str, int]:
    """The integer ``key=value`` pairs of a line."""
    return {k: int(v) for k, v in fields(text).items() if v.isdigit()}


def number(pattern: str, text: str) -> int:
    """The first group of ``pattern`` in ``text``, as an int."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text!r}"
    return int(match.group(1).replace(",", ""))


def test_first_steps() -> None:
    lines = run_example("first_steps.py")
    assert "[emulator] added 1,000 transports" in lines
    # 1,000 seeded routes + one unknown id + one typo + one repeat.
    report = fields(line(lines, "report:"))
    assert report == {
        "success": "1000",
        "failed": "1",
        "invalid": "1",
        "duplicates": "1",
        "requests": "1",
        "ok": "False",
    }
    assert line(lines, "invalid ids:") == "invalid ids: ['not-a-uuid']"


def test_pipeline_from_file() -> None:
    lines = run_example("pipeline_from_file.py")
    wrote = line(lines, "wrote ")
    rows = number(r": ([\d,]+) rows", wrote)
    routes = number(r"= ([\d,]+) routes", wrote)
    repeated = number(r"\+ ([\d,]+) repeated", wrote)
    unknown = number(r"\+ ([\d,]+) unknown", wrote)
    junk = number(r"\+ ([\d,]+) junk", wrote)
    assert rows == routes + repeated + unknown + junk >= 200_000
    assert f"[emulator] added {routes:,} transports" in lines

    # Every row is accounted for: seeded ids deleted, unknown ones failed,
    # junk invalid, repeats counted and dropped.
    report = counts(line(lines, "report:"))
    assert report["success"] == routes
    assert report["failed"] == unknown
    assert report["invalid"] == junk
    assert report["duplicates"] == repeated
    valid = routes + unknown
    assert report["requests"] == -(-valid // 25_000)

    progress = [
        number(r"([\d,]+) ids done", text) for text in lines if text.startswith("progress:")
    ]
    assert len(progress) == report["requests"]
    assert progress == sorted(progress)
    assert progress[-1] == valid


def test_pipeline_async_generator() -> None:
    lines = run_example("pipeline_async_generator.py")
    assert "[emulator] added 3,000 invoices (start_date=2024-06-01)" in lines
    assert "[emulator] added 2,000 invoices (start_date=2023-06-01)" in lines
    link = counts(line(lines, "link:"))
    assert link == {"created": 5_000, "skipped": 0, "failed": 0, "invalid": 0, "requests": 50}
    assert "ok=True" in line(lines, "link:")
    unlink = counts(line(lines, "unlink:"))
    assert unlink == {"deleted": 2_000, "failed": 0, "invalid": 0, "requests": 20}
    again = counts(line(lines, "link again"))
    assert again["created"] == 0
    assert again["skipped"] == 3_000
    # The async progress callback saw every chunk of the first link.
    assert line(lines, "  ... ", 4) == "  ... 5,000 ids sent in 50 requests"


def test_filters_two_step_delete() -> None:
    lines = run_example("filters_two_step_delete.py")
    # Part 1: the preview counts at least the 250 routes seeded to match,
    # and exactly what it counted is deleted.
    previewed = number(r"preview: ([\d,]+) transports match", line(lines, "preview:", 0))
    assert previewed >= 250
    assert counts(line(lines, "deleted=", 0)) == {"deleted": previewed, "failed": 0}
    assert "still matching: 0" in lines
    # Part 2: 40 more matching routes arrive between preview and delete: the
    # hash check refuses, the flow previews again and deletes all of them.
    first = number(r"([\d,]+) transports", line(lines, "preview:", 1))
    assert line(lines, "hash mismatch").startswith("hash mismatch (409)")
    second = number(r"([\d,]+) transports", line(lines, "preview:", 2))
    assert second == first + 40
    assert counts(line(lines, "deleted=", 1)) == {"deleted": second, "failed": 0}
    assert "no filter" in line(lines, "refused:")


def test_link_by_filters() -> None:
    lines = run_example("link_by_filters.py")
    # 180 + 120 invoices of the facility in 2024, 150 in 2023, 2,000 elsewhere.
    assert counts(line(lines, "2024 (typed filters)")) == {"created": 300, "skipped": 0}
    assert counts(line(lines, "2023 (dict filters)")) == {"created": 150, "skipped": 0}
    assert counts(line(lines, "2024 again")) == {"created": 0, "skipped": 300}
    rejected = line(lines, "rejected")
    assert "'facility_id'" in rejected
    assert "did you mean 'facility_ids'" in rejected


def test_error_handling() -> None:
    lines = run_example("error_handling.py")
    # 1. Four 503s and one 429 over ten chunks: all retried, all deleted.
    transient = fields(line(lines, "success=", 0))
    assert transient == {
        "success": "1000",
        "failed": "0",
        "requests": "15",
        "retries": "5",
        "ok": "True",
    }
    # 2. One chunk of 100 exhausts its six attempts; resending it succeeds.
    assert fields(line(lines, "success=", 1)) == {
        "success": "400",
        "failed": "100",
        "errors": "1",
        "ok": "False",
    }
    assert line(lines, "chunk 0:").startswith("chunk 0: 100 ids, HTTP 503")
    assert "success=100 ok=True" in line(lines, "resent failed ids")
    # 3. The dropped answer: its chunk's 100 ids were deleted yet reported
    # failed; the report flags them and reconciliation confirms they are gone.
    assert counts(line(lines, "success=", 2)) == {
        "success": 400,
        "failed": 100,
        "retried_chunks": 1,
        "uncertain": 100,
    }
    assert line(lines, "reconciled") == (
        "reconciled 100 uncertain ids: 0 were still there (deleted now), 100 already gone;"
        " 0 failed for sure"
    )
    # 4. A missing project aborts the link; the report says nothing was done.
    assert line(lines, "aborted") == "aborted (NotFoundError); see .report"
    assert "Project not found" in line(lines, "cause:")
    assert line(lines, "report:") == "report: created=0 failed=300"
    # 5. The error tree.
    assert line(lines, "ServerError") == "ServerError: 502 after 6 attempts: try again later"
    assert line(lines, "APIConnectionError").startswith(
        "APIConnectionError: no answer after 2 attempts"
    )


def test_web_app_shared_client() -> None:
    lines = run_example("web_app_shared_client.py")
    assert counts(line(lines, "12 delete requests")) == {"deleted": 6_000}
    assert counts(line(lines, "12 link requests")) == {"linked": 3_600}
    assert counts(line(lines, "background job")) == {"deleted": 5_000}
    assert line(lines, "cancelled request") == "cancelled request: cancelled=True"
    # The client-wide cap held across every concurrent call.
    peak = number(r"in flight at the API: (\d+)", line(lines, "peak requests"))
    assert 2 <= peak <= 8
    # The abandoned request's 2,000 routes: deleted by the retry, or already
    # by chunks the server finished before the cancellation.
    retried = counts(line(lines, "retried request"))
    assert retried["deleted"] + retried["gone"] == 2_000


def test_user_tests_with_the_emulator_pass() -> None:
    out = run(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(Path("examples") / "tests_with_the_emulator"),
    )
    assert re.search(r"\b5 passed\b", out), out
    assert "failed" not in out


def test_examples_use_only_the_public_api() -> None:
    sources = list(EXAMPLES.rglob("*.py"))
    assert len(sources) >= 10
    for path in sources:
        text = path.read_text()
        assert not re.search(r"dcycle_async(\.testing)?\._", text), path


def test_examples_are_not_collected_by_the_main_test_run() -> None:
    # examples/tests_with_the_emulator is run only by the test above.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]


@pytest.mark.anyio
async def test_plugin_client_is_bound_to_the_emulator_and_org(
    dcycle_emulator: Emulator, dcycle_org: Organization, dcycle_client: DcycleClient
) -> None:
    assert dcycle_client.config.base_url == dcycle_emulator.url
    assert dcycle_client.config.organization_id == dcycle_org.id
    mine = dcycle_emulator.store.seed_transports(dcycle_org.id, 3)
    other = dcycle_emulator.create_organization()
    theirs = dcycle_emulator.store.seed_transports(other.id, 2)

    report = await dcycle_client.transports.bulk_delete([*mine, *theirs])

    # It deletes in dcycle_org, with dcycle_org's credentials, and nowhere else.
    assert sorted(report.success_ids) == sorted(mine)
    assert sorted(report.failed_ids) == sorted(theirs)
    assert not dcycle_emulator.store.transport_ids(dcycle_org.id)
    assert dcycle_emulator.store.transport_ids(other.id) == set(theirs)
    assert dcycle_emulator.requests
    for record in dcycle_emulator.requests:
        assert record.org_id == dcycle_org.id
        assert record.auth == "x-api-key"
