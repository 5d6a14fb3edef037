"""On this machine: the bundled simulation (`run`) and a Processing job emulated by local hosts (`local-job`).

What the CLI's `run` and `local-job` do, for Python callers and R (`simjobs::run_simulation()`,
`simjobs::local_job()` call these through reticulate), on the same implementations: `engine.run` and the emulation
in `simulation.job.local_job`, with the same defaults and bounds (`simulation.defaults`). The CLI does not import
this module, since its engine commands run where boto3 is not installed (the job image) and `simulation.client`
imports it. Values may come from Python or from R (doubles where a whole number is meant, seeds as digits); they
are checked here, naming the argument, and those left None take the defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation import defaults
from simulation.client.request import announce_seed, check_params
from simulation.client.values import as_float, as_int, r_argument
from simulation.engine import Params
from simulation.errors import JobFailed, SimulationError

if TYPE_CHECKING:
    from simulation.job.local_job import LocalJobResult
    from simulation.job.local_script import LocalScriptResult


def run_values(width: Any, height: Any, people: Any, radius: Any, iterations: Any) -> tuple[Params, int]:
    """The run's parameters and iterations, checked, with the defaults for those not given (None)."""
    values = defaults.fill(width=width, height=height, people=people, radius=radius, iterations=iterations)
    params = check_params(
        as_float(values["width"], "width"),
        as_float(values["height"], "height"),
        as_int(values["people"], "people", 2),
        as_float(values["radius"], "radius"),
    )
    iterations = as_int(values["iterations"], "iterations", 1)
    defaults.check_local_size(params.people, iterations)
    return params, iterations


def run_simulation(
    width: Any = None,
    height: Any = None,
    people: Any = None,
    radius: Any = None,
    iterations: Any = None,
    seed: Any = None,
    *,
    workers: Any = None,
    progress: bool = False,
) -> dict[str, Any]:
    """`python -m simulation run`: the Monte Carlo on this machine's cores; returns what `run --json` prints."""
    from simulation.engine import run

    params, n_iter = run_values(width, height, people, radius, iterations)
    threads = None if workers is None else as_int(workers, "workers", 1)
    return run(params, n_iter, announce_seed(seed), workers=threads, progress=progress)


def local_job(
    width: Any = None,
    height: Any = None,
    people: Any = None,
    radius: Any = None,
    iterations: Any = None,
    seed: Any = None,
    **options: Any,
) -> dict[str, Any]:
    """`python -m simulation local-job`: the Processing job's hosts as local processes (or containers in
    `container`), their outputs gathered into `output` as the job's S3 prefix would hold them, merged.

    The bundled simulation by default: returns its summary (what `local-job --json` prints). With `script`:
    your own R script on every host, with `args`; returns the output folder, hosts, files and the mean the
    script wrote (if any). A finished block already in `output` is not computed again. `options` are those
    of `emulate_job`.
    """
    from simulation.job.local_job import LocalJobResult

    result = emulate_job(width, height, people, radius, iterations, seed, **options)
    if isinstance(result, LocalJobResult):
        return {**result.merged.summary, "output": str(result.output)}
    return {"output": str(result.output), "hosts": result.hosts, "files": result.files, "mean": result.mean}


def emulate_job(
    width: Any = None,
    height: Any = None,
    people: Any = None,
    radius: Any = None,
    iterations: Any = None,
    seed: Any = None,
    *,
    hosts: Any = None,
    output: str | Path | None = None,
    workers_per_host: Any = None,
    script: str | None = None,
    folder: str | None = None,
    args: list[Any] | tuple[Any, ...] = (),
    container: str | None = None,
    engine: str | None = None,
) -> LocalJobResult | LocalScriptResult:
    """`local_job` with the emulation's own result, which the CLI prints (blocks computed now, seconds)."""
    from simulation.engine import block_count
    from simulation.job import local_job as emulation
    from simulation.job import local_script

    count = None if hosts is None else as_int(hosts, "hosts", 1)
    if script is not None or folder is not None or len(args) > 0:
        given = {"width": width, "height": height, "people": people, "radius": radius, "iterations": iterations}
        given.update(seed=seed, workers_per_host=workers_per_host)
        named = [name for name, value in given.items() if value is not None]
        if script is None:
            what = "a folder needs" if folder is not None else "arguments need"
            raise SimulationError(f"local-job: {what} a script")
        if named:
            raise SimulationError(f"local-job: {named[0]} is for the bundled simulation, not an R script")
        where = Path(output) if output is not None else local_script.default_script_output(script)
        return local_script.run_local_r_script(
            script,
            folder,
            [r_argument(a) for a in args],
            hosts=emulation.DEFAULT_HOSTS if count is None else count,
            output=where,
            container=container,
            engine=engine,
        )
    params, n_iter = run_values(width, height, people, radius, iterations)
    count = emulation.choose_hosts(count, block_count(n_iter, params.people))
    workers = (
        as_int(workers_per_host, "workers per host", 1)
        if workers_per_host is not None
        else max(1, defaults.usable_cores() // count)
    )
    chosen = announce_seed(seed)
    try:
        return emulation.run_local_job(
            params,
            n_iter,
            chosen,
            hosts=count,
            output=Path(output) if output is not None else emulation.default_output(params, n_iter, chosen),
            workers_per_host=workers,
            container=container,
            engine=engine,
        )
    except JobFailed as error:  # the finished blocks are kept: the exact call that finishes this run
        chosen_workers = None if workers_per_host is None else workers
        given = {"output": output, "workers_per_host": chosen_workers, "container": container, "engine": engine}
        call = emulation.resume_call(params, n_iter, chosen, count, given)
        raise JobFailed(f"{error}; resume with: {call}") from None
