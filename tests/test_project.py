"""The project's contract: Binder in step with pyproject, the README's two commands, CI calling make test."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

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


def _lint_imports(root, cwd) -> subprocess.CompletedProcess:
    """``lint-imports`` (import-linter) on the package found under ``root``, with the contracts of ``pyproject.toml``
    in ``cwd``."""
    exe = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(exe), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_import_contracts_hold():
    """The layers of ARCHITECTURE.md, no import cycle between siblings, and ipywidgets only in labkit/widgets."""
    done = _lint_imports(ROOT, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def test_the_import_contracts_catch_a_layer_a_cycle_and_a_widget_import(tmp_path):
    """Canary: a copy of the package with one break of each contract fails all three."""
    shutil.copytree(ROOT / "labkit", tmp_path / "labkit", ignore=shutil.ignore_patterns("__pycache__", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for module, line in (("x509/names.py", "from labkit.expressway import roles"),  # a lower layer reaching up
                         ("ca/config.py", "from labkit.ca import authority"),  # config <-> authority: a cycle
                         ("ca/policy.py", "import ipywidgets")):  # UI in a core module
        path = tmp_path / "labkit" / module
        path.write_text(path.read_text() + f"\n{line}  # noqa\n")
    done = _lint_imports(tmp_path, tmp_path)
    assert done.returncode == 1
    assert "Contracts: 0 kept, 3 broken." in done.stdout, done.stdout
    assert "labkit.x509 is not allowed to import labkit.expressway" in done.stdout


# -- the suite's own hygiene: assertions that can fail ------------------------------------------------------------

_CLOCKS = {"monotonic", "perf_counter", "time", "process_time", "monotonic_ns", "perf_counter_ns"}
_ALWAYS_TRUE_CALLS = {"get_extension_for_class", "get_extension_for_oid"}  # an Extension object is always truthy


def _reads_a_clock(node) -> bool:
    import ast

    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _CLOCKS
               and isinstance(n.func.value, ast.Name) and n.func.value.id == "time" for n in ast.walk(node))


def hollow_assertions(source: str, filename: str = "<test>") -> list[str]:
    """Assertions that cannot fail or do not test labkit: a value compared with itself, ``pytest.raises(Exception)``,
    a bare extension lookup (truthy whenever it does not raise), or a comparison of wall-clock readings."""
    import ast

    problems: list[tuple[int, str]] = []
    clocks = set()  # names assigned from time.monotonic() and friends
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and _reads_a_clock(node.value):
            clocks |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    for node in ast.walk(ast.parse(source)):
        where = getattr(node, "lineno", 0)
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(ast.dump(a) == ast.dump(b) for a, b in zip(sides, sides[1:], strict=False)):
                problems.append((where, "compares a value with itself"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "raises" \
                and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in ("Exception",
                                                                                         "BaseException"):
            problems.append((where, f"pytest.raises({node.args[0].id}) names no error"))
        if isinstance(node, ast.Assert):
            test = node.test
            if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) \
                    and test.func.attr in _ALWAYS_TRUE_CALLS:
                problems.append((where, "asserts only that an extension is present"))
            names = {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}
            if _reads_a_clock(test) or (names & clocks and isinstance(test, ast.Compare)):
                problems.append((where, "a wall-clock assertion (measure it in benchmarks/)"))
    return [f"{filename}:{line}: {what}" for line, what in sorted(problems)]


def test_no_hollow_assertions_in_the_suite():
    found = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        found += hollow_assertions(path.read_text(), path.name)
    assert found == []


def test_hollow_assertion_canaries():
    canary = '''
import time, pytest
def test_a():
    assert now() == now()
    with pytest.raises(Exception):
        f()
    assert cert.extensions.get_extension_for_class(BasicConstraints)
    started = time.monotonic()
    run()
    assert time.monotonic() - started < 1.0
    t0 = time.perf_counter()
    assert elapsed(t0) < 2
def test_fine():
    assert now() == DEFAULT
    with pytest.raises(InputError):
        f()
    assert cert.extensions.get_extension_for_class(BasicConstraints).value.ca
'''
    found = hollow_assertions(canary)
    assert [line.split(": ", 1)[1] for line in found] == [
        "compares a value with itself", "pytest.raises(Exception) names no error",
        "asserts only that an extension is present", "a wall-clock assertion (measure it in benchmarks/)",
        "a wall-clock assertion (measure it in benchmarks/)"]



# -- every guide reference names a section the guide has -------------------------------------------------------------

def test_every_guide_reference_names_a_section_of_the_guide():
    """labkit.guide's references cite sections of the X14.0 table of contents (CONTENTS), by their title or a short
    form listed in SHORT_TITLES."""
    from labkit import guide

    refs = {name: value for name, value in vars(guide).items() if name.isupper() and isinstance(value, str)
            and value.startswith("guide ")}
    assert len(refs) > 20
    for name, value in refs.items():
        pairs = guide.cited(value)
        assert pairs, f"{name} = {value!r} cites nothing"
        for part, title in pairs:
            assert title in guide.CONTENTS[part], f"{name}: {title!r} is not a section of {part}"


def test_the_guide_check_catches_a_made_up_section():
    from labkit import guide

    assert guide.cited("guide chapter 7 (Managing the Trusted CA Certificate List)") == [
        ("chapter 7", "Managing the Trusted CA Certificate List")]
    part, title = guide.cited("guide chapter 7 (Uploading Certificates the Easy Way)")[0]
    assert title not in guide.CONTENTS[part]
    assert guide.cited(guide.CH7_PEM) == [("chapter 7", "Loading Certificates and Keys Onto Expressway"),
                                          ("appendix C", "Convert a DER Certificate File to PEM Format")]
