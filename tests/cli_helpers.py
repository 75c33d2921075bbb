"""Helpers of the CLI tests: a fake terminal, an emulator subprocess, running the CLI."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Final

import attrs

API_KEY: Final = "sk_emu_cli_tests_key"
ORG_ID: Final = "0b7c4f5e-8a1d-4c2b-9e3f-5a6b7c8d9e0f"
_READY_TIMEOUT: Final = 30.0


class FakeTTY(io.StringIO):
    """A stdin that says it is a terminal, with the answers typed in advance."""

    def isatty(self) -> bool:
        """Always a terminal."""
        return True


class KeptOpen(io.StringIO):
    """A buffer whose text survives ``close()`` (the CLI closes the terminal it opened)."""

    def close(self) -> None:
        """Keep the text readable."""


@attrs.define
class EmulatorProcess:
    """``python -m dcycle_async.testing`` running in a subprocess."""

    process: subprocess.Popen[str]
    url: str

    @classmethod
    @contextmanager
    def start(cls, seed: str) -> Iterator[EmulatorProcess]:
        """Start it seeded, wait for its ``READY <url>`` line, stop it on exit."""
        process = subprocess.Popen(
            [sys.executable, "-m", "dcycle_async.testing", "--port", "0", "--records", seed,
             "--seed", "7", "--api-key", API_KEY, "--org-id", ORG_ID],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        try:
            yield cls(process, _wait_ready(process))
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck emulator
                process.kill()
                process.wait()
            assert process.stdout is not None
            process.stdout.close()

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment of a CLI process pointed at this emulator."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DCYCLE_")}
        env.update(DCYCLE_API_KEY=API_KEY, DCYCLE_ORG_ID=ORG_ID, DCYCLE_BASE_URL=self.url)
        env.update(overrides)
        return env


def _wait_ready(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + _READY_TIMEOUT
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("READY "):
            return line.split(maxsplit=1)[1].strip()
    raise RuntimeError("the emulator did not start:\n" + "".join(seen))


def run_cli(
    argv: Sequence[str], env: dict[str, str], *, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m dcycle_async ARGV`` in a new session (so it has no terminal to ask on)."""
    with open(stdin if stdin is not None else os.devnull, encoding="utf-8") as source:
        return subprocess.run(
            [sys.executable, "-m", "dcycle_async", *argv],
            stdin=source,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,
            check=False,
        )
