"""Operations: the worker's Prometheus metrics and its direct alerts to Alertmanager."""
