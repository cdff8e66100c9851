"""Notebooks are saved executed, without errors, mostly compared by nbval, and re-run to the same bytes."""

from __future__ import annotations

import importlib.util
import re

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
CHAPTERS = [p for p in NOTEBOOKS if p.parent.name == "notebooks"]
IGNORE = re.compile(r"^\s*#\s*NBVAL_(IGNORE_OUTPUT|SKIP)", re.M)


def _id(path):
    return str(path.relative_to(ROOT / "notebooks"))


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_there_are_notebooks():
    names = {p.name for p in CHAPTERS}
    assert {"00-welcome.ipynb", "01-pki-basics.ipynb"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_saved_executed_in_order_without_errors(path):
    cells = _code_cells(path)
    counts = [c.execution_count for c in cells]
    assert None not in counts, "unexecuted cells: run `make notebooks`"
    assert counts == list(range(1, len(cells) + 1)), "cells were run out of order: run `make notebooks`"
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors, f"saved with errors: {errors[0].ename}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_nbval_compares_at_least_60_percent_of_code_cells(path):
    cells = _code_cells(path)
    compared = [c for c in cells if not IGNORE.search(c.source)
                and not {"nbval-ignore-output", "nbval-skip"} & set(c.metadata.get("tags", []))]
    assert len(compared) >= 0.6 * len(cells), f"only {len(compared)}/{len(cells)} cells compared"


@pytest.mark.parametrize("path", CHAPTERS, ids=_id)
def test_follows_the_skeleton_and_has_reference_solutions(path):
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    for part in ("**Overview.**", "**Prerequisites.**", "## Summary", "Exercise"):
        assert part in text, f"missing {part}"
    solutions = ROOT / "notebooks" / "solutions" / path.name.replace(".ipynb", "-solutions.ipynb")
    assert solutions.exists(), f"no reference solutions at {solutions.name}"
    ids = set(re.findall(r'check\("(\d\d\.\d)"', "\n".join(c.source for c in _code_cells(path))))
    solved = set(re.findall(r'check\("(\d\d\.\d)"', "\n".join(c.source for c in _code_cells(solutions))))
    assert ids and ids == solved


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "solutions" in p.parts], ids=_id)
def test_reference_solutions_pass_every_check(path):
    outputs = [o for c in _code_cells(path) for o in c.outputs]
    results = [o["data"]["text/plain"] for o in outputs if "data" in o and "[" in o["data"].get("text/plain", "")
               and re.match(r"'?(PASS|NOT YET) \[", o["data"]["text/plain"])]
    assert results and all(r.startswith("PASS") for r in results), results


def _runner():
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_re_executing_gives_the_committed_bytes(path, tmp_path):
    """`make notebooks` leaves `git diff notebooks/` clean: dates, serials, fingerprints, PEM and plots."""
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    _runner().execute(copy, cwd=path.parent)
    if copy.read_text() != path.read_text():
        import difflib

        diff = difflib.unified_diff(path.read_text().splitlines(), copy.read_text().splitlines(), "committed",
                                    "re-executed", lineterm="", n=2)
        pytest.fail("outputs drift between runs: find the non-determinism\n" + "\n".join(list(diff)[:60]))
