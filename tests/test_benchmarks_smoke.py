"""The benchmark harness in its tiniest mode: it runs, and every loop moves the same ids.

No timing is asserted: this checks the harness (servers, child processes,
the JSON) and that the library and the hand-written loops do the same work.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
IMPLS = {"library", "raw_aiohttp", "httpx", "requests", "aiohttp_floor"}


def test_quick_harness_writes_comparable_rows(tmp_path: Path) -> None:
    """W1 and W2 on the fast server: every implementation confirms every id it sent."""
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--scale",
            "0.001",
            "--only",
            "W1,W2",
            "--server",
            "fast",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = orjson.loads(out.read_bytes())
    rows = {(r["workload"], r["impl"]): r for r in data["rows"]}
    assert set(rows) == {(w, i) for w in ("W1", "W2") for i in IMPLS}
    for workload, ids, requests in (("W1", 1_000, 10), ("W2", 2_000, 20)):
        library, raw = rows[workload, "library"], rows[workload, "raw_aiohttp"]
        assert library["ids"] == raw["ids"] == ids
        assert library["requests"] == raw["requests"] == requests
        assert library["measured_ids"] == raw["measured_ids"] == ids
        assert library["ids_ok"] == raw["ids_ok"] == ids
        assert library["ids_failed"] == raw["ids_failed"] == 0
        assert raw["ratio_to_raw"] == 1.0
        for impl in IMPLS:
            row = rows[workload, impl]
            assert row["all_ids_ok"], row
            assert row["ids_ok"] == row["measured_ids"] > 0
            assert row["wall_s"] > 0
            assert row["peak_rss_mb"] > 0
    assert {t["target"] for t in data["targets"]} >= {"W1 wall vs raw aiohttp", "W4 peak RSS (MB)"}
    assert data["machine"]["nproc"] >= 1
    assert "W1" in done.stdout
