"""The class table in the instructor's notebook: ``labkit.classroom.class_table()`` is a pandas DataFrame.

Inside the instructor's JupyterHub server the spawner sets ``$LABKIT_CLASS_URL`` and the hub sets
``$JUPYTERHUB_API_TOKEN``; the instructor's token carries the class view scope, a trainee's does not (403).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request

from labkit.classroom.table import ClassTable
from labkit.errors import LabError
from labkit.progress_store import CLASS_URL_ENV, TOKEN_ENV

__all__ = ["fetch_class", "class_table"]

_CHAPTER = "README (A class on JupyterHub: the instructor's class view)"


def fetch_class(notebook: str | None = None, *, url: str | None = None, token: str | None = None,
                timeout: float = 5.0) -> ClassTable:
    """The class table from the class service (``url`` and ``token`` default to the hub's environment).

    Raises :class:`~labkit.LabError`: ``class-service-configured`` (not under the classroom hub),
    ``class-view-instructors`` (403: this token is not an instructor's), ``class-service-unreachable``."""
    url = url or os.environ.get(CLASS_URL_ENV, "")
    token = token or os.environ.get(TOKEN_ENV, "")
    if not url or not token:
        raise LabError("The class table lives on the classroom hub (make classroom); this server is not one",
                       rule="class-service-configured", value=CLASS_URL_ENV, chapter=_CHAPTER)
    query = f"?{urllib.parse.urlencode({'notebook': notebook})}" if notebook else ""
    request = urllib.request.Request(url.rstrip("/") + "/api/class" + query,
                                     headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return ClassTable.from_json(json.load(answer))
    except urllib.error.HTTPError as exc:
        if exc.code == 403:
            raise LabError("Only instructors see the class table", rule="class-view-instructors",
                           value=exc.code, chapter=_CHAPTER) from None
        raise LabError(f"The class service answered {exc.code}", rule="class-service-unreachable", value=url,
                       chapter=_CHAPTER) from None
    except (OSError, ValueError) as exc:
        raise LabError(f"The class service did not answer ({exc})", rule="class-service-unreachable", value=url,
                       chapter=_CHAPTER) from None


def class_table(notebook: str | None = None, **kwargs):
    """The live class table as a pandas DataFrame indexed by trainee: one column per exercise (``PASS``,
    ``NOT YET``, ``not tried``), then ``passed``, ``last activity`` and ``latest hint``. ``notebook="05"`` shows
    every exercise of that notebook. ``df.attrs["stuck"]`` names the exercise most of the class is stuck on."""
    table = fetch_class(notebook, **kwargs)
    frame = table.frame()
    frame.attrs["stuck"] = str(table.stuck) if table.stuck else ""
    return frame
