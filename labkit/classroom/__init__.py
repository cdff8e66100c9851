"""A class on JupyterHub: accounts from a roster, trainee workspaces without solutions, and the instructor's live
class view.

* :mod:`~labkit.classroom.roster` the roster file; :mod:`~labkit.classroom.accounts` system users;
  :mod:`~labkit.classroom.workspace` what each home gets; :mod:`~labkit.classroom.runtime` the Python trainees run;
* :mod:`~labkit.classroom.spawner` and :mod:`~labkit.classroom.hubconfig` the hub (``classroom/jupyterhub_config.py``);
* :mod:`~labkit.classroom.store`, :mod:`~labkit.classroom.table` and :mod:`~labkit.classroom.service` the class
  service; :func:`class_table` its table as a DataFrame in the instructor's notebook;
* :mod:`~labkit.classroom.drive` a trainee driven through the hub's REST and kernel APIs (tests, benchmark).

Trainees' own results are kept by :mod:`labkit.progress_store`. Only the hub, its spawner and the service import
JupyterHub; this package's top level stays light.
"""

from __future__ import annotations

from labkit.classroom.client import class_table, fetch_class
from labkit.classroom.roster import Member, Roster, parse_roster, read_roster

__all__ = ["class_table", "fetch_class", "Member", "Roster", "parse_roster", "read_roster"]
