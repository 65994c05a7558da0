"""Test support shared by ``tests/`` and ``reliability/`` (the product never imports it)."""
