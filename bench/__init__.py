"""The throughput and latency benchmark of the auditor (issue 8): ``python -m bench``."""
