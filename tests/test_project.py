"""The project's contract: Binder in step with pyproject, the README's two commands, CI calling make test."""

from __future__ import annotations

import re

import tomllib
from conftest import ROOT


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower()


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version.strip()
    return pins


def test_binder_requirements_install_labkit_and_its_runtime_dependencies_at_tested_versions():
    lines = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert "-e ." in lines
    pinned = dict(line.split("==") for line in lines if "==" in line)
    runtime = {_name(dep) for dep in _pyproject()["project"]["dependencies"]}
    assert {name.lower() for name in pinned} == runtime
    constraints = _constraints()
    for name, version in pinned.items():
        assert constraints[name.lower()] == version, f"{name}: binder pins {version}, constraints.txt {constraints}"


def test_every_declared_dependency_is_pinned_in_constraints():
    project = _pyproject()["project"]
    declared = [dep for deps in (project["dependencies"], *project["optional-dependencies"].values()) for dep in deps]
    missing = {_name(dep) for dep in declared} - set(_constraints())
    assert not missing


def test_binder_apt_lists_the_debian_packages_and_runtime_matches_constraints():
    assert "openssl" in (ROOT / "binder" / "apt.txt").read_text().split()
    assert (ROOT / "binder" / "runtime.txt").read_text().strip().startswith("python-3.")


def test_readme_has_the_two_commands_and_a_binder_badge_to_the_welcome_notebook():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    badge = re.search(r"\[!\[[^]]*[Bb]inder[^]]*\]\([^)]*\)\]\((?P<url>[^)]+)\)", readme)
    assert badge and "urlpath=lab/tree/notebooks/00-welcome.ipynb" in badge["url"]


def test_ci_runs_make_test():
    script = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^\s*make test\s*$", script, re.M)


def test_layout():
    for path in ("labkit", "labkit/widgets", "notebooks", "notebooks/solutions", "tests", "binder", "benchmarks",
                 "Makefile", "README.md"):
        assert (ROOT / path).exists(), path
    assert _pyproject()["build-system"]["build-backend"] == "hatchling.build"
    assert _pyproject()["project"]["requires-python"] == ">=3.10"


def test_core_modules_do_not_import_widgets():
    for module in (ROOT / "labkit").glob("*.py"):
        assert "ipywidgets" not in module.read_text(), f"{module.name} imports ipywidgets: keep UI in labkit/widgets"
