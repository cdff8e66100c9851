"""Re-execute notebooks in place so nbval compares what a trainee sees (``make notebooks``).

    python scripts/run_notebooks.py notebooks [more.ipynb ...]

Each notebook runs in a fresh kernel from its own folder, with no timing metadata. Widget model ids are random
UUIDs in every run; they are renumbered by a fixed walk so that re-running leaves ``git diff`` clean. Every cell is
saved with this run's output, including the cells tagged ``nbval-ignore-output``: they show values that differ on
every run (a TLS handshake's randoms, timings), so they are the only cells that change in ``git diff``. nbval's
comment markers (``# NBVAL_IGNORE_OUTPUT`` as a cell's line) are moved into the cell's tags first, where nbval
reads them too and a trainee does not see them.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

#: nbval's comment markers and the cell tags that say the same (nbval reads both).
MARKER_TAGS = {marker: marker.lower().replace("_", "-") for marker in (
    "NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION", "NBVAL_SKIP")}
IGNORE_TAG = MARKER_TAGS["NBVAL_IGNORE_OUTPUT"]
MARKER_LINE = re.compile(r"^[ \t]*#+[ \t]*(" + "|".join(MARKER_TAGS) + r")[ \t]*(?:\n|$)", re.M)
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


def markers_to_tags(nb) -> int:
    """Move nbval comment markers (a ``# NBVAL_IGNORE_OUTPUT`` line) into the code cell's tags; the count moved."""
    moved = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for marker in MARKER_LINE.findall(cell.source):
            tags = cell.metadata.setdefault("tags", [])
            if MARKER_TAGS[marker] not in tags:
                tags.append(MARKER_TAGS[marker])
            moved += 1
        cell.source = MARKER_LINE.sub("", cell.source)
    return moved


def ignored(cell) -> bool:
    """Whether nbval leaves this code cell's output uncompared (tag or comment marker)."""
    tags = set(cell.metadata.get("tags", []))
    return bool({IGNORE_TAG, MARKER_TAGS["NBVAL_SKIP"]} & tags) or bool(
        {"NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP"} & set(MARKER_LINE.findall(cell.source)))


def dumps(nb) -> str:
    """The notebook as ``make notebooks`` saves it (nbformat's JSON and a final newline)."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def _client(nb, cwd: Path) -> NotebookClient:
    return NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                          resources={"metadata": {"path": str(cwd)}})


def _save(nb, path: Path) -> None:
    coalesce_streams(nb)
    canonical_widgets(nb)
    path.write_text(dumps(nb))


def execute(path: Path, cwd: Path | None = None) -> float:
    """Run ``path`` in a fresh kernel (in ``cwd``, by default the notebook's folder) and save it in place."""
    nb = nbformat.read(path, as_version=4)
    markers_to_tags(nb)
    started = time.perf_counter()
    _client(nb, cwd or path.parent).execute()
    elapsed = time.perf_counter() - started
    _save(nb, path)
    return elapsed


def execute_twice(path: Path, cwd: Path | None = None):
    """As a trainee does: Run All, then Run All again in the same kernel. The first run is saved in place, exactly as
    :func:`execute` saves it; the second run's notebook is returned (not saved). A cell that fails in either run
    raises nbclient's ``CellExecutionError`` (a LabkitError shown as one line still fails its cell)."""
    nb = nbformat.read(path, as_version=4)
    markers_to_tags(nb)
    again = nbformat.from_dict(json.loads(json.dumps(nb)))  # the same cells, unexecuted
    client = _client(nb, cwd or path.parent)
    with client.setup_kernel():  # one kernel for both runs, shut down when both are done (or one failed)
        client.execute(cleanup_kc=False)
        _save(nb, path)
        client.nb = again
        client.execute(cleanup_kc=False)
    coalesce_streams(again)
    return again


def error_outputs(nb) -> list[str]:
    """Every error a trainee would see in ``nb``'s outputs: error outputs (a traceback), and tracebacks printed to a
    stream (a widget callback or a thread that failed): ``"cell N: ..."`` lines, empty when there is none."""
    found = []
    for number, cell in enumerate(nb.cells):
        streams: dict[str, str] = {}  # a thread's traceback may arrive in several stream outputs: read them joined
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.output_type == "error":
                found.append(f"cell {number}: {out.ename}: {out.evalue}")
            elif out.output_type == "stream":
                streams[out.name] = streams.get(out.name, "") + out.text
        for name, text in streams.items():
            if "Traceback (most recent call last)" in text:
                found.append(f"cell {number}: a traceback on {name}: {text.strip().splitlines()[-1]}")
    return found


if __name__ == "__main__":
    for nb_path in notebooks(sys.argv[1:] or ["notebooks"]):
        print(f"{nb_path}: {execute(nb_path):.1f} s", flush=True)
