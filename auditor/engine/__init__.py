"""The decision engine: policy + legal tables + catalogue -> decisions, and the one loop."""

from auditor.engine.decision import Decision, Finding, Outcome, Step
from auditor.engine.engine import Engine
from auditor.engine.loop import Decider, decide_all
from auditor.engine.trace import Trace

__all__ = ["Decider", "Decision", "Engine", "Finding", "Outcome", "Step", "Trace", "decide_all"]
