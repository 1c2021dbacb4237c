"""The scale-out stack as files: docker-compose.yml, .env.example, the Dockerfile and archive/wsgi.py.

No Docker daemon runs on the developers' machines or in CI, so the compose file is read as YAML and held to
what docs/deploy.md promises (pinned images, health checks, a scalable worker, documented settings); the
WSGI entry point is imported and served by gunicorn for real. `docker compose config` runs only where the
compose plugin is installed.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import ipaddress
import os
import re
import runpy
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask, request

import archive.runtime
from archive.config import SETTINGS, Settings
from archive.runtime import Runtime
from archive.web.serving import SchemaNotReady, TrustedProxies, parse_networks
from ingest.queue import JobQueue
from tests.conftest import REPO_ROOT

COMPOSE_PATH = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE_PATH = REPO_ROOT / ".env.example"
DOCKERFILE_PATH = REPO_ROOT / "Dockerfile"
COMPOSE_TEXT = COMPOSE_PATH.read_text(encoding="utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
ENV_EXAMPLE_TEXT = ENV_EXAMPLE_PATH.read_text(encoding="utf-8")
DOCKERFILE_TEXT = DOCKERFILE_PATH.read_text(encoding="utf-8").replace("\\\n", " ")

THE_SIX = ("app", "worker", "postgres", "redis", "minio", "elasticsearch")
ENGINES = ("postgres", "redis", "minio", "elasticsearch")
# What hoso runs at run time; the Makefile's APT_PACKAGES adds what only the tests need (chromium, Ceph...).
RUNTIME_APT_PACKAGES = {
    "tesseract-ocr",
    "tesseract-ocr-vie",
    "poppler-utils",
    "qpdf",
    "fonts-dejavu-core",
    "fontconfig",
}
# ${NAME}, ${NAME:-default}, ${NAME:?message} and $NAME; "$$" is a literal dollar for the container's shell.
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")
REQUIRED_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*):?\?")
HOSO_NAME = re.compile(r"\bHOSO_[A-Z0-9_]+\b")
ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def env_example() -> dict[str, tuple[bool, str]]:
    """Each variable .env.example names: whether it is set (not commented out) and its value."""
    entries = {}
    for line in ENV_EXAMPLE_TEXT.splitlines():
        match = ENV_LINE.match(line.strip())
        if match:
            entries[match.group(2)] = (match.group(1) is None, match.group(3))
    return entries


def image_parts(image: str) -> tuple[str, str | None, str | None]:
    """(repository, tag, digest) of an image reference; a registry port is not mistaken for a tag."""
    reference, _, digest = image.partition("@")
    last = reference.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    repository = reference[: len(reference) - len(tag) - 1] if tag else reference
    return repository, tag, digest or None


def depends_on(service: str) -> dict[str, dict[str, str]]:
    dependencies = SERVICES[service].get("depends_on", {})
    assert isinstance(dependencies, dict), f"{service}: depends_on must be a mapping with conditions"
    return dependencies


def is_one_shot(service: str) -> bool:
    return SERVICES[service].get("restart") == "no"


def test_the_six_services_exist() -> None:
    assert set(THE_SIX) <= set(SERVICES)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_image_is_pinned_to_a_version(service: str) -> None:
    image = SERVICES[service]["image"]
    assert "$" not in image, f"{service}: the image must not depend on a variable: {image}"
    _repository, tag, digest = image_parts(image)
    if digest is None:
        assert tag is not None, f"{service}: {image} has no tag, i.e. latest"
        assert tag != "latest" and re.search(r"\d", tag), f"{service}: {image} is not an exact version"
    else:
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{service}: bad digest in {image}"


def test_the_hoso_image_is_tagged_with_the_project_version() -> None:
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    built = {name: spec for name, spec in SERVICES.items() if "build" in spec}
    assert {"app", "worker", "migrate"} <= set(built)
    assert {spec["image"] for spec in built.values()} == {f"hoso:{version}"}


def test_elasticsearch_server_is_of_the_client_major_version() -> None:
    client_major = importlib.metadata.version("elasticsearch").split(".")[0]
    _repository, tag, _digest = image_parts(SERVICES["elasticsearch"]["image"])
    assert tag is not None and tag.split(".")[0] == client_major


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_long_running_service_has_a_health_check(service: str) -> None:
    if is_one_shot(service):
        assert "healthcheck" not in SERVICES[service]
        return
    check = SERVICES[service].get("healthcheck")
    assert check and check.get("test") and not check.get("disable"), f"{service} has no health check"
    assert check["test"][0] in ("CMD", "CMD-SHELL")


def test_the_named_services_are_long_running() -> None:
    assert not any(is_one_shot(service) for service in THE_SIX)
    assert is_one_shot("migrate")


@pytest.mark.parametrize("service", ["app", "worker"])
def test_hoso_waits_for_healthy_engines_and_finished_set_up(service: str) -> None:
    dependencies = depends_on(service)
    assert set(ENGINES) | {"migrate"} <= set(dependencies)
    for dependency, condition in dependencies.items():
        expected = "service_completed_successfully" if is_one_shot(dependency) else "service_healthy"
        assert condition == {"condition": expected}, f"{service} → {dependency}"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_dependency_has_a_condition_it_can_meet(service: str) -> None:
    for dependency, condition in SERVICES[service].get("depends_on", {}).items():
        assert dependency in SERVICES
        if condition["condition"] == "service_healthy":
            assert "healthcheck" in SERVICES[dependency], f"{service} waits for {dependency}'s health, it has none"


def test_migrations_run_once_before_the_app_and_the_workers() -> None:
    assert SERVICES["migrate"]["command"] == ["hoso", "init"]
    assert depends_on("migrate") == {"postgres": {"condition": "service_healthy"}}


def test_the_worker_can_be_scaled() -> None:
    worker = SERVICES["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["command"] == ["hoso", "worker"]


def test_no_service_but_the_app_publishes_a_port() -> None:
    assert [name for name, spec in SERVICES.items() if spec.get("ports")] == ["app"]


def test_volumes_are_named_and_declared() -> None:
    declared = set(COMPOSE.get("volumes") or {})
    used = set()
    for name, spec in SERVICES.items():
        for volume in spec.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            assert not source.startswith((".", "/", "~")), f"{name} mounts a host path: {volume}"
            used.add(source)
    assert used == declared
    for engine in ENGINES:
        assert SERVICES[engine].get("volumes"), f"{engine} keeps its data in the container"


def test_every_hoso_variable_is_a_documented_setting() -> None:
    named = set(HOSO_NAME.findall(COMPOSE_TEXT + ENV_EXAMPLE_TEXT + DOCKERFILE_TEXT))
    assert named, "the stack sets no HOSO_* setting"
    assert named <= set(SETTINGS), f"not in archive.config.SETTINGS: {sorted(named - set(SETTINGS))}"


def test_the_containers_get_the_scale_out_engines() -> None:
    for service in ("app", "worker", "migrate"):
        environment = SERVICES[service]["environment"]
        for setting in ("HOSO_DATABASE_URL", "HOSO_REDIS_URL", "HOSO_STORAGE_URL", "HOSO_SEARCH_URL"):
            assert environment.get(setting), f"{service} has no {setting}: it would use the embedded default"
        assert environment["HOSO_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert environment["HOSO_STORAGE_URL"].startswith("s3://")


def test_every_compose_variable_is_in_the_env_example() -> None:
    used = {first or second for first, second in COMPOSE_VARIABLE.findall(COMPOSE_TEXT)}
    assert used - set(env_example()) == set()


def test_every_required_variable_is_set_in_the_env_example() -> None:
    """`cp .env.example .env` then filling the blanks must be enough: none is left commented out."""
    entries = env_example()
    for name in set(REQUIRED_VARIABLE.findall(COMPOSE_TEXT)):
        assert entries[name][0], f"{name} is required by the compose file but commented out in .env.example"


def test_the_env_example_ships_no_secret() -> None:
    for name, (is_set, value) in env_example().items():
        if any(word in name for word in ("PASSWORD", "SECRET")):
            assert is_set and value == "", f"{name} must be left empty in .env.example"


def test_the_env_file_stays_out_of_git_and_of_the_image() -> None:
    assert ".env" in (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()


def test_the_worker_health_check_watches_the_queue_heartbeat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file `hoso worker` touches, at the image's HOSO_HOME, is the one the health check reads."""
    home = re.search(r"^ENV HOSO_HOME=(\S+)$", DOCKERFILE_TEXT, re.MULTILINE)
    assert home is not None
    _fresh_env(monkeypatch, tmp_path / "var")
    settings = dataclasses.replace(Settings.from_env(), home=Path(home.group(1)), queue_path=tmp_path / "queue.db")
    heartbeat = str(JobQueue(settings).heartbeat_path)
    assert heartbeat in " ".join(SERVICES["worker"]["healthcheck"]["test"])


def test_the_dockerfile_builds_a_small_non_root_runtime_image() -> None:
    base = re.search(r"^FROM (\S+)", DOCKERFILE_TEXT, re.MULTILINE)
    assert base is not None
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base.group(1)), base.group(1)
    installed = re.search(r"apt-get install -y --no-install-recommends ([a-z0-9 .-]+?)\s+&&", DOCKERFILE_TEXT)
    assert installed is not None and set(installed.group(1).split()) == RUNTIME_APT_PACKAGES
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    apt_packages = re.search(r"^APT_PACKAGES\s*:=(.*)$", makefile, re.MULTILINE)
    assert apt_packages is not None and RUNTIME_APT_PACKAGES <= set(apt_packages.group(1).split())
    assert "-c requirements.lock" in DOCKERFILE_TEXT  # the lock's versions, not its dev tools
    assert "pip install --no-deps ." in DOCKERFILE_TEXT
    users = re.findall(r"^USER (\S+)$", DOCKERFILE_TEXT, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    command = re.search(r"^CMD (\[.*\])$", DOCKERFILE_TEXT, re.MULTILINE)
    assert command is not None and '"gunicorn", "archive.wsgi:app"' in command.group(1)


def _fresh_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    for name in list(os.environ):
        if name.startswith("HOSO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOSO_HOME", str(home))
    monkeypatch.setattr(archive.runtime, "_current", None)


def test_the_wsgi_module_builds_the_flask_app(runtime: Runtime) -> None:
    app = runpy.run_module("archive.wsgi")["app"]
    assert isinstance(app, Flask)
    response = app.test_client().get("/login")
    assert response.status_code == 200
    assert "Đăng nhập" in response.get_data(as_text=True)


def test_the_wsgi_module_refuses_an_unmigrated_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_database_url: str
) -> None:
    _fresh_env(monkeypatch, tmp_path / "var")
    monkeypatch.setenv("HOSO_DATABASE_URL", empty_database_url)  # SQLite, or PostgreSQL in the second pass
    with pytest.raises(SchemaNotReady, match="run `hoso init`"):
        runpy.run_module("archive.wsgi")
    archive.runtime.current_runtime().engine.dispose()


def test_forwarded_headers_are_believed_only_from_trusted_proxies() -> None:
    probe = Flask(__name__)
    probe.add_url_rule("/", "peer", lambda: f"{request.remote_addr} {request.scheme}")
    probe.wsgi_app = TrustedProxies(probe.wsgi_app, parse_networks("10.0.0.5, 192.0.2.0/24"))  # type: ignore[method-assign]
    forwarded = {"X-Forwarded-For": "198.18.0.1, 203.0.113.9", "X-Forwarded-Proto": "https"}

    def peer(remote_addr: str) -> str:
        answer = probe.test_client().get("/", headers=forwarded, environ_base={"REMOTE_ADDR": remote_addr})
        return answer.get_data(as_text=True)

    # one hop: the address the trusted proxy appended, not what the client wrote before it
    assert peer("10.0.0.5") == "203.0.113.9 https"
    assert peer("192.0.2.77") == "203.0.113.9 https"
    assert peer("::ffff:10.0.0.5") == "203.0.113.9 https"
    assert peer("198.51.100.7") == "198.51.100.7 http"  # not a trusted proxy: its headers are ignored


def test_the_wsgi_app_trusts_the_configured_proxies(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSO_TRUSTED_PROXIES", "10.0.0.5")
    monkeypatch.setattr(archive.runtime, "_current", None)
    app = runpy.run_module("archive.wsgi")["app"]
    assert isinstance(app.wsgi_app, TrustedProxies)
    assert app.wsgi_app.trusts("10.0.0.5") and not app.wsgi_app.trusts("10.0.0.6")
    archive.runtime.current_runtime().engine.dispose()


def test_a_bad_trusted_proxy_entry_is_refused() -> None:
    assert [str(network) for network in parse_networks(" 10.0.0.5 ,, fd00::/8 ")] == ["10.0.0.5/32", "fd00::/8"]
    with pytest.raises(ValueError, match="HOSO_TRUSTED_PROXIES: 'proxy.example'"):
        parse_networks("10.0.0.5,proxy.example")


def test_the_compose_network_gateway_is_the_trusted_proxy() -> None:
    """A proxy on the host reaches the published port from the gateway: the default trusts exactly that."""
    default = re.compile(r"\$\{[A-Z_]+:-([^}]*)\}")
    trusted = default.fullmatch(SERVICES["app"]["environment"]["HOSO_TRUSTED_PROXIES"])
    (network,) = COMPOSE["networks"]["default"]["ipam"]["config"]
    gateway = default.fullmatch(network["gateway"])
    subnet = default.fullmatch(network["subnet"])
    assert trusted and gateway and subnet
    assert trusted.group(1) == gateway.group(1)
    assert ipaddress.ip_address(gateway.group(1)) in ipaddress.ip_network(subnet.group(1))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_serves_the_wsgi_app(runtime: Runtime, tmp_path: Path) -> None:
    """`gunicorn archive.wsgi:app` as the Dockerfile runs it, on a loopback port, for at most 60 seconds."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.skip(f"gunicorn is not installed beside {sys.executable}")
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    command = [str(gunicorn), "archive.wsgi:app", "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread"]
    command += ["--workers", "1", "--threads", "2", "--no-control-socket"]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                # the first answer waits for the gunicorn worker to import the app, slow on a loaded machine
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=30) as answer:
                    status = answer.status
                break
            except OSError:  # refused before gunicorn listens (URLError), or a read timed out
                time.sleep(0.3)
        assert status == 200, f"gunicorn did not serve /login; its log:\n{log_path.read_text(errors='replace')}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        reason = (probe.stderr or probe.stdout or "no output").strip().splitlines()[0]
        pytest.skip(f"`docker compose` (the Compose plugin) is not available here: {reason}")
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\n".join(
            f"{name}={value or 'test0' + name.lower()}" for name, (is_set, value) in env_example().items() if is_set
        )
        + "\n"
    )
    result = subprocess.run(
        [docker, "compose", "--project-directory", str(REPO_ROOT), "--env-file", str(env_file)]
        + ["-f", str(COMPOSE_PATH), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
