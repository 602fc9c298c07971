"""End-to-end tests drive the running system (`stack`, `api`) from tests/conftest.py: one
system per session, shared with the browser tests."""
