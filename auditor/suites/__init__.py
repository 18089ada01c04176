"""Policy test suites: sample events with expected decisions, run by `auditor policy test`."""

from auditor.suites.runner import CaseResult, SuiteError, discover, run_suite

__all__ = ["CaseResult", "SuiteError", "discover", "run_suite"]
