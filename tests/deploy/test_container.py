"""The production image build: the base pinned by digest, every dependency pinned and checked
against its hash, and the hashed set kept in step with the constraints the tests ran against."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOCKERFILE = ROOT / "deploy" / "container" / "Dockerfile"
_REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+) \\$")
_HASH = re.compile(r"^\s+--hash=sha256:[0-9a-f]{64}(?: \\)?$")


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _pinned(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a `pip-compile --generate-hashes` file."""
    found: dict[str, tuple[str, int]] = {}
    current = ""
    for line in path.read_text().splitlines():
        match = _REQUIREMENT.match(line)
        if match:
            current = _name(match[1])
            found[current] = (match[2], 0)
        elif _HASH.match(line):
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
    return found


def _constraints() -> dict[str, str]:
    lines = (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
    return {_name(name): version for name, _, version in (line.partition("==") for line in lines if "==" in line)}


def test_every_base_image_is_pinned_by_digest() -> None:
    bases = re.findall(r"^FROM\s+(\S+)", DOCKERFILE.read_text(), re.M)
    assert bases and all(re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", b) for b in bases), bases


def test_the_build_installs_only_hash_checked_wheels() -> None:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    installs = [line for line in text.splitlines() if "pip install" in line]
    for line in installs:
        for command in line.split("&&"):
            if "-r requirements/" in command:
                assert "--require-hashes" in command and "--only-binary=:all:" in command, command
            elif "pip install" in command:
                assert "--no-deps" in command, f"installs dependencies without hashes: {command}"


def test_the_hashed_requirements_are_the_runtime_dependencies_at_the_constraints_versions() -> None:
    image = _pinned(ROOT / "requirements" / "image.txt")
    constraints = _constraints()
    assert all(hashes >= 1 for _, hashes in image.values()), image
    assert {name: version for name, (version, _) in image.items()} == {name: constraints[name] for name in image}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    runtime = {_name(re.split(r"[=<>!~\[ ;]", spec, maxsplit=1)[0]) for spec in declared}
    assert runtime <= set(image), sorted(runtime - set(image))
    # google-api-python-client is a runtime dependency: Cloud SQL Admin and IAM admin are read
    # through its discovery client (their GAPIC clients speak gRPC only).
    dev_only = {"pytest", "mypy", "ruff", "selenium", "time-machine"}
    assert not dev_only & set(image), "the production image carries no test or sandbox tooling"


def test_the_build_backend_is_hash_checked_too() -> None:
    build = _pinned(ROOT / "requirements" / "build.txt")
    assert set(build) == {"setuptools"} and build["setuptools"][1] >= 1
