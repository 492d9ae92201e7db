"""Benchmarks that print figures (`python -m bench [NAME ...]`); not part of the test run."""
