"""deploy/k8s: the kustomization, Deployments, autoscalers and secret templates.

Reads the manifests; ``kubectl kustomize`` runs too where kubectl is installed.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import (
    DB_SERVICES,
    DEPLOY,
    K8S,
    SECRET_NAME,
    SERVICES,
    URL_USERINFO,
)
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


@functools.cache
def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    return data


@functools.cache
def k8s_documents() -> tuple[dict[str, Any], ...]:
    documents: list[dict[str, Any]] = []
    for resource in kustomization()["resources"]:
        text = (K8S / resource).read_text(encoding="utf-8")
        documents.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return tuple(documents)


def k8s_objects(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in k8s_documents() if doc["kind"] == kind}


def test_kustomization_resources_exist_and_parse() -> None:
    resources = kustomization()["resources"]
    assert resources
    for resource in resources:
        assert (K8S / resource).is_file(), resource
    kinds = {doc["kind"] for doc in k8s_documents()}
    assert {"Namespace", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler"} <= kinds
    assert kustomization()["namespace"] == "flowlearn"
    for doc in k8s_documents():
        assert doc.get("apiVersion")
        assert doc.get("kind")
        assert doc["metadata"].get("name")


def test_kustomization_lists_every_manifest() -> None:
    """A manifest left out of ``resources`` would silently not be deployed."""
    manifests = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization()["resources"]) == manifests
    for name in SERVICES:
        assert f"{name}.yaml" in manifests


def test_k8s_secrets_come_from_uncommitted_files_with_templates() -> None:
    generated = {item["name"]: item for item in kustomization()["secretGenerator"]}
    assert set(generated) == {f"flowlearn-{name}" for name in SERVICES}
    ignored = (DEPLOY / ".gitignore").read_text(encoding="utf-8").split()
    for item in generated.values():
        for env_file in item["envs"]:
            template = K8S / f"{env_file}.example"
            assert template.is_file(), f"{template} missing"
            assert any(fnmatch(f"k8s/{env_file}", pattern) for pattern in ignored), env_file
            for line in template.read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.startswith("#"):
                    key, _, value = line.partition("=")
                    if SECRET_NAME.search(key):
                        assert value == "", f"{template.name}: {key} holds a value"
                    for match in URL_USERINFO.finditer(value):
                        assert re.fullmatch(r"<[A-Z_]+>", match["password"]), line
    assert not any(doc["kind"] == "Secret" for doc in k8s_documents())


@pytest.mark.parametrize("name", SERVICES)
def test_k8s_deployment_is_probed_limited_and_non_root(name: str) -> None:
    deployment = k8s_objects("Deployment")[name]
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert "replicas" not in deployment["spec"], "the HorizontalPodAutoscaler owns replicas"

    pod_security = pod["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert isinstance(pod_security["runAsUser"], int)
    assert pod_security["runAsUser"] > 0
    assert pod_security["seccompProfile"]["type"] == "RuntimeDefault"

    (container,) = pod["containers"]
    assert container["image"].startswith(f"flowlearn/{name}")
    images = {image["name"] for image in kustomization()["images"]}
    assert f"flowlearn/{name}" in images
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind]), kind
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]

    refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
    assert "flowlearn-config" in refs
    assert f"flowlearn-{name}" in refs

    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert probe in container, probe
        if name in DB_SERVICES:
            assert container[probe]["exec"]["command"] == [
                "python",
                "-m",
                "flowlearn_shared.healthcheck",
                name,
            ]
        else:
            assert container[probe]["httpGet"]["path"] in ("/healthz", "/readyz")


@pytest.mark.parametrize("name", SERVICES)
def test_k8s_deployment_has_an_autoscaler(name: str) -> None:
    matching = [
        hpa
        for hpa in k8s_objects("HorizontalPodAutoscaler").values()
        if hpa["spec"]["scaleTargetRef"]
        == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    ]
    assert len(matching) == 1
    (hpa,) = matching
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["metrics"]


def test_k8s_gateway_service_reaches_the_gateway_on_8000() -> None:
    services = k8s_objects("Service")
    assert set(services) == {"gateway"}
    gateway = services["gateway"]
    (port,) = gateway["spec"]["ports"]
    assert port["port"] == 8000
    pod = k8s_objects("Deployment")["gateway"]["spec"]["template"]
    assert gateway["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    assert {"name": port["targetPort"], "containerPort": 8000} in [
        {"name": p["name"], "containerPort": p["containerPort"]} for p in container["ports"]
    ]


def test_k8s_config_names_each_database() -> None:
    (config,) = k8s_objects("ConfigMap").values()
    for name in DB_SERVICES:
        assert config["data"][f"FLOWLEARN_{name.upper()}_DATABASE"] == f"flowlearn_{name}"
    assert config["data"]["FLOWLEARN_ENV"] == "production"
    assert config["data"]["FLOWLEARN_GATEWAY_HTTP_HOST"] == "0.0.0.0"
    assert not any(SECRET_NAME.search(key) for key in config["data"])


async def _client_seen(trusted: str, peer: str, forwarded: str) -> str:
    """The client address the gateway's uvicorn sees for a request from ``peer``."""
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["client"][0])

    scope = {
        "type": "http",
        "scheme": "http",
        "client": (peer, 40000),
        "headers": [(b"x-forwarded-for", forwarded.encode())],
    }
    await ProxyHeadersMiddleware(app, trusted_hosts=trusted)(scope, None, None)  # type: ignore[arg-type]
    return seen[0]


async def test_k8s_gateway_counts_clients_behind_the_ingress_controller() -> None:
    (config,) = k8s_objects("ConfigMap").values()
    trusted = config["data"]["FORWARDED_ALLOW_IPS"]
    # An ingress controller pod passes on the client's address, which the gateway uses...
    assert await _client_seen(trusted, "10.42.0.7", "203.0.113.9") == "203.0.113.9"
    assert await _client_seen(trusted, "172.20.3.4", "198.51.100.2") == "198.51.100.2"
    # ...and a client prepending an address of its choice gets its own counted.
    assert await _client_seen(trusted, "10.42.0.7", "1.2.3.4, 203.0.113.9") == "203.0.113.9"
    # A peer outside the private ranges cannot name another address.
    assert await _client_seen(trusted, "203.0.113.50", "1.2.3.4") == "203.0.113.50"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_k8s_kustomization_builds(tmp_path: Path) -> None:
    base = tmp_path / "k8s"
    shutil.copytree(K8S, base)
    for template in (base / "secrets").glob("*.env.example"):
        shutil.copy(template, template.with_suffix(""))
    built = subprocess.run(
        ["kubectl", "kustomize", str(base)], capture_output=True, text=True, timeout=60, check=False
    )
    assert built.returncode == 0, built.stderr
    kinds = [doc["kind"] for doc in yaml.safe_load_all(built.stdout) if doc]
    assert kinds.count("Deployment") == 4
    assert kinds.count("Secret") == 4
