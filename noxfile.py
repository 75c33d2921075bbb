"""Sessions: tests, lint (ruff), typecheck (mypy --strict), bench, demo."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.11", "3.12", "3.13"]


@nox.session(python=PYTHON[0])
def tests(session: nox.Session) -> None:
    """Run the test suite (against the built-in emulator on 127.0.0.1)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON[0])
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON[0])
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, the tests, the benchmarks and the examples."""
    session.install("-e", ".[test,bench]", "mypy")
    session.run("mypy")


@nox.session(python=PYTHON[0])
def bench(session: nox.Session) -> None:
    """The benchmarks: the library against hand-written aiohttp, httpx and requests loops."""
    session.install("-e", ".[bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(python=PYTHON[0])
def demo(session: nox.Session) -> None:
    """The demo pipeline against the built-in emulator."""
    session.install("-e", ".[cli]")
    session.run("dcycle-async", "demo", *session.posargs)
