"""Superset assets, provisioning and screenshots (docs/bi-tools.md#superset)."""
