"""deploy/: the Dockerfile passes hadolint, the Kubernetes manifests validate against the Kubernetes
schemas, compose.yaml's balancer is make serve-replicas's, and HAProxy accepts both configurations."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from deploy import serve_replicas as sr

ROOT = Path(__file__).resolve().parents[2]
K8S = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
KUBERNETES = "1.37.0"


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None and name == "haproxy" and Path("/usr/sbin/haproxy").exists():
        found = "/usr/sbin/haproxy"
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed")
        pytest.skip(f"{name} is not installed")
    return found


def test_dockerfile_passes_hadolint():
    run = subprocess.run([_tool("hadolint"), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_hadolint_can_fail():
    bad = "FROM python:latest\nRUN apt-get update && apt-get install -y curl\n"
    run = subprocess.run([_tool("hadolint"), "--no-color", "-"], input=bad, capture_output=True, text=True)
    assert run.returncode != 0 and "DL3007" in run.stdout  # 'latest'


def test_dockerfile_runs_as_a_user_checks_health_and_pins_its_base():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:\d+\.\d+\.\d+-slim-\w+$", text, re.M)
    assert re.search(r"^USER 10001$", text, re.M)
    assert "HEALTHCHECK" in text and "/_stcore/health" in text
    assert "STREAMLIT_SERVER_ADDRESS" in text and "STREAMLIT_SERVER_PORT" in text
    assert "pip install --no-cache-dir -r requirements.txt" in text


@pytest.mark.parametrize("path", K8S, ids=[p.name for p in K8S])
def test_manifests_validate_against_the_kubernetes_schemas(path):
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_validation_can_fail():
    deployment = yaml.safe_load((ROOT / "deploy" / "k8s" / "deployment.yaml").read_text())
    bad = copy.deepcopy(deployment)
    bad["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = [8501]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES, strict=True)
    typo = copy.deepcopy(deployment)
    typo["spec"]["replica"] = 2  # strict: unknown fields are errors
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, KUBERNETES, strict=True)


def test_deployment_probes_the_health_route_and_asks_for_what_a_replica_uses():
    deployment = yaml.safe_load((ROOT / "deploy" / "k8s" / "deployment.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/_stcore/health"
    assert container["resources"]["requests"]["memory"] == "1Gi"
    assert {e["name"] for e in container["env"]} >= {"CNNVIZ_REPLICA", "STREAMLIT_SERVER_COOKIE_SECRET"}
    ingress = yaml.safe_load((ROOT / "deploy" / "k8s" / "ingress.yaml").read_text())
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600


def test_compose_mirrors_make_serve_replicas():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"r0", "r1", "balancer"}
    for name in ("r0", "r1"):
        env = services[name]["environment"]
        assert env["CNNVIZ_REPLICA"] == name and "STREAMLIT_SERVER_COOKIE_SECRET" in env
    assert sr.COMPOSE_CONFIG.read_text() == sr.compose_config()  # regenerate: serve_replicas.py --write-compose-config
    assert "./deploy/haproxy-compose.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in services["balancer"]["volumes"]


@pytest.mark.parametrize("config", ["local", "compose"])
def test_haproxy_accepts_the_configuration(config, tmp_path):
    text = sr.compose_config() if config == "compose" else sr.haproxy_config(
        8501, [("r0", "127.0.0.1:9001"), ("r1", "127.0.0.1:9002")], str(tmp_path / "s.sock"))
    assert "cookie cnnviz_replica insert" in text and "timeout tunnel 1h" in text and "option httpchk GET /_stcore/health" in text
    path = tmp_path / "haproxy.cfg"
    path.write_text(text)
    run = subprocess.run([_tool("haproxy"), "-c", "-f", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    path.write_text(text.replace("balance leastconn", "balance nosuchthing"))
    assert subprocess.run([_tool("haproxy"), "-c", "-f", str(path)], capture_output=True).returncode != 0


def test_start_refuses_no_replicas_and_a_missing_balancer(tmp_path):
    with pytest.raises(ValueError):
        sr.start(0, 8501, tmp_path)
    with pytest.raises(FileNotFoundError):
        sr.start(1, 8501, tmp_path, haproxy=str(tmp_path / "no-haproxy"))
