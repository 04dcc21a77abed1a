"""The ``convoport`` command line (click + rich).

Conventions every command follows:

* human output by default, ``--json`` for scripts (one JSON document on stdout);
* errors are one line on stderr (``convoport: error: …``) and a non-zero exit code; ``--debug``
  (a global option, or ``CONVOPORT_DEBUG=1``) prints the traceback and enables debug logging;
* exit codes: 0 success, 1 a convoport error (vendor, archive, a session that failed to
  migrate, a failed verification), 2 usage or configuration error, 3 unsupported operation,
  130 interrupted.

The command modules (``_sessions``, ``_migrate`` …) register their commands on :data:`cli`
when imported; the group imports each one only when one of its commands is used
(:data:`convoport.cli._app.COMMANDS`), so ``convoport --help`` stays quick.
"""

from convoport.cli._app import cli, main

__all__ = ["cli", "main"]
