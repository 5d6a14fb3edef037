"""`python3 -m simulation.processing`: the job image's ENTRYPOINT and the ContainerEntrypoint every job request
names. Images already pushed and requests already written call this name, so it stays; the entrypoint itself
lives in `simulation.job.processing`."""

from __future__ import annotations

from simulation.job.processing import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
