"""Timing benchmarks (`make bench`): goals about time live here, not in the tests."""
