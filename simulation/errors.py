"""User-facing errors: the CLI prints their message as one line and exits non-zero, never a traceback."""


class SimulationError(Exception):
    """Something the user can fix (bad argument, bad file, missing configuration). Exit code 2."""

    exit_code = 2


class JobFailed(SimulationError):
    """Work that ran and failed or was stopped (a processing job, an interrupted host). Exit code 1."""

    exit_code = 1
