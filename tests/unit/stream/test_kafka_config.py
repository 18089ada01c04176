"""Kafka client configuration: built in one module from Settings, checked up front, no leaks."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluent_kafka import Producer
from pydantic import SecretStr, ValidationError

from auditor import kafka_config
from auditor.broker import BrokerConfigError, wait_for_broker
from auditor.cli import main
from auditor.stream.settings import Settings

PASSWORD = "pw-Secret-5d2f"
CLIENT_SECRET = "cs-Secret-8a1c"
KEY_PASSWORD = "kp-Secret-03be"
SECRETS = (PASSWORD, CLIENT_SECRET, KEY_PASSWORD)


def pem(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text("-----BEGIN CERTIFICATE-----\nnot a real one\n-----END CERTIFICATE-----\n")
    return path


def oauth_settings(**extra: Any) -> Settings:
    return Settings(
        bootstrap_servers="b1:9093, b2:9093",
        security_protocol="SASL_SSL",
        sasl_mechanism="OAUTHBEARER",
        sasl_oauthbearer_client_id="auditor",
        sasl_oauthbearer_client_secret=SecretStr(CLIENT_SECRET),
        sasl_oauthbearer_token_endpoint_url="https://idp.example/oauth2/token",
        sasl_oauthbearer_scope="kafka",
        **extra,
    )


def test_plaintext_connection_is_only_servers_and_protocol() -> None:
    assert kafka_config.connection(Settings(bootstrap_servers="a:1,b:2")) == {
        "bootstrap.servers": "a:1,b:2",
        "security.protocol": "PLAINTEXT",
    }


def test_scram_over_tls_with_a_client_certificate_and_key_password(tmp_path: Path) -> None:
    settings = Settings(
        security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="auditor",
        sasl_password=SecretStr(PASSWORD), ssl_cafile=pem(tmp_path, "ca.pem"),
        ssl_certfile=pem(tmp_path, "c.pem"), ssl_keyfile=pem(tmp_path, "k.pem"),
        ssl_key_password=SecretStr(KEY_PASSWORD),
    )
    assert kafka_config.security(settings) == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "auditor",
        "sasl.password": PASSWORD,
        "ssl.ca.location": str(tmp_path / "ca.pem"),
        "ssl.certificate.location": str(tmp_path / "c.pem"),
        "ssl.key.location": str(tmp_path / "k.pem"),
        "ssl.key.password": KEY_PASSWORD,
    }


def test_oauthbearer_uses_librdkafkas_oidc_flow() -> None:
    config = kafka_config.connection(oauth_settings())
    assert config == {
        "bootstrap.servers": "b1:9093,b2:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "OAUTHBEARER",
        "sasl.oauthbearer.method": "oidc",
        "sasl.oauthbearer.client.id": "auditor",
        "sasl.oauthbearer.client.secret": CLIENT_SECRET,
        "sasl.oauthbearer.token.endpoint.url": "https://idp.example/oauth2/token",
        "sasl.oauthbearer.scope": "kafka",
    }
    # librdkafka (as built into confluent-kafka) accepts it: OIDC support is compiled in.
    Producer({**config, "logger": logging.getLogger("test")})


def test_every_client_of_the_cluster_gets_the_same_security() -> None:
    settings = oauth_settings()
    base = kafka_config.connection(settings)
    producer = kafka_config.output_producer(base, timeout_s=5)
    built = [
        kafka_config.worker_consumer(settings),
        producer,
        kafka_config.changelog_producer(producer, batch_bytes=1),
        kafka_config.restore_consumer(base, fetch_max_wait_ms=None),
        kafka_config.replay_consumer(base, group_id="g", fetch_wait_ms=None, logger=None),
        kafka_config.admin("b1:9093", base, logger=None),
    ]
    for config in built:
        assert base.items() <= config.items()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"security_protocol": "SASL_SSL"}, "security_protocol SASL_SSL needs sasl_mechanism"),
        ({"sasl_mechanism": "PLAIN", "sasl_username": "u", "sasl_password": PASSWORD},
         "sasl_mechanism, sasl_username, sasl_password set, but security_protocol is "
         "PLAINTEXT: use SASL_SSL"),
        ({"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-256",
          "sasl_username": "u"}, "sasl_mechanism SCRAM-SHA-256 needs sasl_username and "
         "sasl_password"),
        ({"security_protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER",
          "sasl_oauthbearer_client_secret": CLIENT_SECRET},
         "sasl_mechanism OAUTHBEARER needs sasl_oauthbearer_client_id, "
         "sasl_oauthbearer_token_endpoint_url"),
        ({"security_protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER",
          "sasl_oauthbearer_client_id": "c", "sasl_oauthbearer_client_secret": CLIENT_SECRET,
          "sasl_oauthbearer_token_endpoint_url": "idp.example/token"},
         "sasl_oauthbearer_token_endpoint_url must be an http(s) URL"),
        ({"ssl_key_password": KEY_PASSWORD},
         "ssl_key_password set, but security_protocol is PLAINTEXT: use SSL or SASL_SSL"),
        ({"security_protocol": "SSL", "ssl_key_password": KEY_PASSWORD},
         "ssl_key_password needs ssl_keyfile"),
        ({"security_protocol": "SSL", "ssl_cafile": "/nonexistent/ca.pem"},
         "/nonexistent/ca.pem: no such file"),
        ({"security_protocol": "SSL", "ssl_cafile": "/"}, "/: not a file"),
    ],
)
def test_security_settings_that_cannot_work_are_refused_when_built(
    given: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(**given)
    text = str(info.value)
    assert message in text
    assert not [s for s in SECRETS if s in text]


def test_a_client_certificate_needs_its_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="ssl_certfile and ssl_keyfile go together"):
        Settings(security_protocol="SSL", ssl_certfile=pem(tmp_path, "c.pem"))


def test_missing_ca_file_is_one_line_and_exit_2_not_a_traceback() -> None:
    result = CliRunner().invoke(main, ["worker"], env={
        "AUDITOR_SECURITY_PROTOCOL": "SSL", "AUDITOR_SSL_CAFILE": "/nonexistent/ca.pem",
        "AUDITOR_SSL_KEY_PASSWORD": KEY_PASSWORD,
    })
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "error: setting ssl_cafile: /nonexistent/ca.pem: no such file"]


def test_a_file_librdkafka_refuses_is_a_config_error_at_once(tmp_path: Path) -> None:
    config = kafka_config.connection(
        Settings(security_protocol="SSL", ssl_cafile=pem(tmp_path, "ca.pem")))
    with pytest.raises(BrokerConfigError, match=r"Kafka client configuration: .*ssl\.ca\.loc"):
        wait_for_broker("127.0.0.1:1", 30, client_config=config)


def test_secrets_stay_out_of_reprs_and_dumps(tmp_path: Path) -> None:
    settings = oauth_settings(sasl_username=None)
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert CLIENT_SECRET not in text


def test_redact_replaces_every_secret_value() -> None:
    config = {**kafka_config.connection(oauth_settings()), "ssl.key.password": KEY_PASSWORD}
    text = f"failed: {CLIENT_SECRET} and {KEY_PASSWORD}; client auditor"
    assert kafka_config.redact(text, config) == "failed: *** and ***; client auditor"


def test_the_worker_consumer_follows_the_delivery_guarantee_and_membership() -> None:
    exactly = kafka_config.worker_consumer(Settings(group_instance_id="auditor-0"))
    assert exactly["enable.auto.commit"] is False  # each batch's transaction commits
    assert "enable.auto.offset.store" not in exactly
    assert exactly["group.instance.id"] == "auditor-0"
    assert exactly["partition.assignment.strategy"] == "cooperative-sticky"
    least = kafka_config.worker_consumer(Settings(processing_guarantee="at_least_once"))
    assert (least["enable.auto.commit"], least["enable.auto.offset.store"]) == (True, False)
    assert "group.instance.id" not in least
    producer = kafka_config.transactional_producer(
        kafka_config.connection(Settings()), transactional_id="auditor-g-w", timeout_s=30)
    assert producer["transactional.id"] == "auditor-g-w"
    assert producer["transaction.timeout.ms"] == producer["message.timeout.ms"] == 30_000
    assert Settings(group_id="g", worker_id="w").transactional_id() == "auditor-g-w"
    assert Settings(group_id="g", group_instance_id="s").transactional_id() == "auditor-g-s"


def test_a_re_keying_consumer_assigns_with_range() -> None:
    # Partition N of the input and of the repartition topic must go to one member.
    settings = Settings(partition_assignment_strategy="roundrobin")
    assert Settings().rekey == "auto"
    co = kafka_config.worker_consumer(settings, co_partitioned=True)
    assert co["partition.assignment.strategy"] == "range"
    assert kafka_config.worker_consumer(settings)["partition.assignment.strategy"] == "roundrobin"
