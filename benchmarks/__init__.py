"""Benchmarks of ``dcycle_async`` against hand-written aiohttp, httpx and requests loops.

Run ``python -m benchmarks`` (or ``nox -s bench``); ``--help`` lists the options.

Layout:

- ``fast_server``: a minimal aiohttp.web responder, run as its own process.
- ``emulator_server``: the package's API emulator, run as its own process.
- ``baselines``: the raw aiohttp, httpx and requests loops.
- ``workloads``: W1-W4 through the library.
- ``run_one``: one (workload, implementation) in a fresh child process.
- ``report``: medians, ratios, the targets and the table.
- ``__main__``: the orchestrator: servers, children, the table and the JSON.
"""
