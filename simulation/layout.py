"""The job output layout under its old name: code written against the flat package (`from simulation.layout
import JOBS_PREFIX`) keeps working. The layout lives in `simulation.job.layout`; new code imports it there."""

from __future__ import annotations

from simulation.job.layout import *  # noqa: F403
