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
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
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


def _imports(source: str) -> set[str]:
    """The top-level package of every module a Python source imports (``import a.b`` and ``from a.b import c``)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def core_modules_importing_widgets(package) -> list[str]:
    """Modules of ``package`` outside its ``widgets/`` folder, at any depth, that import ipywidgets."""
    return sorted(str(path.relative_to(package)) for path in package.rglob("*.py")
                  if "widgets" not in path.relative_to(package).parts and "ipywidgets" in _imports(path.read_text()))


def test_core_modules_do_not_import_widgets():
    assert core_modules_importing_widgets(ROOT / "labkit") == [], "keep UI in labkit/widgets"


def test_the_layer_check_finds_an_import_in_a_subpackage(tmp_path):
    """Canary: an ``import ipywidgets`` inside a function of a module two folders down is found."""
    (tmp_path / "ca" / "deep").mkdir(parents=True)
    (tmp_path / "ca" / "deep" / "page.py").write_text("def show():\n    import ipywidgets as w\n    return w\n")
    (tmp_path / "widgets").mkdir()
    (tmp_path / "widgets" / "ok.py").write_text("from ipywidgets import HTML\n")
    (tmp_path / "ca" / "words.py").write_text('"""Not an import: ipywidgets."""\n')
    assert core_modules_importing_widgets(tmp_path) == ["ca/deep/page.py"]


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
