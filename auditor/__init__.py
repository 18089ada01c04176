"""auditor: checks data-flow lineage events against published privacy promises."""

__version__ = "0.1.0"
