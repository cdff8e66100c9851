"""The class service: a hub-managed JupyterHub service at ``/services/labkit-class/``.

Run by the hub (``python -m labkit.classroom.service``, see ``classroom/jupyterhub_config.py``), it listens on the
address of ``$JUPYTERHUB_SERVICE_URL`` (127.0.0.1) behind the hub's proxy and knows every caller through the hub:
API tokens in the ``Authorization`` header, and the hub's OAuth for browsers (:class:`HubOAuthenticated`).

========================  ======================================  =============================================
path (under the prefix)   who                                     what
========================  ======================================  =============================================
``POST api/results``      any hub user, with their own API token  record the caller's own results (never
                          (``access:services!service=...``)        another name: the hub says who is calling)
``GET api/results/NAME``  NAME themself, or an instructor         that trainee's stored results (JSON)
``GET`` (the page)        instructors (:data:`VIEW_SCOPE`)        the live class table, refreshed every second
``GET api/class``         instructors                             the class table as JSON (``?notebook=05``)
``GET class.csv``         instructors                             the class table as CSV
========================  ======================================  =============================================

Instructors are the users whose token carries :data:`VIEW_SCOPE`, a custom JupyterHub scope that the hub's
configuration grants to the roster's instructors only; anyone else gets 403. Results are stored in SQLite
(``$LABKIT_CLASS_DB``, :class:`~labkit.classroom.store.ResultStore`); the roster (``$LABKIT_ROSTER``) gives the
rows, trainees who have not tried anything included.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import html
import json
import os
import signal
from pathlib import Path
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import ioloop, web

from labkit.classroom.roster import Roster, read_roster
from labkit.classroom.store import ResultStore
from labkit.classroom.table import build
from labkit.errors import LabkitError

__all__ = ["SERVICE_NAME", "VIEW_SCOPE", "ClassState", "make_app", "main"]

SERVICE_NAME = "labkit-class"
VIEW_SCOPE = "custom:labkit-class:view"
REFRESH_MS = 1000  # the page asks for the table every second: a check shows within about a second
MAX_BODY = 256 * 1024


class ClassState:
    """What the handlers share: the result store, the roster and the exercises' titles."""

    def __init__(self, store: ResultStore, roster: Roster, titles: dict[str, str]):
        self.store, self.roster, self.titles = store, roster, titles

    def table(self, notebook: str | None = None):
        now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
        return build(self.store.results(), self.roster.trainees, titles=self.titles, notebook=notebook,
                     exclude=self.roster.instructors, generated=now)


class _Handler(HubOAuthenticated, web.RequestHandler):
    def initialize(self, state: ClassState, hub_auth: HubOAuth) -> None:
        self.state = state
        self.hub_auth = hub_auth

    def is_instructor(self, model: dict) -> bool:
        return bool(self.hub_auth.check_scopes({VIEW_SCOPE}, model))

    def notebook(self) -> str | None:
        value = self.get_argument("notebook", "").strip()
        if value and not (len(value) == 2 and value.isdigit()):
            raise web.HTTPError(400, "notebook is two digits, like 05")
        return value or None

    def write_error(self, status_code: int, **kwargs) -> None:
        reason = self._reason
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            reason = exc.log_message % exc.args if exc.args else exc.log_message
        self.set_header("Content-Type", "application/json")
        self.finish({"status": status_code, "message": reason})


class _InstructorHandler(_Handler):
    @property
    def hub_scopes(self):
        return {VIEW_SCOPE}


class ResultsHandler(_Handler):
    """``POST api/results``: the caller's own results, sent by :mod:`labkit.progress_store`."""

    @web.authenticated
    def post(self) -> None:
        model = self.current_user
        if model.get("kind", "user") != "user":
            raise web.HTTPError(403, "only hub users have results")
        if not getattr(self, "_token_authenticated", False):
            raise web.HTTPError(403, "send results with your API token (Authorization: token ...)")
        if len(self.request.body) > MAX_BODY:
            raise web.HTTPError(413, "too many results at once")
        try:
            items = json.loads(self.request.body)["results"]
            taken = self.state.store.record(model["name"], items)
        except (ValueError, KeyError, TypeError):
            raise web.HTTPError(400, "send {\"results\": [...]} as JSON") from None
        except LabkitError as exc:
            raise web.HTTPError(400, str(exc).replace("%", "%%")) from None
        self.finish({"user": model["name"], "recorded": taken})


class TraineeResultsHandler(_Handler):
    """``GET api/results/NAME``: a trainee's own results; instructors may read anyone's."""

    @web.authenticated
    def get(self, name: str) -> None:
        model = self.current_user
        if model.get("name") != name and not self.is_instructor(model):
            raise web.HTTPError(403, "a trainee sees only their own results")
        rows = [{"exercise": r.exercise, "passed": r.passed, "message": r.message, "at": r.at,
                 "attempts": r.attempts, "received": r.received} for r in self.state.store.results(name)]
        self.finish({"user": name, "results": rows})


class ClassApiHandler(_InstructorHandler):
    @web.authenticated
    def get(self) -> None:
        self.finish(self.state.table(self.notebook()).to_json())


class ClassCsvHandler(_InstructorHandler):
    @web.authenticated
    def get(self) -> None:
        notebook = self.notebook()
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="class{"-" + notebook if notebook else ""}.csv"')
        self.finish(self.state.table(notebook).csv())


class PageHandler(_InstructorHandler):
    """The live class table for the projector."""

    @web.authenticated
    def get(self) -> None:
        notebook = self.notebook()
        first = json.dumps(self.state.table(notebook).to_json()).replace("</", "<\\/")
        options = "".join(f'<option value="{nb}"{" selected" if nb == notebook else ""}>notebook {nb}</option>'
                          for nb in sorted({ex.split(".")[0] for ex in self.state.titles}))
        xsrf = self.xsrf_token  # JupyterHub accepts the OAuth cookie on the page's fetch() only with it
        xsrf = xsrf.decode() if isinstance(xsrf, bytes) else xsrf
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(_PAGE.replace("__XSRF__", json.dumps(xsrf)).replace("__FIRST__", first)
                    .replace("__OPTIONS__", options).replace("__REFRESH__", str(REFRESH_MS))
                    .replace("__USER__", html.escape(self.current_user["name"])))


def make_app(state: ClassState, prefix: str, hub_auth: HubOAuth) -> web.Application:
    """The tornado application serving ``prefix`` (``/services/labkit-class/``)."""
    args = {"state": state, "hub_auth": hub_auth}
    return web.Application([
        (prefix, PageHandler, args),
        (url_path_join(prefix, "api/results"), ResultsHandler, args),
        (url_path_join(prefix, r"api/results/([^/]+)"), TraineeResultsHandler, args),
        (url_path_join(prefix, "api/class"), ClassApiHandler, args),
        (url_path_join(prefix, "class.csv"), ClassCsvHandler, args),
        (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler, {}),
    ], cookie_secret=os.urandom(32), hub_auth=hub_auth)


def _titles() -> dict[str, str]:
    """Every exercise's title (the registry loads each chapter's exercises when asked for the whole table)."""
    from labkit.exercises import progress

    table = progress()
    return dict(zip(table["exercise"], table["title"], strict=True))


def _die_with_the_hub() -> None:
    """Stop when the hub that started us dies, even by SIGKILL (Linux's PR_SET_PDEATHSIG)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def main() -> None:
    """Serve the class service from the environment the hub gives a managed service."""
    _die_with_the_hub()
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE_NAME}/")
    db = Path(os.environ.get("LABKIT_CLASS_DB", "labkit-class.sqlite"))
    db.parent.mkdir(parents=True, exist_ok=True)
    state = ClassState(ResultStore(db), read_roster(os.environ["LABKIT_ROSTER"]), _titles())
    hub_auth = HubOAuth.instance(cache_max_age=60)  # the one instance the OAuth callback handler uses too
    app = make_app(state, prefix, hub_auth)
    app.listen(url.port or 80, url.hostname or "127.0.0.1", xheaders=True)
    loop = ioloop.IOLoop.current()
    for stop in (signal.SIGTERM, signal.SIGINT):  # the hub stops a service with SIGINT, then SIGTERM
        signal.signal(stop, lambda *_: loop.add_callback_from_signal(loop.stop))
    loop.start()
    state.store.close()


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>labkit: the class</title>
<style>
 body { font: 18px/1.4 system-ui, sans-serif; margin: 1.2em; color: #1d1d1f; }
 h1 { font-size: 1.5em; margin: 0 0 .3em; }
 #stuck { font-size: 1.2em; padding: .4em .7em; margin: .5em 0; border-left: 6px solid #a4262c; background: #fbeaea; }
 #stuck.none { border-color: #1b7f3b; background: #eaf6ee; }
 table { border-collapse: collapse; margin-top: .6em; }
 th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: center; }
 th.name, td.name, td.hint { text-align: left; }
 td.hint { max-width: 34em; font-size: .85em; color: #444; }
 td.PASS { background: #1b7f3b; color: #fff; font-weight: 600; }
 td.NOT-YET { background: #a4262c; color: #fff; font-weight: 600; }
 td.not-tried { color: #888; }
 .meta { color: #555; font-size: .9em; }
 select { font: inherit; }
</style></head>
<body>
<h1>The class, live</h1>
<div class="meta">Signed in as __USER__ (instructor) · <label>show <select id="notebook"><option value="">exercises
tried so far</option>__OPTIONS__</select></label> · <a id="csv" href="class.csv">download CSV</a> ·
updated <span id="generated"></span></div>
<div id="stuck" class="none"></div>
<table id="class"><thead></thead><tbody></tbody></table>
<script>
const first = __FIRST__;
const xsrf = __XSRF__;
const cls = s => s.replace(/ /g, "-");
function text(tag, value, klass) {
  const el = document.createElement(tag); el.textContent = value; if (klass) el.className = klass; return el;
}
function render(t) {
  const head = document.querySelector("#class thead"), body = document.querySelector("#class tbody");
  const hr = document.createElement("tr");
  hr.append(text("th", "trainee", "name"));
  t.exercises.forEach((ex, i) => { const th = text("th", ex); th.title = t.titles[i]; hr.append(th); });
  hr.append(text("th", "last activity"), text("th", "latest hint", "name"));
  head.replaceChildren(hr);
  body.replaceChildren(...t.rows.map(r => {
    const tr = document.createElement("tr"); tr.dataset.trainee = r.trainee;
    tr.append(text("td", r.trainee, "name"));
    r.statuses.forEach((s, i) => { const td = text("td", s, cls(s)); td.dataset.exercise = t.exercises[i];
                                   tr.append(td); });
    tr.append(text("td", r.last_activity ? r.last_activity.slice(11, 19) + " UTC" : "never"),
              text("td", r.hint, "hint"));
    return tr;
  }));
  const stuck = document.getElementById("stuck");
  stuck.className = t.stuck ? "" : "none";
  stuck.textContent = t.stuck ? `Most stuck: ${t.stuck.exercise} ${t.stuck.title} (${t.stuck.count} of ` +
    `${t.stuck.of} trainees have NOT YET)` : "Nobody is stuck right now.";
  document.getElementById("generated").textContent = t.generated.slice(11, 19) + " UTC";
}
const select = document.getElementById("notebook");
function query() { return select.value ? "?notebook=" + select.value : ""; }
select.addEventListener("change", () => {
  history.replaceState(null, "", location.pathname + query());
  document.getElementById("csv").href = "class.csv" + query(); refresh();
});
async function refresh() {
  try {
    const answer = await fetch("api/class" + query(), {credentials: "same-origin",
                                                       headers: {"X-XSRFToken": xsrf}});
    if (answer.ok) render(await answer.json());
  } catch (e) { /* the next refresh tries again */ }
}
render(first);
document.getElementById("csv").href = "class.csv" + query();
setInterval(refresh, __REFRESH__);
</script>
</body></html>
"""


if __name__ == "__main__":
    main()
