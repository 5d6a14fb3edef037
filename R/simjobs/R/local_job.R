#' Try a job on this machine
#'
#' Runs a Processing job's hosts as processes on this machine (or, with `container`, in the job image with no
#' network): each host gets the same folders, environment and entrypoint SageMaker gives it, and their outputs
#' are gathered into `output` as the job's S3 prefix would hold them. What `python -m simulation local-job`
#' does, from R. Free, and a way to see a job work before paying for one.
#'
#' @inheritParams run_simulation
#' @param hosts Emulated instances (`algo-1` ... `algo-N`), at most the run's blocks and 32. `NULL`: the
#'   default, 3 (or the run's blocks if fewer).
#' @param output The folder the hosts' outputs are gathered and merged into. `NULL`: the run's own folder under
#'   the working directory, `out/local-job/<parameters>-seed<seed>` (with `script`:
#'   `out/local-r-job/<script>-<time>`).
#' @param workers_per_host Worker threads per host. `NULL`: the usable cores divided among the hosts.
#' @param script Your own R script, run on every host instead of the bundled simulation, as
#'   [submit_r_script()] runs it. `NULL`: the bundled simulation.
#' @param folder With `script`: the folder a job would ship. `NULL`: the script's folder.
#' @param args With `script`: its arguments, after `--args`.
#' @param container An image to run each host in (e.g. the job image); `NULL`: processes on this machine.
#' @param engine With `container`: `"podman"` or `"docker"`. `NULL`: the one found on `PATH`.
#' @return For the bundled simulation, its merged summary (a list as [run_simulation()] returns, plus
#'   `hosts`, `manifest` and `output`). For a script: `output`, `hosts`, `files` (what the hosts wrote) and
#'   `mean` (of the hosts' `iterations/<host>.csv` files, else from `output_result_mean.txt` when the script
#'   wrote one; otherwise `NULL`).
#' @section Resuming:
#' Finished blocks are kept in `output`. After an interruption, call `local_job()` again with the same
#' arguments and the seed it printed: only the missing blocks run, and the result equals an uninterrupted run.
#' @section Hosts:
#' With a script, every host runs the whole script: split the work and name output files by
#' `Sys.getenv("HOST_INDEX")` (0-based), `HOSTS` and `CURRENT_HOST`. Two hosts writing one file name with
#' different content is an error here, since on S3 one would silently replace the other. A script whose hosts
#' write their per-iteration values to `iterations/<CURRENT_HOST>.csv` (a `violations_per_person` column, as
#' `R/examples/own_script/main.R` does) gets them put together into `iterations.csv`, `summary.json` and
#' `histogram.png`, and its result then also has `mean`, `sd`, `se`, `ci95` and `iterations`.
#' @seealso [run_simulation()], [submit_simulation()], [submit_r_script()].
#' @examplesIf simjobs_python()$available
#' output <- file.path(tempdir(), "local-job")
#' result <- local_job(people = 200, iterations = 3000, seed = 7, hosts = 2, output = output)
#' result$mean
#' # two hosts shared the blocks; the mean is the one run_simulation() gives
#' identical(result$mean, run_simulation(people = 200, iterations = 3000, seed = 7)$mean)
#' unlink(output, recursive = TRUE)
#' @export
local_job <- function(width = NULL, height = NULL, people = NULL, radius = NULL, iterations = NULL,
                      seed = NULL, hosts = NULL, output = NULL, workers_per_host = NULL, script = NULL,
                      folder = NULL, args = character(), container = NULL, engine = NULL) {
  path <- function(x) if (is.null(x)) NULL else path.expand(x)
  # args as.list, not as.character: R prints 1e5 as "1e+05"; Python formats the doubles as "100000"
  .safe("local_job", .opt(width), .opt(height), .opt(people), .opt(radius), .opt(iterations), .opt(seed),
        hosts = .opt(hosts), output = path(output), workers_per_host = .opt(workers_per_host),
        script = path(script), folder = path(folder), args = as.list(args), container = .opt(container),
        engine = .opt(engine))
}
