"""One module per rule kind, each declaring ``KIND`` (auditor.rules.base.RuleKind)."""
