"""The worker's settings: one object, from flags and ``AUDITOR_*`` environment variables."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the worker, demo and emitter-side tools are configured with.

    Built once at the edge (CLI) and passed down; nothing else reads the environment.
    Every field can be set as ``AUDITOR_<FIELD>`` (e.g. ``AUDITOR_BOOTSTRAP_SERVERS``).
    """

    model_config = SettingsConfigDict(env_prefix="AUDITOR_", frozen=True, extra="forbid")

    policy: Path = Field(default=Path("policies/natterbox.yaml"), description="policy pack")
    # Folders the pack's includes may come from besides its own (docs/policy-format.md).
    policy_roots: tuple[Path, ...] = ()
    bootstrap_servers: str = "127.0.0.1:9092"
    group_id: str = "auditor"
    input_topics: tuple[str, ...] = ("lineage.events",)
    decisions_topic: str = "auditor.decisions"
    findings_topic: str = "auditor.findings"
    dead_letter_topic: str = "auditor.dlq"
    partitions: int = Field(default=4, ge=1, description="partitions of topics it creates")
    replication: int = Field(default=1, ge=1)
    create_topics: bool = True

    # Kafka security, passed through to every client (Faust/aiokafka and confluent-kafka).
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None

    # Consumer group timing: librdkafka's defaults suit production clusters; tests and
    # the embedded broker use shorter ones (a group join takes about half the session).
    session_timeout_s: float = Field(default=45.0, gt=0)
    heartbeat_interval_s: float = Field(default=3.0, gt=0)
    commit_interval_s: float = Field(default=2.8, gt=0)
    # Longest a fetch may wait for data (None: librdkafka's 500 ms). Apache Kafka answers as
    # soon as data arrives; the embedded broker waits it out, so local runs use ~50 ms.
    fetch_max_wait_ms: int | None = Field(default=None, ge=1)
    # Record-batch size of the memory's changelog (its own producer). The embedded broker
    # under-reports end offsets of multi-record batches, which would cut a restore short
    # there; its tests set 1 (one record per batch). Apache Kafka needs no change.
    changelog_batch_bytes: int = Field(default=16_384, ge=1)

    # Batches: up to batch_max events (a batch record counts as its events), or what
    # arrived within batch_within_s; offsets are committed every commit_interval_s.
    batch_max: int = Field(default=1000, ge=1)
    batch_within_s: float = Field(default=0.005, gt=0)
    max_event_bytes: int = Field(default=1_048_576, ge=1024)
    delivery_timeout_s: float = Field(default=30.0, gt=0)

    # Operations (docs/metrics.md, docs/alerts.md): /metrics, and direct alert pushes.
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="0: a free port")
    metrics_host: str = "127.0.0.1"
    consumer_lag_interval_s: float = Field(default=5.0, gt=0)
    alertmanager_url: str | None = Field(default=None, description="unset: no alert pushes")
    # An incident is posted at most once per interval; its alert resolves alert_ttl_s after
    # its last violation (endsAt), so the TTL must outlast the interval.
    alert_interval_s: float = Field(default=30.0, gt=0)
    alert_ttl_s: float = Field(default=300.0, gt=0)
    alert_queue_size: int = Field(default=64, ge=1, description="batches waiting to be pushed")
    alert_timeout_s: float = Field(default=5.0, gt=0)
    alert_attempts: int = Field(default=3, ge=1, le=10)

    worker_id: str = "worker-1"
    data_dir: Path = Path(tempfile.gettempdir()) / "auditor-worker"
    log_level: Literal["debug", "info", "warning", "error"] = "warning"

    @field_validator("policy_roots")
    @classmethod
    def _policy_roots(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        for root in value:
            if not root.is_dir():
                raise ValueError(f"{root} is not a folder")
        return value

    @field_validator("alertmanager_url")
    @classmethod
    def _alertmanager_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"expected an http(s) URL such as http://alertmanager:9093, "
                             f"got {value!r}")
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _alert_ttl_outlasts_interval(self) -> Settings:
        if self.alert_ttl_s <= self.alert_interval_s:
            raise ValueError(f"alert_ttl_s ({self.alert_ttl_s}) must be longer than "
                             f"alert_interval_s ({self.alert_interval_s}), or alerts "
                             "resolve between two pushes")
        return self

    def bootstrap_list(self) -> list[str]:
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]

    def kafka_client_config(self) -> dict[str, Any]:
        """librdkafka (confluent-kafka) connection and security settings."""
        config: dict[str, Any] = {
            "bootstrap.servers": ",".join(self.bootstrap_list()),
            "security.protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            config["sasl.mechanisms"] = self.sasl_mechanism
        if self.sasl_username is not None:
            config["sasl.username"] = self.sasl_username
        if self.sasl_password is not None:
            config["sasl.password"] = self.sasl_password.get_secret_value()
        for key, value in (
            ("ssl.ca.location", self.ssl_cafile),
            ("ssl.certificate.location", self.ssl_certfile),
            ("ssl.key.location", self.ssl_keyfile),
        ):
            if value is not None:
                config[key] = str(value)
        return config
