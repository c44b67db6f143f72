"""The container installs the way the README does, and ships what the package needs."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dockerfile_installs_with_the_readme_setup_script() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    readme = (ROOT / "README.md").read_text()
    serve_script = (ROOT / "scripts" / "serve.sh").read_text()
    assert "RUN bash scripts/setup.sh\n" in dockerfile
    assert "bash scripts/setup.sh\n" in serve_script
    first_lines = readme.splitlines()[:6]
    assert any(line.startswith("bash scripts/serve.sh") for line in first_lines)
    assert any(line.startswith("bash scripts/test.sh") for line in first_lines)
    for package in ("config", "signaling", "streaming", "web"):
        assert f"COPY --chown=venuebridge:venuebridge {package} ./{package}" in dockerfile


def test_ci_runs_the_readme_test_command() -> None:
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_every_locked_runtime_dependency_is_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line
    }
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    for requirement in wanted:
        name = requirement.split(">")[0].split("=")[0].split("<")[0].strip().lower()
        assert name.replace("_", "-") in locked, f"{name} is not pinned in requirements.lock"
