"""The deployment files in deploy/: the image, docker compose, Kubernetes.

Docker cannot run on our machines, so each file is checked by the tool that knows its
format (hadolint, docker-compose's own validation, the Kubernetes OpenAPI schemas that
the kubernetes-validate package bundles) and against the product: every setting they
name exists, selectors match, probes hit the real health routes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from pydantic import AliasChoices

from bot.settings import ENV_PREFIX, Settings
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSIONS = ("1.29", "1.33")  # the oldest still common, and a recent one


def accepted_names(name: str) -> set[str]:
    """The environment variables that set field ``name``."""
    field = Settings.model_fields[name]
    if isinstance(field.validation_alias, AliasChoices):
        return {str(c) for c in field.validation_alias.choices}
    return {f"{ENV_PREFIX}{name.upper()}"}


def setting_names() -> set[str]:
    return set().union(*(accepted_names(n) for n in Settings.model_fields))


# Compose-only variables (read by docker-compose.yml itself, not by the server).
COMPOSE_VARIABLES = {
    "SUPPORTBOT_REPLICAS",
    "SUPPORTBOT_HTTP_PORT",
    "SUPPORTBOT_KNOWLEDGE_DIR",
}


def manifests() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


def find(kind: str, name: str | None = None) -> dict:
    return next(
        d for _, d in manifests() if d["kind"] == kind and name in (None, d["metadata"]["name"])
    )


# -- the image --------------------------------------------------------------------------


def test_the_dockerfile_passes_hadolint():
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run(
        [str(hadolint), str(DEPLOY / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_user_checks_its_models_and_downloads_nothing():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = text.split("\nFROM ")
    assert len(stages) == 3  # build stage, runtime stage
    final = stages[-1]
    assert re.search(r"^USER 10001$", final, re.MULTILINE)
    assert "HF_HUB_OFFLINE=1" in final and "RUN supportbot check-models" in final
    assert "/healthz" in final.split("HEALTHCHECK", 1)[1]
    assert "torch==2.13.0" in text and "whl/cpu" in text  # the CPU build, pinned
    # Only what the image needs goes into the build context.
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert ignore[ignore.index("*") + 1 :][:4] == [
        "!pyproject.toml",
        "!README.md",
        "!bot/",
        "!knowledge/",
    ]


# -- docker compose ------------------------------------------------------------------------


@pytest.fixture
def compose_dir(tmp_path: Path) -> Path:
    """deploy/ as a user has it after `cp .env.example .env`."""
    shutil.copytree(DEPLOY, tmp_path / "deploy")
    shutil.copy(DEPLOY / ".env.example", tmp_path / "deploy" / ".env")
    return tmp_path / "deploy"


def test_the_compose_file_is_valid_for_docker_compose(compose_dir):
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is missing: `make deploy-tools` installs Debian's")
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config"],
        cwd=compose_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == {"proxy", "server", "migrate", "ingest", "postgres", "redis", "chroma"}
    server = services["server"]
    assert server["deploy"]["replicas"] == 2
    assert server["environment"]["SUPPORTBOT_DATABASE_URL"].startswith("postgresql://supportbot:")
    assert server["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert server["depends_on"]["ingest"]["condition"] == "service_completed_successfully"
    assert services["proxy"]["depends_on"]["server"]["condition"] == "service_healthy"
    assert "chroma" in services["chroma"]["command"] and services["chroma"]["healthcheck"]


def test_the_compose_file_refuses_to_start_without_a_database_password(compose_dir):
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is missing: `make deploy-tools` installs Debian's")
    env = compose_dir / ".env"
    env.write_text(env.read_text().replace("POSTGRES_PASSWORD=change-me\n", ""))
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=compose_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "set POSTGRES_PASSWORD" in result.stderr


def test_env_example_lists_every_setting_and_only_real_ones():
    text = (DEPLOY / ".env.example").read_text()
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    missing = [n for n in Settings.model_fields if not accepted_names(n) & named]
    assert missing == []
    assert named - setting_names() - COMPOSE_VARIABLES == {"POSTGRES_PASSWORD"}


def test_every_setting_the_compose_file_and_manifests_set_exists():
    real = setting_names() | COMPOSE_VARIABLES
    compose = (DEPLOY / "docker-compose.yml").read_text()
    used = set(re.findall(r"\b(SUPPORTBOT_[A-Z0-9_]+)\b", compose))
    for _, doc in manifests():
        if doc["kind"] in ("ConfigMap", "Secret"):
            used |= set(doc.get("data") or {}) | set(doc.get("stringData") or {})
    assert used and used - real == set()


def test_nginx_passes_websockets_and_keeps_them_open():
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert re.search(r"proxy_read_timeout 3600s;", conf)
    assert "server server:8000" in conf  # the compose service and the image's port
    assert "X-Forwarded-For" in conf


# -- Kubernetes --------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_against_the_kubernetes_schema(version):
    docs = manifests()
    assert len(docs) >= 10
    for name, doc in docs:
        if doc["kind"] == "Kustomization":
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {doc['kind']} {doc['metadata']['name']}: {exc.message}")


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def test_the_deployment_probes_the_health_routes_and_runs_without_root():
    deployment = find("Deployment", "supportbot")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["requests"]["memory"]
    refs = {e.get("configMapRef", e.get("secretRef"))["name"] for e in container["envFrom"]}
    assert refs == {find("ConfigMap")["metadata"]["name"], find("Secret")["metadata"]["name"]}
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_service_pdb_and_autoscaler_point_at_the_deployment():
    deployment = find("Deployment", "supportbot")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = find("Service", "supportbot")
    assert service["spec"]["selector"].items() <= labels.items()
    pdb = find("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    hpa = find("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "supportbot"
    assert hpa["spec"]["minReplicas"] >= 2
    ingress = find("Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "supportbot"
    timeouts = ingress["metadata"]["annotations"]
    assert int(timeouts["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600


def test_the_pods_and_the_ingest_job_reach_the_chroma_server():
    chroma = find("Service", "supportbot-chroma")
    url = find("ConfigMap")["data"]["SUPPORTBOT_CHROMA_URL"]
    assert url == f"http://{chroma['metadata']['name']}:{chroma['spec']['ports'][0]['port']}"
    job = find("Job")
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[:2] == ["supportbot", "ingest"] and "--prune" in args
