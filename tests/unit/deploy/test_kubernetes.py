"""deploy/kubernetes/, validated offline: Kubernetes' schemas, KEDA's CRD, and each other."""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from auditor.ops.server import LIVENESS, READINESS
from auditor.stream.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
KUBERNETES = ROOT / "deploy" / "kubernetes"
KEDA_CRD = KUBERNETES / "schemas" / "keda.sh_scaledobjects.yaml"
# The oldest Kubernetes release the manifests must work on (still supported by its vendors).
KUBERNETES_VERSION = "1.31.0"
# The Kafka scaler's parameter names in KEDA v2.20.2 (pkg/scalers/kafka_scaler.go, the
# `keda:"name=..."` tags of the trigger metadata; the CRD types metadata as a string map).
KAFKA_SCALER_PARAMETERS = {
    "bootstrapServers", "consumerGroup", "topic", "partitionLimitation", "lagThreshold",
    "activationLagThreshold", "offsetResetPolicy", "allowIdleConsumers",
    "excludePersistentLag", "scaleToZeroOnInvalidOffset", "limitToPartitionsWithLag",
    "ensureEvenDistributionOfPartitions", "version", "tls", "unsafeSsl", "sasl",
    "saslTokenProvider", "awsRegion",
}


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def manifests() -> dict[str, dict[str, Any]]:
    """Kind → resource, for every file the kustomization lists."""
    kustomization = load(KUBERNETES / "kustomization.yaml")
    resources = {}
    for name in kustomization["resources"]:
        resource = load(KUBERNETES / name)
        resources[resource["kind"]] = resource
    return resources


CORE = sorted(kind for kind, r in manifests().items() if not r["apiVersion"].startswith("keda"))


def keda_schema() -> dict[str, Any]:
    crd = load(KEDA_CRD)
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def keda_errors(resource: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(keda_schema())
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(resource)]


def test_the_kustomization_lists_every_manifest() -> None:
    listed = set(load(KUBERNETES / "kustomization.yaml")["resources"])
    on_disk = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    assert set(manifests()) == {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
                                "ScaledObject"}


@pytest.mark.parametrize("kind", CORE)
def test_core_resources_pass_kubernetes_validate_strict(kind: str) -> None:
    # Strict: unknown fields (a typo such as `livenessprobe`) are errors too.
    kubernetes_validate.validate(manifests()[kind], KUBERNETES_VERSION, strict=True)


def test_kubernetes_validate_catches_mistakes() -> None:
    deployment = manifests()["Deployment"]
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError, match="'two' is not of type"):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    typo = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, KUBERNETES_VERSION, strict=True)


def test_the_vendored_keda_crd_is_the_release_file() -> None:
    readme = (KEDA_CRD.parent / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(KEDA_CRD.read_bytes()).hexdigest()
    assert f"sha256 `{digest}`" in readme
    assert "tag **v2.20.2**" in readme


def test_the_scaled_object_passes_kedas_crd_schema() -> None:
    scaled = manifests()["ScaledObject"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert keda_errors(scaled) == []
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    assert set(trigger["metadata"]) <= KAFKA_SCALER_PARAMETERS
    assert all(isinstance(v, str) for v in trigger["metadata"].values())


def test_the_crd_schema_catches_mistakes() -> None:
    scaled = manifests()["ScaledObject"]
    spec = scaled["spec"]
    assert keda_errors({**scaled, "spec": {**spec, "maxReplicaCount": "four"}})
    assert keda_errors({**scaled, "spec": {k: v for k, v in spec.items()
                                           if k != "scaleTargetRef"}})
    broken_trigger = [{"metadata": spec["triggers"][0]["metadata"]}]  # no type
    assert keda_errors({**scaled, "spec": {**spec, "triggers": broken_trigger}})


def settings_of(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The worker's settings from the ConfigMap and the Deployment's own env values."""
    env = dict(manifests()["ConfigMap"]["data"])
    container = manifests()["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    env.update({e["name"]: e["value"] for e in container["env"] if "value" in e})
    env["AUDITOR_WORKER_ID"] = "auditor-worker-5d9c7-x2x4q"  # fieldRef: the pod's name
    for key, value in env.items():
        assert key.removeprefix("AUDITOR_").lower() in Settings.model_fields, key
        monkeypatch.setenv(key, value)
    return Settings()


def test_the_manifests_agree_with_each_other_and_the_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_of(monkeypatch)
    resources = manifests()
    deployment, scaled = resources["Deployment"], resources["ScaledObject"]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert resources["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() \
        <= labels.items()
    assert resources["Service"]["spec"]["selector"].items() <= labels.items()

    # The scaler watches this worker's group and input topic, at most one pod per partition.
    target = scaled["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    kafka = scaled["spec"]["triggers"][0]["metadata"]
    assert kafka["consumerGroup"] == settings.group_id
    assert (kafka["topic"],) == settings.input_topics
    assert kafka["bootstrapServers"] == settings.bootstrap_servers
    assert scaled["spec"]["maxReplicaCount"] == settings.partitions
    assert kafka["allowIdleConsumers"] == "false"

    # Probes: liveness on /livez, readiness on /readyz, on the worker's metrics port.
    (container,) = pod["spec"]["containers"]
    (port,) = container["ports"]
    assert port["containerPort"] == settings.metrics_port
    assert settings.metrics_host == "0.0.0.0"
    for probe, path in (("startupProbe", LIVENESS), ("livenessProbe", LIVENESS),
                        ("readinessProbe", READINESS)):
        assert container[probe]["httpGet"] == {"path": path, "port": port["name"]}, probe
    assert container["resources"]["requests"].keys() == {"cpu", "memory"}
    assert "memory" in container["resources"]["limits"]
    # The image's non-root user, and a writable temp dir on a read-only root (the worker
    # writes nothing else).
    assert pod["spec"]["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {tempfile.gettempdir()}
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(settings.metrics_port)


def test_the_policy_the_configmap_names_is_in_the_image() -> None:
    from auditor.policy import load_policy
    from tests.unit.deploy.test_compose import _image_to_repo

    path = manifests()["ConfigMap"]["data"]["AUDITOR_POLICY"]
    source = _image_to_repo(path)
    assert source is not None, path
    assert load_policy(str(source)).id
    image = manifests()["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert re.fullmatch(r"auditor:[\w.-]+", image), "the image docker-compose.yml builds"
