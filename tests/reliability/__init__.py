"""Reliability suite: faults, aborts, cancellation, load and a stateful model."""
