"""Audit reports: the model built from decisions, the hash chain, and JSON, HTML and CSV writers."""

from auditor.report.builder import ReportBuilder
from auditor.report.chain import ALGORITHM, HashChain, canonical
from auditor.report.diff import Diff

# The report's JSON Schema, as named for ``auditor.schemas.validator``.
SCHEMA = "report-v1.schema.json"

__all__ = ["ALGORITHM", "SCHEMA", "Diff", "HashChain", "ReportBuilder", "canonical"]
