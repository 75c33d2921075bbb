"""Aggregating runs into rows, checking the targets, and the printed table.

``python -m benchmarks.report [PATH] [--markdown]`` prints the table of a
results file again (default ``benchmarks/results/latest.json``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import orjson

__all__ = ["DEFAULT_JSON", "aggregate", "format_table", "main", "targets"]

DEFAULT_JSON: Final = Path(__file__).parent / "results" / "latest.json"
RAW: Final = "raw_aiohttp"
# The targets (#7).
W1_W2_MAX_RATIO: Final = 1.0
W1_HTTPX_MIN_SPEEDUP: Final = 5.0
W3_MAX_OVER_IDEAL: Final = 1.05
W4_MAX_RSS_MB: Final = 200.0

Row = dict[str, Any]


def aggregate(runs: Sequence[Row]) -> list[Row]:
    """One row per (workload, server, impl): medians over the repeats.

    A run on a subset of the ids (``fraction`` < 1) is extrapolated to the
    full workload by its number of requests: ``wall_s`` and ``cpu_s`` are the
    extrapolated figures, ``measured_*`` what was timed.
    """
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for run in runs:
        groups.setdefault((run["workload"], run["server"], run["impl"]), []).append(run)
    rows: list[Row] = []
    for (workload, server, impl), group in groups.items():
        first = group[0]
        factor = first["full_requests"] / max(1, first["requests"])
        wall = statistics.median(r["wall_s"] for r in group)
        cpu = statistics.median(r["cpu_s"] for r in group)
        row: Row = {
            "workload": workload,
            "server": server,
            "impl": impl,
            "title": first["title"],
            "repeats": len(group),
            "ids": first["full_ids"],
            "requests": first["full_requests"],
            "concurrency": first["concurrency"],
            "extrapolated": first["requests"] < first["full_requests"],
            "measured_ids": first["ids_sent"],
            "measured_requests": first["requests"],
            "measured_wall_s": wall,
            "wall_s": wall * factor,
            "wall_s_min": min(r["wall_s"] for r in group) * factor,
            "wall_s_max": max(r["wall_s"] for r in group) * factor,
            "cpu_s": cpu * factor,
            "cpu_per_request_us": cpu / max(1, first["requests"]) * 1e6,
            "server_cpu_s": statistics.median(r["server_cpu_s"] for r in group) * factor,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in group),
            "rss_before_mb": max(r["rss_before_mb"] for r in group),
            "ids_ok": first["ids_ok"],
            "ids_failed": first["ids_failed"],
            "all_ids_ok": all(r["ids_ok"] == r["ids_sent"] for r in group),
            "ideal_s": first.get("ideal_s"),
            "ratio_to_raw": None,
            "cpu_ratio_to_raw": None,
            "over_ideal": None,
        }
        if row["ideal_s"]:
            row["over_ideal"] = row["wall_s"] / row["ideal_s"]
        rows.append(row)
    raw = {(r["workload"], r["server"]): r for r in rows if r["impl"] == RAW}
    for row in rows:
        base = raw.get((row["workload"], row["server"]))
        if base is not None:
            row["ratio_to_raw"] = row["wall_s"] / base["wall_s"]
            row["cpu_ratio_to_raw"] = row["cpu_s"] / base["cpu_s"]
    return rows


def _find(rows: Sequence[Row], workload: str, impl: str, server: str = "fast") -> Row | None:
    for row in rows:
        if (row["workload"], row["impl"], row["server"]) == (workload, impl, server):
            return row
    return None


def targets(rows: Sequence[Row]) -> list[Row]:
    """The issue's targets, each with the figure measured and whether it holds."""
    out: list[Row] = []

    def add(name: str, want: str, value: float | None, holds: bool | None) -> None:
        out.append({"target": name, "want": want, "measured": value, "holds": holds})

    for workload in ("W1", "W2"):
        lib = _find(rows, workload, "library")
        ratio = None if lib is None else lib["ratio_to_raw"]
        add(
            f"{workload} wall vs raw aiohttp",
            f"<= {W1_W2_MAX_RATIO:.2f}x",
            ratio,
            None if ratio is None else ratio <= W1_W2_MAX_RATIO,
        )
    lib, httpx = _find(rows, "W1", "library"), _find(rows, "W1", "httpx")
    speedup = None if lib is None or httpx is None else httpx["wall_s"] / lib["wall_s"]
    add(
        "W1 speed-up over httpx",
        f">= {W1_HTTPX_MIN_SPEEDUP:.1f}x",
        speedup,
        None if speedup is None else speedup >= W1_HTTPX_MIN_SPEEDUP,
    )
    lib = _find(rows, "W3", "library", "fast+200ms")
    over = None if lib is None else lib["over_ideal"]
    add(
        "W3 makespan vs ideal",
        f"<= {W3_MAX_OVER_IDEAL:.2f}x",
        over,
        None if over is None else over <= W3_MAX_OVER_IDEAL,
    )
    lib = _find(rows, "W4", "library")
    rss = None if lib is None else lib["peak_rss_mb"]
    add(
        "W4 peak RSS (MB)",
        f"< {W4_MAX_RSS_MB:.0f}",
        rss,
        None if rss is None else rss < W4_MAX_RSS_MB,
    )
    return out


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def _note(row: Row) -> str:
    notes: list[str] = []
    if row["extrapolated"]:
        notes.append(f"extrapolated from {row['measured_requests']:,} requests")
    if row["impl"] == "requests":
        notes.append("sync, sequential")
    if row["impl"] == "aiohttp_floor":
        notes.append("yardstick: bodies encoded before the clock, no id work")
    if row["over_ideal"] is not None:
        notes.append(f"{row['over_ideal']:.2f}x ideal {row['ideal_s']:.2f}s")
    if not row["all_ids_ok"]:
        notes.append(f"ONLY {row['ids_ok']:,} ids confirmed")
    return "; ".join(notes)


COLUMNS: Final = (
    "workload",
    "server",
    "impl",
    "requests",
    "wall s",
    "CPU us/req",
    "peak RSS MB",
    "vs raw",
    "server CPU s",
    "note",
)


def _cells(row: Row) -> list[str]:
    return [
        row["workload"],
        row["server"],
        row["impl"],
        f"{row['requests']:,}",
        _fmt(row["wall_s"], ".3f"),
        _fmt(row["cpu_per_request_us"], ",.0f"),
        _fmt(row["peak_rss_mb"], ",.0f"),
        _fmt(row["ratio_to_raw"], ".2f", "x"),
        _fmt(row["server_cpu_s"], ".2f"),
        _note(row),
    ]


def format_table(rows: Sequence[Row], checks: Sequence[Row], *, markdown: bool = False) -> str:
    """The results as a fixed-width (or markdown) table, then the targets."""
    body = [_cells(row) for row in rows]
    lines: list[str] = []
    if markdown:
        lines.append("| " + " | ".join(COLUMNS) + " |")
        lines.append("|" + "|".join("---" for _ in COLUMNS) + "|")
        lines.extend("| " + " | ".join(cells) + " |" for cells in body)
        lines.append("")
        lines.append("| target | wanted | measured | holds |")
        lines.append("|---|---|---|---|")
        for check in checks:
            lines.append(
                f"| {check['target']} | {check['want']} | {_fmt(check['measured'], '.2f')}"
                f" | {_verdict(check['holds'])} |"
            )
        return "\n".join(lines)
    widths = [max(len(c), *(len(r[i]) for r in body)) for i, c in enumerate(COLUMNS)]
    lines.append("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for cells in body:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    lines.append("")
    lines.append("targets:")
    for check in checks:
        lines.append(
            f"  {_verdict(check['holds']):5s} {check['target']}: {_fmt(check['measured'], '.2f')}"
            f" (wanted {check['want']})"
        )
    return "\n".join(lines)


def _verdict(holds: bool | None) -> str:
    return "n/a" if holds is None else "HOLDS" if holds else "MISS"


def main(argv: list[str] | None = None) -> int:
    """Print the table of a results file."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report")
    parser.add_argument("path", nargs="?", default=str(DEFAULT_JSON))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    data = orjson.loads(Path(args.path).read_bytes())
    print(format_table(data["rows"], data["targets"], markdown=args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
