"""The defaults of a run, defined once: `run`, `local-job`, `submit`, `sweep`, the Python client and R all use these.

There is no default seed on purpose. A run given none draws fresh entropy (`engine.fresh_seed`) and reports it
(output, run.json, summary manifest), so repeated submissions are independent samples that may be pooled, and any
one of them can be repeated exactly by passing its seed again. A fixed default (the old 42) made every
submission return the same sample, so pooling them silently counted one sample many times.
"""

from __future__ import annotations

WIDTH = 1000.0
HEIGHT = 1000.0
PEOPLE = 1000
RADIUS = 6.0
ITERATIONS = 10_000  # the original workflow's full run (seed 000: "10,000 iterations ... 1 hour and 33 minutes")

RUN = {"width": WIDTH, "height": HEIGHT, "people": PEOPLE, "radius": RADIUS, "iterations": ITERATIONS}
