"""Re-execute notebooks in place so nbval compares what a trainee sees (``make notebooks``).

    python scripts/run_notebooks.py notebooks [more.ipynb ...]

Each notebook runs in a fresh kernel from its own folder, with no timing metadata. Widget model ids are random
UUIDs in every run; they are renumbered by a fixed walk so that re-running leaves ``git diff`` clean. Cells marked
``# NBVAL_IGNORE_OUTPUT`` show values that differ on every run (a TLS handshake's randoms and secrets): they run,
but keep the output already saved (a real run's, too); clear that output to save a fresh one.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

_IGNORED = re.compile(r"^\s*#\s*NBVAL_IGNORE_OUTPUT", re.M)
_UUID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def notebooks(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for arg in paths:
        path = Path(arg)
        found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts) \
            if path.is_dir() else [path]
    return found


_STATE_MIME = "application/vnd.jupyter.widget-state+json"
_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def canonical_widgets(nb) -> None:
    """Renumber widget model ids (random UUIDs) by a fixed walk, and order the saved widget state by them.

    The walk starts at each widget view in output order and follows ``IPY_MODEL_<id>`` references in sorted key
    order, so the same widgets always get the same ids whatever order the kernel created them in.
    """
    state = nb.metadata.get("widgets", {}).get(_STATE_MIME, {}).get("state", {})
    views = [out["data"][_VIEW_MIME]["model_id"] for cell in nb.cells if cell.cell_type == "code"
             for out in cell.get("outputs", []) if _VIEW_MIME in out.get("data", {})]
    order: dict[str, str] = {}

    def visit(model_id: str) -> None:
        if model_id in order:
            return
        order[model_id] = f"{len(order) + 1:032x}"
        for ref in _UUID.findall(json.dumps(state.get(model_id, {}), sort_keys=True)):
            if ref in state or ref in views:
                visit(ref)

    for model_id in views:
        visit(model_id)
    # Models no view reaches are leftovers of the kernel's bookkeeping: whether they are still alive when the state
    # is saved depends on timing, and nothing renders them, so they are dropped.
    state = {m: v for m, v in state.items() if m in order}

    def rename(value):
        if isinstance(value, str):
            return _UUID.sub(lambda m: order.get(m.group(0), m.group(0)), value)
        if isinstance(value, list):
            return [rename(v) for v in value]
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        return value

    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if _VIEW_MIME in out.get("data", {}):
                out["data"][_VIEW_MIME]["model_id"] = order[out["data"][_VIEW_MIME]["model_id"]]
    if state:
        nb.metadata["widgets"][_STATE_MIME]["state"] = {
            order[m]: rename(state[m]) for m in sorted(state, key=lambda m: order[m])}


def coalesce_streams(nb) -> None:
    """Merge consecutive stdout (or stderr) outputs of a cell: how the kernel batches prints depends on timing."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.outputs:
            if merged and out.output_type == "stream" and merged[-1].output_type == "stream" \
                    and merged[-1].name == out.name:
                merged[-1].text += out.text
            else:
                merged.append(out)
        cell.outputs = merged


def execute(path: Path, cwd: Path | None = None) -> float:
    """Run ``path`` in a fresh kernel (in ``cwd``, by default the notebook's folder) and save it in place."""
    nb = nbformat.read(path, as_version=4)
    kept = {cell.id: cell.outputs for cell in nb.cells if cell.cell_type == "code" and cell.outputs
            and _IGNORED.search(cell.source)}
    started = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(cwd or path.parent)}}).execute()
    elapsed = time.perf_counter() - started
    for cell in nb.cells:  # values that differ on every run (TLS randoms) keep their saved output
        if cell.get("id") in kept:
            cell.outputs = kept[cell.id]
    coalesce_streams(nb)
    canonical_widgets(nb)
    text = nbformat.writes(nb)
    path.write_text(text if text.endswith("\n") else text + "\n")
    return elapsed


if __name__ == "__main__":
    for nb_path in notebooks(sys.argv[1:] or ["notebooks"]):
        print(f"{nb_path}: {execute(nb_path):.1f} s", flush=True)
