"""Kafka security errors against a real (plaintext) listener: what is wrong, fast, no secret."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from auditor import kafka_config
from auditor.broker import BrokerSecurityError, BrokerUnavailableError, wait_for_broker
from auditor.stream.settings import Settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pw-Secret-5d2f"
CLIENT_SECRET = "cs-Secret-8a1c"
# librdkafka's own debug lines too: they must not print a secret either.
DEBUG = {"debug": "security,broker,conf"}


def test_sasl_ssl_against_a_plaintext_listener_says_so_at_once(
    kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(bootstrap_servers=kafka_bootstrap, security_protocol="SASL_SSL",
                        sasl_mechanism="SCRAM-SHA-512", sasl_username="auditor",
                        sasl_password=SecretStr(PASSWORD))
    caplog.set_level(logging.DEBUG, logger="auditor.broker")
    started = time.monotonic()
    with pytest.raises(BrokerSecurityError) as info:
        wait_for_broker(kafka_bootstrap, 30, {**kafka_config.connection(settings), **DEBUG})
    # Before: the whole 30 s, then "Broker transport failure".
    assert time.monotonic() - started < 15
    message = str(info.value)
    assert "speaks plaintext Kafka, but security.protocol (AUDITOR_SECURITY_PROTOCOL) is " \
        "SASL_SSL" in message
    assert "set security.protocol to SASL_PLAINTEXT if the cluster has no TLS" in message
    assert PASSWORD not in message
    assert caplog.records  # librdkafka's lines did reach logging...
    assert PASSWORD not in caplog.text  # ...without the password


def test_oauthbearer_without_a_token_names_the_token_endpoint(
    kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(bootstrap_servers=kafka_bootstrap, security_protocol="SASL_PLAINTEXT",
                        sasl_mechanism="OAUTHBEARER", sasl_oauthbearer_client_id="auditor",
                        sasl_oauthbearer_client_secret=SecretStr(CLIENT_SECRET),
                        sasl_oauthbearer_token_endpoint_url="http://127.0.0.1:9/token")
    caplog.set_level(logging.DEBUG, logger="auditor.broker")
    with pytest.raises(BrokerUnavailableError) as info:
        wait_for_broker(kafka_bootstrap, 3, {**kafka_config.connection(settings), **DEBUG})
    message = str(info.value)
    assert "no OAUTHBEARER token (Failed to acquire SASL OAUTHBEARER token" in message
    assert "check the token endpoint URL, the client id and secret" in message
    assert CLIENT_SECRET not in message
    assert CLIENT_SECRET not in caplog.text


def test_sasl_on_a_listener_without_it_fails_without_the_password(
    kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(bootstrap_servers=kafka_bootstrap, security_protocol="SASL_PLAINTEXT",
                        sasl_mechanism="PLAIN", sasl_username="auditor",
                        sasl_password=SecretStr(PASSWORD))
    caplog.set_level(logging.DEBUG, logger="auditor.broker")
    with pytest.raises(BrokerUnavailableError) as info:
        wait_for_broker(kafka_bootstrap, 3, {**kafka_config.connection(settings), **DEBUG})
    assert f"Kafka broker at {kafka_bootstrap} did not answer" in str(info.value)
    assert PASSWORD not in str(info.value)
    assert PASSWORD not in caplog.text


def test_worker_with_sasl_ssl_on_a_plaintext_listener_exits_with_the_hint(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "AUDITOR_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "AUDITOR_POLICY": str(ROOT / "policies" / "examples" / "gdpr-transfers.yaml"),
        "AUDITOR_METRICS_PORT": "0",
        "AUDITOR_DATA_DIR": str(tmp_path),
        "AUDITOR_LOG_LEVEL": "debug",
        "AUDITOR_SECURITY_PROTOCOL": "SASL_SSL",
        "AUDITOR_SASL_MECHANISM": "OAUTHBEARER",
        "AUDITOR_SASL_OAUTHBEARER_CLIENT_ID": "auditor",
        "AUDITOR_SASL_OAUTHBEARER_CLIENT_SECRET": CLIENT_SECRET,
        "AUDITOR_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL": "http://127.0.0.1:9/token",
    }
    result = subprocess.run([sys.executable, "-m", "auditor", "worker"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "speaks plaintext Kafka, but security.protocol (AUDITOR_SECURITY_PROTOCOL) is " \
        "SASL_SSL" in result.stderr
    assert CLIENT_SECRET not in result.stderr + result.stdout
