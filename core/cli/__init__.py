"""The ``convoport`` command line (click + rich).

Conventions every command follows:

* human output by default, ``--json`` for scripts (one JSON document on stdout);
* errors are one line on stderr (``convoport: error: …``) and a non-zero exit code; ``--debug``
  (a global option, or ``CONVOPORT_DEBUG=1``) prints the traceback and enables debug logging;
* exit codes: 0 success, 1 a convoport error (vendor, archive, a session that failed to
  migrate, a failed verification), 2 usage or configuration error, 3 unsupported operation,
  130 interrupted.
"""

# Importing a command module registers its commands on the group, one module a group.
from convoport.cli import _emulate as _emulate
from convoport.cli import _live as _live
from convoport.cli import _migrate as _migrate
from convoport.cli import _providers as _providers
from convoport.cli import _recording as _recording
from convoport.cli import _sessions as _sessions
from convoport.cli._app import cli, main

__all__ = ["cli", "main"]
