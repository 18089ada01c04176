"""The worker's settings: one object, from flags and ``AUDITOR_*`` environment variables."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from auditor.intake import DEFAULT_MAX_AHEAD_S, DEFAULT_MAX_EVENT_BYTES


def default_worker_id() -> str:
    """This machine's name and this process's id: unique among the workers of a group."""
    return f"{socket.gethostname()}-{os.getpid()}"


# Where docs/ is browsable. The Prometheus rules and the dashboards' runbook links carry
# this default too (tests check they match): docs/alerts.md says how to change all three.
DEFAULT_DOCS_BASE_URL = "https://auditor.example/docs/"


class Settings(BaseSettings):
    """Everything the worker, demo and emitter-side tools are configured with.

    Built once at the edge (CLI) and passed down; nothing else reads the environment.
    Every field can be set as ``AUDITOR_<FIELD>`` (e.g. ``AUDITOR_BOOTSTRAP_SERVERS``).
    """

    # hide_input_in_errors: a validation error would otherwise print the values given,
    # secrets included.
    model_config = SettingsConfigDict(env_prefix="AUDITOR_", frozen=True, extra="forbid",
                                      hide_input_in_errors=True)

    policy: str = Field(default="natterbox",
                        description="policy pack: a file, or the name of a shipped pack")
    # Folders the pack's includes may come from besides its own (docs/policy-format.md).
    policy_roots: tuple[Path, ...] = ()
    # A new version of the pack's files is taken without a restart: its files are looked
    # at this often, and loaded once they stopped changing for one interval
    # (docs/policy-rollout.md). 0: never; the version loaded at start stays.
    policy_watch_interval_s: float = Field(default=5.0, ge=0, description="0: no watch")
    # Shadow mode: a candidate pack decides the same events beside the live one; only its
    # differences are counted and written to shadow_topic (docs/policy-rollout.md).
    shadow_policy: str | None = Field(default=None, description="unset: no shadow")
    shadow_topic: str = "auditor.shadow"
    bootstrap_servers: str = "127.0.0.1:9092"
    group_id: str = "auditor"
    input_topics: tuple[str, ...] = ("lineage.events",)
    decisions_topic: str = "auditor.decisions"
    findings_topic: str = "auditor.findings"
    dead_letter_topic: str = "auditor.dlq"
    partitions: int = Field(default=4, ge=1, description="partitions of topics it creates")
    replication: int = Field(default=1, ge=1)
    create_topics: bool = True

    # Kafka security, given to every Kafka client (auditor.kafka_config builds their
    # configuration); checked here, when the settings are built, so that a missing file or
    # a mismatched option is one clear message rather than a client's traceback.
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    # OAUTHBEARER: librdkafka's OIDC client-credentials flow (it fetches and refreshes tokens).
    sasl_oauthbearer_client_id: str | None = None
    sasl_oauthbearer_client_secret: SecretStr | None = None
    sasl_oauthbearer_token_endpoint_url: str | None = None
    sasl_oauthbearer_scope: str | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_key_password: SecretStr | None = None

    # Consumer group timing: librdkafka's defaults suit production clusters; tests and
    # the embedded broker use shorter ones (a group join takes about half the session).
    session_timeout_s: float = Field(default=45.0, gt=0)
    heartbeat_interval_s: float = Field(default=3.0, gt=0)
    commit_interval_s: float = Field(default=2.8, gt=0)
    # Faults (docs/worker.md#faults-broker-restarts-and-fail-over). Static membership: a
    # stable name per worker (a StatefulSet's pod name) lets a restarted worker take its
    # partitions back at once; unset = dynamic membership.
    group_instance_id: str | None = None
    partition_assignment_strategy: Literal["cooperative-sticky", "range", "roundrobin"] = \
        "cooperative-sticky"
    # Re-keying (docs/worker.md#re-keying): for a policy with rules that remember, "auto"
    # forwards events found in a partition other than their key's to it, through the
    # repartition topic (the consumer then assigns with "range"); "off": decide in place.
    rekey: Literal["auto", "off"] = "auto"
    # exactly_once: outputs and input offsets in one transaction per batch (Apache Kafka);
    # at_least_once: outputs first, then offsets (a broker without transactions).
    processing_guarantee: Literal["exactly_once", "at_least_once"] = "exactly_once"
    # How long outputs may stay undelivered (or no broker answer the consumer) before the
    # worker stops, without committing, for its orchestrator to restart it.
    kafka_outage_limit_s: float = Field(default=600.0, gt=0)
    # Longest a fetch may wait for data (None: librdkafka's 500 ms). Apache Kafka answers as
    # soon as data arrives; the embedded broker waits it out, so local runs use ~50 ms.
    fetch_max_wait_ms: int | None = Field(default=None, ge=1)
    # Record-batch size of the memory's changelog (its own producer). The embedded broker
    # under-reports end offsets of multi-record batches, which would cut a restore short
    # there; its tests set 1 (one record per batch). Apache Kafka needs no change.
    changelog_batch_bytes: int = Field(default=16_384, ge=1)
    # A partition's memory restore gives up (the worker stops, to be restarted) only when
    # no changelog record arrived for this long, however long the whole restore takes.
    restore_stall_s: float = Field(default=60.0, gt=0)

    # Batches: up to batch_max events (a batch record counts as its events), or what
    # arrived within batch_within_s; offsets are committed every commit_interval_s.
    batch_max: int = Field(default=1000, ge=1)
    batch_within_s: float = Field(default=0.005, gt=0)
    max_event_bytes: int = Field(default=DEFAULT_MAX_EVENT_BYTES, ge=1024)
    # An event may be at most this far ahead of its record's Kafka timestamp (or of
    # `check --now`); beyond it, it is invalid (future_event_time): docs/stateful-rules.md.
    event_time_max_ahead_s: float = Field(default=DEFAULT_MAX_AHEAD_S, gt=0)
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
    # Links on pages: runbook_url is absolute under docs_base_url; with grafana_url a pushed
    # alert's generatorURL opens the violations panel (else its runbook).
    docs_base_url: str = Field(default=DEFAULT_DOCS_BASE_URL,
                               description="base URL of docs/ (runbooks/ under it)")
    grafana_url: str | None = Field(default=None, description="Grafana's base URL")

    # Unique by default: with exactly once the worker id names its transactional id, and
    # two workers sharing one fence each other. Set a stable one (the pod's or container's
    # name) where a restarted worker should abort what its previous run left open at once.
    worker_id: str = Field(default_factory=default_worker_id,
                           description="<host name>-<process id>")
    log_level: Literal["debug", "info", "warning", "error"] = "warning"
    # Decision processes of this worker, sharing its consumer group (one per core:
    # auditor.stream.processes); 1 decides in this process.
    processes: int = Field(default=1, ge=0, le=256, description="0: one per CPU")

    @field_validator("policy_roots")
    @classmethod
    def _policy_roots(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        for root in value:
            if not root.is_dir():
                raise ValueError(f"{root} is not a folder")
        return value

    @field_validator("ssl_cafile", "ssl_certfile", "ssl_keyfile")
    @classmethod
    def _readable_file(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        if not value.exists():
            raise ValueError(f"{value}: no such file")
        if not value.is_file():
            raise ValueError(f"{value}: not a file")
        try:
            value.open("rb").close()
        except OSError as exc:
            raise ValueError(f"{value}: cannot be read ({exc.strerror})") from None
        return value

    @model_validator(mode="after")
    def _security_fits(self) -> Settings:
        # Messages name settings, never their values: some are secrets.
        protocol = self.security_protocol
        sasl, tls = protocol.startswith("SASL_"), protocol.endswith("SSL")
        mechanism = self.sasl_mechanism
        oauth = {
            "sasl_oauthbearer_client_id": self.sasl_oauthbearer_client_id,
            "sasl_oauthbearer_client_secret": self.sasl_oauthbearer_client_secret,
            "sasl_oauthbearer_token_endpoint_url": self.sasl_oauthbearer_token_endpoint_url,
        }
        sasl_given = [name for name, value in (
            ("sasl_mechanism", mechanism), ("sasl_username", self.sasl_username),
            ("sasl_password", self.sasl_password), *oauth.items(),
            ("sasl_oauthbearer_scope", self.sasl_oauthbearer_scope)) if value is not None]
        tls_given = [name for name, value in (
            ("ssl_cafile", self.ssl_cafile), ("ssl_certfile", self.ssl_certfile),
            ("ssl_keyfile", self.ssl_keyfile), ("ssl_key_password", self.ssl_key_password))
            if value is not None]
        problems = []
        if sasl and mechanism is None:
            problems.append(f"security_protocol {protocol} needs sasl_mechanism (PLAIN, "
                            "SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER)")
        if not sasl and sasl_given:
            problems.append(f"{', '.join(sasl_given)} set, but security_protocol is {protocol}: "
                            "use SASL_SSL (or SASL_PLAINTEXT) for SASL")
        if mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512") and (
                self.sasl_username is None or self.sasl_password is None):
            problems.append(f"sasl_mechanism {mechanism} needs sasl_username and sasl_password")
        if mechanism == "OAUTHBEARER":
            missing = [name for name, value in oauth.items() if value is None]
            if missing:
                problems.append(f"sasl_mechanism OAUTHBEARER needs {', '.join(missing)}")
            url = self.sasl_oauthbearer_token_endpoint_url
            if url is not None and (urlsplit(url).scheme not in ("http", "https")
                                    or not urlsplit(url).netloc):
                problems.append("sasl_oauthbearer_token_endpoint_url must be an http(s) URL")
        if not tls and tls_given:
            problems.append(f"{', '.join(tls_given)} set, but security_protocol is {protocol}: "
                            "use SSL or SASL_SSL for TLS")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            problems.append("ssl_certfile and ssl_keyfile go together (a client certificate "
                            "and its private key)")
        if self.ssl_key_password is not None and self.ssl_keyfile is None:
            problems.append("ssl_key_password needs ssl_keyfile (the key it decrypts)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @field_validator("shadow_policy")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value if value is not None and value.strip() else None

    @field_validator("alertmanager_url", "grafana_url")
    @classmethod
    def _service_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return _http_url(value).rstrip("/")

    @field_validator("docs_base_url")
    @classmethod
    def _docs_base_url(cls, value: str) -> str:
        # A base: relative runbook paths are appended to it.
        return _http_url(value).rstrip("/") + "/"

    @model_validator(mode="after")
    def _alert_ttl_outlasts_interval(self) -> Settings:
        if self.alert_ttl_s <= self.alert_interval_s:
            raise ValueError(f"alert_ttl_s ({self.alert_ttl_s}) must be longer than "
                             f"alert_interval_s ({self.alert_interval_s}), or alerts "
                             "resolve between two pushes")
        return self

    def transactional_id(self) -> str:
        """The worker's transactional id: stable across its restarts, unique in its group
        (its static member name, else its worker id)."""
        return f"auditor-{self.group_id}-{self.group_instance_id or self.worker_id}"

    def bootstrap_list(self) -> list[str]:
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]


def _http_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http(s) URL such as http://alertmanager:9093, "
                         f"got {value!r}")
    return value.strip()
