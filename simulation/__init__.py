"""Social-distancing Monte Carlo engine, SageMaker Processing entrypoint and job client.

`count_close_pairs` is loaded on first use, so commands that never simulate (the job client) do not pay
for importing numpy and the compiled kernel.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

try:
    __version__ = metadata.version("simulation")
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.2.0"

__all__ = ["__version__", "count_close_pairs"]


def __getattr__(name: str) -> Any:
    if name == "count_close_pairs":
        from simulation.engine import count_close_pairs

        return count_close_pairs
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")
