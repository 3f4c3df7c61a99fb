"""Shared helpers of the host-side scripts in tools/ (runner, benchmarks, test driver)."""
