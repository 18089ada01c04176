"""The classification engine: policy + legal tables + catalogue -> a decision per event."""

from auditor.engine.decision import Decision, Finding, Outcome
from auditor.engine.engine import Engine

__all__ = ["Decision", "Engine", "Finding", "Outcome"]
