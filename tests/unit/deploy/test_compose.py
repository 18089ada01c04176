"""docker-compose.yml and the Dockerfile, checked offline (no Docker engine here)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from ruamel.yaml import YAML

from auditor.cli import main as cli
from auditor.policy import load_policy
from auditor.stream.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
PROMETHEUS_CONFIG = ROOT / "prometheus" / "prometheus-compose.yml"
RULES = ROOT / "prometheus" / "rules"
ALERTMANAGER_CONFIG = ROOT / "alertmanager" / "alertmanager.yml"
GRAFANA = ROOT / "grafana"
# check-jsonschema (pinned in the test extra) ships the Compose Specification's schema.
SCHEMA_PACKAGE = "check_jsonschema.builtin_schemas.vendor"
# Worker settings issue 5 part 1 adds; until Settings has them their env vars are skipped.
PENDING_SETTINGS = {"metrics_port", "alertmanager_url"}
# Every file or folder the stack mounts, and the test that checks its content.
MOUNT_CHECKS = {
    "prometheus/prometheus-compose.yml": "test_prometheus_config_passes_promtool",
    "prometheus/rules": "test_prometheus_config_with_the_rules_passes_promtool",
    "alertmanager/alertmanager.yml": "test_alertmanager_config_passes_amtool",
    "grafana/provisioning": "test_grafana_provisioning_points_at_the_stack",
    "grafana/dashboards": "tests/unit/deploy/test_grafana_dashboards.py",
}
# Mounted files other engineers write (issue 5 part 1): skipped until they exist.
NOT_MINE = {"prometheus/rules", "alertmanager/alertmanager.yml"}


def _yaml(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


# --- Compose variable interpolation --------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(KeyError):
    """A variable without a default that the environment does not set."""


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """``value`` with Compose's ``$$``, ``${VAR}``, ``${VAR:-default}`` replaced as Compose does."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"], match["arg"]
        if op == ":-" and env.get(name):
            return env[name]
        if op in (":-", "-"):
            return env.get(name, arg) if op == "-" else arg
        if name not in env:
            raise MissingVariable(f"${{{name}}} has no default: `docker compose up` needs it set")
        return env[name]

    return _VARIABLE.sub(replace, value)


def _compose() -> dict[str, Any]:
    """The compose model as Compose sees it with no variables set (defaults applied)."""
    model: dict[str, Any] = interpolate(_yaml(COMPOSE), {})
    return model


def _services() -> dict[str, Any]:
    services: dict[str, Any] = _compose()["services"]
    return services


def _workers() -> dict[str, dict[str, str]]:
    """Worker service name → its environment (services that serve worker metrics)."""
    return {
        name: service["environment"]
        for name, service in _services().items()
        if "AUDITOR_METRICS_PORT" in service.get("environment", {})
    }


def _compose_schema() -> dict[str, Any]:
    text = (resources.files(SCHEMA_PACKAGE) / "compose-spec.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _schema_errors(model: Any) -> list[str]:
    schema = _compose_schema()
    # The pinned schema says draft-07 without the trailing '#' jsonschema keys its drafts by.
    validator_class = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft7Validator
    )
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(model)]


def require_tool(name: str, package: str) -> str:
    """Path of a command-line tool; skip without it, but fail in CI (CI=true) where it must be."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian package {package}: apt-get install {package})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must install it")
        pytest.skip(message)
    return path


def _rule_files() -> list[Path]:
    return sorted([*RULES.glob("*.yml"), *RULES.glob("*.yaml")]) if RULES.is_dir() else []


# --- The Compose Specification -------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = _compose_schema()
    assert schema["title"] == "Compose Specification"
    assert _schema_errors(_compose()) == []


def test_the_schema_check_catches_mistakes() -> None:
    broken = {
        "services": {
            "worker": {"image": "auditor:local", "depends_on": 3, "ports": [{"x": 1}]},
            "other": {"imagee": "typo"},
        }
    }
    errors = "\n".join(_schema_errors(broken))
    assert "depends_on" in errors
    assert "ports" in errors
    assert "imagee" in errors


def test_the_vendored_schema_is_intact() -> None:
    import hashlib

    expected = (resources.files(SCHEMA_PACKAGE) / "sha256" / "compose-spec.sha256").read_text()
    data = (resources.files(SCHEMA_PACKAGE) / "compose-spec.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == expected.strip()


def test_every_variable_has_a_default() -> None:
    interpolate(_yaml(COMPOSE), {})  # raises MissingVariable otherwise
    env = _services()["traffic"]["environment"]
    assert env["DEMO_ROUNDS"] == "30"
    with_env = interpolate(_yaml(COMPOSE), {"DEMO_ROUNDS": "2"})
    assert with_env["services"]["traffic"]["environment"]["DEMO_ROUNDS"] == "2"


def test_interpolation_follows_compose() -> None:
    assert interpolate("a $$b ${X:-d} ${Y-e}", {"Y": ""}) == "a $b d "
    with pytest.raises(MissingVariable, match="Z"):
        interpolate("${Z}", {})


def test_images_are_pinned_and_ports_stay_on_this_machine() -> None:
    for name, service in _services().items():
        image = service.get("image", "")
        assert ":" in image, f"{name}: pin the image tag"
        assert not image.endswith(":latest"), f"{name}: pin the image tag"
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: publish {port} on loopback only"


def test_the_stack_has_every_part_of_the_issue() -> None:
    services = _services()
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["alertmanager"]["image"].startswith("prom/alertmanager:")
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    # One service of replicas in one consumer group: `--scale worker=N` scales it.
    (name,) = _workers()
    worker = services[name]
    assert worker["deploy"]["replicas"] >= 2
    assert worker["build"]["context"] == "."
    assert "command" not in worker
    # Each replica names itself after its container, then runs `auditor worker`.
    assert worker["entrypoint"][:2] == ["/bin/sh", "-c"]
    assert worker["entrypoint"][2] == "AUDITOR_WORKER_ID=$(hostname) exec auditor worker"


# --- Mounted configuration -----------------------------------------------------------------


def _bind_mounts() -> dict[str, str]:
    """Repo-relative source → container target of every bind mount."""
    mounts = {}
    for service in _services().values():
        for volume in service.get("volumes", []):
            if isinstance(volume, str):
                source, target = volume.split(":")[:2]
            else:
                assert volume["type"] == "bind"
                source, target = volume["source"], volume["target"]
            mounts[str(PurePosixPath(source))] = target
    return mounts


def test_every_mounted_file_is_one_the_tests_check() -> None:
    assert set(_bind_mounts()) == set(MOUNT_CHECKS)


@pytest.mark.parametrize("source", sorted(MOUNT_CHECKS))
def test_every_mounted_file_exists(source: str) -> None:
    path = ROOT / source
    if source in NOT_MINE and not path.exists():
        pytest.skip(f"{source} is not there yet (Prometheus rules and Alertmanager config, "
                    "issue 5 part 1)")
    assert path.exists(), f"docker-compose.yml mounts {source}, which does not exist"
    if path.is_dir():
        assert any(path.iterdir()), f"{source} is empty"


def test_prometheus_config_passes_promtool() -> None:
    promtool = require_tool("promtool", "prometheus")
    result = subprocess.run([promtool, "check", "config", str(PROMETHEUS_CONFIG)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_config_with_the_rules_passes_promtool() -> None:
    promtool = require_tool("promtool", "prometheus")
    rules = _rule_files()
    if not rules:
        pytest.skip("prometheus/rules/ has no rule files yet (issue 5 part 1)")
    result = subprocess.run([promtool, "check", "config", str(PROMETHEUS_CONFIG)],
                            capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for rule_file in rules:
        assert rule_file.name in output, f"{rule_file.name} not loaded by the compose config"


def test_prometheus_mounts_match_the_config() -> None:
    mounts = _bind_mounts()
    assert mounts["prometheus/prometheus-compose.yml"] == "/etc/prometheus/prometheus.yml"
    # rule_files are relative to the config: rules/ beside it in the container too.
    assert mounts["prometheus/rules"] == "/etc/prometheus/rules"
    config = _yaml(PROMETHEUS_CONFIG)
    assert all(path.startswith("rules/") for path in config["rule_files"])
    assert "--config.file=/etc/prometheus/prometheus.yml" in _services()["prometheus"]["command"]


def test_the_rules_watch_jobs_the_compose_prometheus_scrapes() -> None:
    rules = _rule_files()
    if not rules:
        pytest.skip("prometheus/rules/ has no rule files yet (issue 5 part 1)")
    jobs = {job["job_name"] for job in _yaml(PROMETHEUS_CONFIG)["scrape_configs"]}
    for rule_file in rules:
        for group in (_yaml(rule_file) or {}).get("groups", []):
            for rule in group.get("rules", []):
                for job in re.findall(r'\bjob\s*=\s*"([^"]*)"', str(rule.get("expr", ""))):
                    assert job in jobs, f"{rule_file.name}: job {job!r} is not scraped in compose"


def test_prometheus_scrapes_every_worker_on_its_metrics_port() -> None:
    config = _yaml(PROMETHEUS_CONFIG)
    (auditor,) = [job for job in config["scrape_configs"] if job["job_name"] == "auditor"]
    # By DNS, not a fixed list: Docker answers a service name with one address per running
    # replica, so `--scale` never leaves Prometheus scraping a worker that is gone.
    assert "static_configs" not in auditor
    (sd,) = auditor["dns_sd_configs"]
    assert sd["type"] == "A"
    assert set(sd["names"]) == set(_workers())
    for name, env in _workers().items():
        assert sd["port"] == int(env["AUDITOR_METRICS_PORT"])
        assert env["AUDITOR_METRICS_PORT"] in _services()[name]["expose"]
    (alerting,) = config["alerting"]["alertmanagers"]
    assert alerting["static_configs"][0]["targets"] == ["alertmanager:9093"]


ONE_SHOT = {"kafka-topics", "traffic"}


def test_every_service_has_a_healthcheck_or_runs_to_completion() -> None:
    services = _services()
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check is not None, f"{name}: no healthcheck"
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            assert check == {"disable": True}, f"{name}: a job that exits has no health"
            continue
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert check["interval"], name
        assert check["retries"], name
    # What waits on what: a service starts once the ones it needs are healthy.
    for name, service in services.items():
        for needed, condition in service.get("depends_on", {}).items():
            expected = ("service_completed_successfully" if needed in ONE_SHOT
                        else "service_healthy")
            assert condition["condition"] == expected, f"{name} → {needed}"


def test_the_worker_healthcheck_is_its_readiness_probe(tmp_path: Path) -> None:
    """Runs the healthcheck's own command against a worker endpoint, unready then ready."""
    from prometheus_client import CollectorRegistry

    from auditor.ops.server import READINESS, serve_metrics
    from auditor.stream.health import Health

    (name,) = _workers()
    test = _services()[name]["healthcheck"]["test"]
    port = _workers()[name]["AUDITOR_METRICS_PORT"]
    assert test[:2] == ["CMD", "python"]
    assert f"http://127.0.0.1:{port}{READINESS}" in test[-1]
    health = Health()
    server = serve_metrics(CollectorRegistry(), "127.0.0.1", 0, health)
    try:
        argv = ["python3", *test[2:-1], test[-1].replace(f":{port}/", f":{server.port}/")]
        assert subprocess.run(argv, capture_output=True, check=False).returncode != 0
        health.policy_loaded("natterbox")
        health.assigned([0, 1])
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
    finally:
        server.close()


def test_alertmanager_config_passes_amtool() -> None:
    if not ALERTMANAGER_CONFIG.exists():
        pytest.skip("alertmanager/alertmanager.yml is not there yet (issue 5 part 1)")
    amtool = require_tool("amtool", "prometheus-alertmanager")
    result = subprocess.run([amtool, "check-config", str(ALERTMANAGER_CONFIG)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # Template files would have to be mounted too.
    assert not (_yaml(ALERTMANAGER_CONFIG) or {}).get("templates"), "mount the templates"


def test_grafana_provisioning_points_at_the_stack() -> None:
    mounts = _bind_mounts()
    assert mounts["grafana/provisioning"] == "/etc/grafana/provisioning"
    datasources = _yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yaml")
    by_type = {ds["type"]: ds for ds in datasources["datasources"]}
    prometheus = by_type["prometheus"]
    # The dashboards' datasource variable defaults to this uid.
    assert prometheus["uid"] == "prometheus"
    assert prometheus["isDefault"] is True
    assert _service_port(prometheus["url"]) == ("prometheus", 9090)
    assert _service_port(by_type["alertmanager"]["url"]) == ("alertmanager", 9093)
    scrape = _yaml(PROMETHEUS_CONFIG)["global"]["scrape_interval"]
    assert prometheus["jsonData"]["timeInterval"] == scrape

    (provider,) = _yaml(GRAFANA / "provisioning" / "dashboards" / "auditor.yaml")["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == mounts["grafana/dashboards"]
    home = _services()["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(mounts["grafana/dashboards"] + "/")
    assert (GRAFANA / "dashboards" / PurePosixPath(home).name).is_file()


def _service_port(url: str) -> tuple[str, int]:
    """(host, port) of ``url``, the host checked to be a compose service."""
    parts = urlsplit(url)
    assert parts.hostname in _services(), f"{url}: no service {parts.hostname}"
    assert parts.port is not None, url
    return parts.hostname, parts.port


# --- Reading the Dockerfile ---------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in _instructions():
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value
    return {k: v for k, v in env.items() if k.startswith("AUDITOR_")}


def _copies() -> dict[str, Path]:
    """Image path → repo path of every COPY (relative targets resolved against WORKDIR)."""
    workdir = PurePosixPath("/")
    copies: dict[str, Path] = {}
    for word, rest in _instructions():
        if word == "WORKDIR":
            workdir = workdir / rest
        elif word == "COPY":
            *sources, target = shlex.split(rest)
            assert not any(s.startswith("--") for s in sources), "COPY flags are not checked"
            for source in sources:
                dest = workdir / target
                if target.endswith("/") or len(sources) > 1:
                    dest = dest / PurePosixPath(source).name
                copies[str(dest)] = ROOT / source
    return copies


def _image_to_repo(image_path: str) -> Path | None:
    """The repo file that ends up at ``image_path`` in the final image, if any."""
    for dest, source in sorted(_copies().items(), key=lambda kv: -len(kv[0])):
        if dest.startswith("/src"):
            continue  # removed after `pip install .`
        if image_path == dest or image_path.startswith(dest + "/"):
            return source / PurePosixPath(image_path).relative_to(dest)
    return None


# --- The workers' environment --------------------------------------------------------------


def _auditor_env() -> list[tuple[str, str, str]]:
    """(where, variable, value) of every AUDITOR_* variable of the compose file and image."""
    found = [
        (name, key, str(value))
        for name, service in _services().items()
        for key, value in service.get("environment", {}).items()
        if key.startswith("AUDITOR_")
    ]
    found += [("Dockerfile", key, value) for key, value in _dockerfile_env().items()]
    return found


@pytest.mark.parametrize(("where", "variable", "value"), _auditor_env())
def test_every_auditor_variable_is_a_worker_setting(where: str, variable: str, value: str) -> None:
    field = variable.removeprefix("AUDITOR_").lower()
    if field not in Settings.model_fields:
        if field in PENDING_SETTINGS:
            pytest.skip(f"Settings has no {field} yet (issue 5 part 1 adds it)")
        pytest.fail(f"{where}: {variable} is not a worker setting (auditor.stream.settings)")


@pytest.mark.parametrize("worker", sorted(_workers()))
def test_the_worker_settings_load_from_the_compose_environment(
    worker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the entrypoint adds: the container's host name as the worker id.
    env = {**_dockerfile_env(), **_workers()[worker], "AUDITOR_WORKER_ID": "0123456789ab"}
    for key, value in env.items():
        if key.removeprefix("AUDITOR_").lower() in Settings.model_fields:
            monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.worker_id == "0123456789ab"
    assert settings.bootstrap_servers == "kafka:9092"
    assert settings.partitions <= _topic_partitions()


def test_the_bootstrap_servers_are_the_compose_kafka_listener() -> None:
    advertised = _services()["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"].split(",")
    internal = {listener.split("://", 1)[1] for listener in advertised}
    for env in [*_workers().values(), _services()["traffic"]["environment"]]:
        assert env["AUDITOR_BOOTSTRAP_SERVERS"] in internal
    for env in _workers().values():
        assert _service_port(env["AUDITOR_ALERTMANAGER_URL"]) == ("alertmanager", 9093)


def test_the_policy_is_in_the_image_and_loads() -> None:
    for where, variable, value in _auditor_env():
        if variable == "AUDITOR_POLICY":
            source = _image_to_repo(value)
            assert source is not None, f"{where}: {value} is not copied into the image"
            assert source.is_file(), f"{where}: {value} is not in the image"
            assert load_policy(str(source)).id


def _topic_partitions() -> int:
    command = " ".join(_services()["kafka-topics"]["command"])
    match = re.search(r"--partitions (\d+)", command)
    assert match is not None, command
    return int(match[1])


def test_the_topics_are_the_workers_topics() -> None:
    command = " ".join(_services()["kafka-topics"]["command"])
    match = re.search(r"for topic in ([^;]+);", command)
    assert match is not None, command
    created = set(match[1].split())
    defaults = Settings()
    assert created == {*defaults.input_topics, defaults.decisions_topic,
                       defaults.findings_topic, defaults.dead_letter_topic}


def test_the_traffic_command_uses_real_cli_options() -> None:
    (script,) = _services()["traffic"]["command"]
    for stage in re.findall(r"auditor (\w+) ([^|;]*)", script):
        command, args = stage
        assert command in cli.commands, f"auditor {command}"
        options = {opt for param in cli.commands[command].params for opt in param.opts}
        options |= {opt for param in cli.commands[command].params for opt in param.secondary_opts}
        for token in shlex.split(args.replace("||", " ")):
            if token.startswith("--"):
                assert token in options, f"auditor {command} has no option {token}"
    assert "auditor traffic natterbox" in script
    assert "auditor emit -" in script


# --- The Dockerfile ------------------------------------------------------------------------


def test_dockerfile_builds_the_worker_image_as_the_brief_says() -> None:
    instructions = _instructions()
    word, base = instructions[0]
    assert word == "FROM"
    # An exact Python release and the digest of its image (docs/reproducibility.md).
    assert re.fullmatch(r"python:3\.11\.\d+-slim@sha256:[0-9a-f]{64}", base), base
    runs = " ".join(rest for word, rest in instructions if word == "RUN")
    assert "pip install -c requirements.lock ." in runs
    users = [rest for word, rest in instructions if word == "USER"]
    assert users, "the image runs as a non-root user"
    assert users[-1] not in ("root", "0"), "the image runs as a non-root user"
    assert ("ENTRYPOINT", '["auditor"]') in instructions
    assert ("CMD", '["worker"]') in instructions
    assert "worker" in cli.commands


def test_every_copied_path_exists_and_the_schemas_link_resolves() -> None:
    copies = _copies()
    for dest, source in copies.items():
        assert source.exists(), f"COPY {source.relative_to(ROOT)} → {dest}: no such path"
    # auditor/_schemas → ../schemas: schemas/ must land beside auditor/ for the wheel.
    link = ROOT / "auditor" / "_schemas"
    assert link.is_symlink()
    assert os.readlink(link) == "../schemas"
    assert copies["/src/auditor"] == ROOT / "auditor"
    assert copies["/src/schemas"] == ROOT / "schemas"
    assert (ROOT / "README.md").is_file(), "pyproject's readme is copied for the build"


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _pattern(pattern: str) -> re.Pattern[str]:
    """Docker's .dockerignore glob (Go filepath.Match plus `**`) as a regex."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            if pattern.startswith("/", i):
                out += "/?"
                i += 1
            continue
        char = pattern[i]
        out += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
        i += 1
    return re.compile(out)


def dockerignored(path: str, patterns: list[str]) -> bool:
    """True if Docker leaves ``path`` out of the build context (last matching pattern wins)."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        regex = _pattern(str(PurePosixPath(raw.lstrip("!").strip("/"))))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def test_the_build_context_holds_what_the_dockerfile_copies_and_no_more() -> None:
    patterns = _dockerignore()
    for source in _copies().values():
        rel = source.relative_to(ROOT)
        files = [source] if source.is_file() else [
            p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        for path in files:
            assert not dockerignored(str(path.relative_to(ROOT)), patterns), (
                f"{path.relative_to(ROOT)} is copied ({rel}) but .dockerignore leaves it out")
    for left_out in [".git/HEAD", ".venv/bin/python", "tests/unit/deploy/test_compose.py",
                     "auditor/__pycache__/x.cpython-311.pyc", "grafana/dashboards/x.json",
                     "auditor.egg-info/PKG-INFO"]:
        assert dockerignored(left_out, patterns), left_out
