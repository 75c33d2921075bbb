"""Tests of the API emulator, ``dcycle_async.testing``."""
