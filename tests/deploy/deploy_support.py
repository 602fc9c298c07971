"""Shared readers for the deployment-file tests: docker-compose.yml, nats.conf, Dockerfiles.

Paths and names used across tests/deploy, small parsers for the NATS configuration format
and for Dockerfiles, and NATS subject matching. Files only: no Docker engine, no server.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = ROOT / "docker-compose.yml"
NATS_CONF = DEPLOY / "nats" / "nats.conf"
STREAMS_FILE = DEPLOY / "nats" / "streams.json"
ENV_EXAMPLE = DEPLOY / ".env.example"
K8S = DEPLOY / "k8s"
NGINX_CONF = DEPLOY / "nginx" / "nginx.conf"

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
    return DEPLOY / "docker" / f"{name}.Dockerfile"


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
