"""Policy packs: the YAML format, its loader with located errors, and the checked model."""

from auditor.policy.errors import PolicyError, PolicyIssue, Where
from auditor.policy.loader import load_policy
from auditor.policy.model import Policy, Rule

__all__ = ["Policy", "PolicyError", "PolicyIssue", "Rule", "Where", "load_policy"]
