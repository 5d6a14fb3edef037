"""What a job runs on: one `Resources` value that every front door (Python, R, CLI, sweeps) builds and checks.

A field left as None takes the platform's default when the job is built (`Resources.resolve`), so the
defaults and the limits live here and in the platform's job configuration, nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from simulation.client.config import JobConfig
from simulation.client.values import as_int, check_name_part
from simulation.errors import SimulationError

DEFAULT_INSTANCE_COUNT = 1
DEFAULT_VOLUME_GB = 10
MAX_VOLUME_GB = 16384  # SageMaker's limit for ProcessingResources.ClusterConfig.VolumeSizeInGB
DEFAULT_RUNTIME_SECONDS = 4 * 3600  # capped by the platform's max_runtime_seconds


@dataclass(frozen=True)
class Resources:
    """Instance type and count, volume, runtime limit, a short job name and the image; None means "default".

    Values from R (doubles) or the shell (strings) are checked and normalized when the value is made.
    """

    instance_type: str | None = None
    instance_count: int | None = None
    volume_size_gb: int | None = None
    max_runtime_seconds: int | None = None
    name: str | None = None
    image: str | None = None

    def __post_init__(self) -> None:
        def put(field: str, value: Any) -> None:
            object.__setattr__(self, field, value)

        if self.instance_count is not None:
            put("instance_count", as_int(self.instance_count, "instance count", 1))
        if self.volume_size_gb is not None:
            put("volume_size_gb", as_int(self.volume_size_gb, "volume size", 1, MAX_VOLUME_GB))
        if self.max_runtime_seconds is not None:
            put("max_runtime_seconds", as_int(self.max_runtime_seconds, "max runtime (seconds)", 1))
        if self.name is not None:
            put("name", check_name_part(str(self.name)))
        for field in ("instance_type", "image"):
            value = getattr(self, field)
            if value is not None and not (isinstance(value, str) and value):
                raise SimulationError(f"{field.replace('_', ' ')} must be a non-empty string, got {value!r}")

    @classmethod
    def of(cls, value: Resources | Mapping[str, Any] | None) -> Resources:
        """A Resources value from itself, from keyword values (an R named list), or the defaults from None."""
        if value is None:
            return cls()
        if isinstance(value, Resources):
            return value
        if isinstance(value, Mapping):
            known = {f.name for f in fields(cls)}
            unknown = sorted(set(value) - known)
            if unknown:
                raise SimulationError(f"unknown resource {unknown[0]!r}; known: {', '.join(sorted(known))}")
            return cls(**dict(value))
        raise SimulationError(f"resources must be a Resources value or named values, got {type(value).__name__}")

    def resolve(self, config: JobConfig, *, default_count: int = DEFAULT_INSTANCE_COUNT) -> Resolved:
        """Defaults filled in from the platform, every value checked against the platform's limits."""
        count = self.instance_count if self.instance_count is not None else default_count
        if count > config.max_instances:
            raise SimulationError(f"instance count must be at most {config.max_instances}, got {count}")
        chosen = self.instance_type or config.default_instance_type
        if chosen not in config.allowed_instance_types:
            raise SimulationError(
                f"instance type {chosen!r} is not allowed on platform {config.platform}; "
                f"choose one of {', '.join(config.allowed_instance_types)}"
            )
        if self.max_runtime_seconds is None:
            runtime = min(DEFAULT_RUNTIME_SECONDS, config.max_runtime_seconds)
        elif self.max_runtime_seconds > config.max_runtime_seconds:
            raise SimulationError(
                f"max runtime (seconds) must be at most {config.max_runtime_seconds}, got {self.max_runtime_seconds}"
            )
        else:
            runtime = self.max_runtime_seconds
        return Resolved(
            instance_type=chosen,
            instance_count=count,
            volume_size_gb=DEFAULT_VOLUME_GB if self.volume_size_gb is None else self.volume_size_gb,
            max_runtime_seconds=runtime,
            image_uri=_image(config, self.image),
        )


@dataclass(frozen=True)
class Resolved:
    """Resources with every default filled in: what goes into the CreateProcessingJob request."""

    instance_type: str
    instance_count: int
    volume_size_gb: int
    max_runtime_seconds: int
    image_uri: str


def _image(config: JobConfig, image: str | None) -> str:
    """The bundled job image, or one of the platform's user images (the only repository jobs may pull from)."""
    from simulation.client.images import check_image

    return check_image(config, image)
