"""The `finsent` application: the root command, the launcher behind `finsent up` and
`finsent demo`, and `finsent status`. It sits above every other package and mounts
their command groups; nothing below imports it (pyproject's [tool.importlinter]).

Every command exits by one convention, through ``core.cli_support.fail``: 0 done;
1 the operation ran and failed (a gate, a check, a training step, `finsent status` with
a service down); 2 bad usage or a missing prerequisite (a bad argument or file, no
database or broker to work on, a missing extra)."""
