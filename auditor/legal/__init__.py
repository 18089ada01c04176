"""Legal reference data as dated tables, and the Chapter V transfer judgement."""

from auditor.legal.tables import LegalTables, LegalTablesError, load_tables

__all__ = ["LegalTables", "LegalTablesError", "load_tables"]
