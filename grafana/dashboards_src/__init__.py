"""Auditor Grafana dashboards as code (grafana-foundation-sdk); grafana/generate.py writes them."""
