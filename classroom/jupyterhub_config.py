"""JupyterHub configuration of the labkit classroom (``make classroom`` runs ``jupyterhub -f`` on this file).

Everything is read from environment variables (CLASSROOM_IP, CLASSROOM_PORT, ROSTER, CLASSROOM_STATE, ...): see
``labkit/classroom/hubconfig.py`` for the list and the README's "A class on JupyterHub" for the story. A problem
(not root, a bad roster, trainees unable to read the kit) is one line on stderr, and the hub does not start.
"""

import sys

from labkit.classroom.hubconfig import ClassroomSettings, configure
from labkit.errors import LabkitError

c = get_config()  # noqa: F821 (JupyterHub defines it while loading this file)

try:
    configure(c, ClassroomSettings.from_env())
except LabkitError as exc:
    print(f"labkit classroom: {exc}", file=sys.stderr)
    sys.exit(2)
