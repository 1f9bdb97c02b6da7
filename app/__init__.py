"""The `finsent` application: the root command, the launcher behind `finsent up` and
`finsent demo`, and `finsent status`. It sits above every other package and mounts
their command groups; nothing below imports it."""
