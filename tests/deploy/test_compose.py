"""docker-compose.yml: services, health checks, NATS and MongoDB users, no secrets.

Reads the files only (no Docker engine).
"""

from __future__ import annotations

import importlib
import json
import re

import pytest
from deploy_support import (
    DB_SERVICES,
    DEPLOY,
    ENV_EXAMPLE,
    NATS_CONF,
    NGINX_CONF,
    REFERENCE,
    ROOT,
    SECRET_NAME,
    SERVICES,
    STREAMS_FILE,
    VARIABLE,
    bind_mounts,
    command,
    compose,
    dockerfile_path,
    environment,
    healthcheck_test,
    literal_secrets,
    named_volumes,
    nats_conf,
    nats_users,
    service,
)
from pydantic import BaseModel


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


def test_only_the_edge_publishes_a_host_port() -> None:
    """Port 8000 belongs to the edge, so any number of gateways can run behind it."""
    with_ports = {
        name: svc["ports"] for name, svc in compose()["services"].items() if svc.get("ports")
    }
    assert with_ports == {"edge": ["8000:8080"]}
    assert [str(port) for port in service("gateway")["expose"]] == ["8000"]


def test_no_service_has_a_fixed_container_name() -> None:
    """A container name would make ``--scale`` fail for that service."""
    named = [name for name, svc in compose()["services"].items() if "container_name" in svc]
    assert named == []


def test_every_long_running_service_has_a_health_check() -> None:
    for name, svc in compose()["services"].items():
        if svc.get("restart") == "no":  # one-shot set-up jobs
            continue
        assert healthcheck_test(name), name


def test_edge_spreads_requests_over_every_gateway_replica() -> None:
    edge = service("edge")
    assert re.match(r"^nginxinc/nginx-unprivileged:1\.\d+(\.\d+)?-alpine$", edge["image"])
    assert bind_mounts("edge")["/etc/nginx/nginx.conf"] == "./deploy/nginx/nginx.conf"
    assert edge["read_only"] is True
    assert "ALL" in edge["cap_drop"]
    assert any(str(t).startswith("/tmp") for t in edge["tmpfs"])
    assert "http://127.0.0.1:8080/healthz" in healthcheck_test("edge")
    assert edge["depends_on"]["gateway"]["condition"] == "service_healthy"

    conf = re.sub(r"#[^\n]*", "", NGINX_CONF.read_text(encoding="utf-8"))
    # Docker's DNS, asked again: replicas added with --scale are found without a restart.
    assert re.search(r"resolver\s+127\.0\.0\.11\s+valid=\d+s", conf)
    # A variable in proxy_pass is what makes nginx resolve at run time, not once at start.
    target = re.search(r"set\s+\$(\w+)\s+http://gateway:8000;", conf)
    assert target, "the gateway is not proxied through a variable"
    assert re.search(rf"proxy_pass\s+\${target[1]};", conf)
    assert re.search(r"listen\s+8080;", conf)
    assert re.search(r"proxy_buffering\s+off;", conf), "live notifications need no buffering"
    # Writable paths on a read-only root file system: /tmp only.
    for path in re.findall(r"(?:pid|_temp_path)\s+(\S+);", conf):
        assert path.startswith("/tmp/"), path
    # The gateway trusts X-Forwarded-For for its per-IP limits: the edge sets it to the
    # client's address and never passes on one the client sent.
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$remote_addr;", conf)
    assert "$proxy_add_x_forwarded_for" not in conf
    assert environment("gateway")["FORWARDED_ALLOW_IPS"]
    # Metrics stay on the inside network (Prometheus scrapes each replica directly).
    assert re.search(r"location\s+=\s+/metrics\s*\{\s*return\s+404;", conf)


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
