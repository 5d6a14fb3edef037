# simjobs: the platform's job client for R. Every function calls simulation.client (Python) through
# reticulate, so R, the shell (`python -m simulation ...`) and the tests share one implementation.
# Python must be the interpreter that has the `simulation` package: set RETICULATE_PYTHON (the RStudio
# host's profile does) or call reticulate::use_python() before the first call.

.simjobs <- new.env(parent = emptyenv())

# Before Python starts (reticulate starts it on the first import): sagemaker 2.x is pinned on purpose
# (script_processor), so its import-time banner about v3 is noise.
.onLoad <- function(libname, pkgname) {
  if (!nzchar(Sys.getenv("SAGEMAKER_SUPPRESS_V2_WARNING"))) Sys.setenv(SAGEMAKER_SUPPRESS_V2_WARNING = "1")
}

.client <- function() {
  if (is.null(.simjobs$client)) {
    .simjobs$client <- reticulate::import("simulation.client", convert = TRUE)
  }
  .simjobs$client
}

# Python's SimulationError / JobFailed carry a message written for people; show that one line, not
# reticulate's "module.Class: ..." wrapping or a traceback.
.call <- function(fn, ...) {
  tryCatch(fn(...), error = function(e) {
    message <- conditionMessage(e)
    message <- sub("^[[:space:]]*simulation\\.errors\\.[A-Za-z]+: ", "", message)
    message <- sub("\n.*$", "", message)
    stop(message, call. = FALSE)
  })
}

# NULL stays None; R's doubles are accepted where Python wants whole numbers (2 == 2L).
.opt <- function(x) if (is.null(x)) NULL else x
.vec <- function(x) if (is.null(x)) NULL else as.list(x)

# Results that may hold a seed: fresh seeds have 128 bits, and reticulate wraps integers beyond R's 32 bits
# around (2^40 arrives as 0). So these come through Python's values.for_r, which turns such integers into
# their digits; every function here takes a seed back as digits ("1234...") exactly.
.safe <- function(name, ...) {
  if (is.null(.simjobs$raw)) {
    .simjobs$raw <- reticulate::import("simulation.client", convert = FALSE)
    .simjobs$values <- reticulate::import("simulation.client.values", convert = FALSE)
  }
  fn <- .simjobs$raw[[name]]
  .call(function(...) reticulate::py_to_r(.simjobs$values$for_r(fn(...))), ...)
}

# What a job runs on: one Python `Resources` value, built the same way for every submitting function.
.resources <- function(instance_type = NULL, instance_count = NULL, volume_size_gb = NULL,
                       max_runtime_seconds = NULL, name = NULL, image = NULL) {
  .call(.client()$Resources, instance_type = .opt(instance_type), instance_count = .opt(instance_count),
        volume_size_gb = .opt(volume_size_gb), max_runtime_seconds = .opt(max_runtime_seconds),
        name = .opt(name), image = .opt(image))
}

#' Submit the bundled simulation; returns the job name (after the job ends when wait = TRUE).
#' `image`: the bundled job image (default) or one of yours from build_image(), for every submitting function.
#' Parameters left NULL take the platform's one set of defaults (simulation.defaults: 1000 x 1000, 1000
#' people, radius 6, 10000 iterations). No seed: fresh entropy, printed when the job is submitted and in
#' job_results(job)$seed; pass it again (as digits, seed = "1234...") to reproduce the sample.
submit_simulation <- function(width = NULL, height = NULL, people = NULL, radius = NULL,
                              iterations = NULL, seed = NULL, instance_type = NULL,
                              instance_count = NULL, volume_size_gb = NULL,
                              max_runtime_seconds = NULL, name = NULL, platform = NULL,
                              wait = FALSE, logs = TRUE, image = NULL) {
  resources <- .resources(instance_type, instance_count, volume_size_gb, max_runtime_seconds, name, image)
  .call(.client()$submit_simulation, .opt(width), .opt(height), .opt(people), .opt(radius),
        .opt(iterations), .opt(seed), resources = resources, platform = .opt(platform),
        wait = isTRUE(wait), logs = isTRUE(logs))
}

#' Finish a stopped, failed or timed-out simulation or sweep job: a new job with the old one's parameters,
#' seed and block plan that takes over its finished blocks and runs only the missing ones; returns the new
#' job's name. Resource arguments left NULL keep the old job's (give more instances or a longer runtime).
#' Refused, in one line, for an unknown job, one still running, a completed one, or an R-script job.
resume_job <- function(job, instance_type = NULL, instance_count = NULL, volume_size_gb = NULL,
                       max_runtime_seconds = NULL, name = NULL, platform = NULL, wait = FALSE,
                       logs = TRUE) {
  resources <- .resources(instance_type, instance_count, volume_size_gb, max_runtime_seconds, name)
  .call(.client()$resume_job, job, resources = resources, platform = .opt(platform),
        wait = isTRUE(wait), logs = isTRUE(logs))
}

#' Ship `folder` (default: the script's folder) and run your own R script as a job. The script gets
#' `args` after --args and writes its results into Sys.getenv("OUTPUT_DIR").
submit_r_script <- function(script, folder = NULL, args = character(), instance_type = NULL,
                            instance_count = NULL, volume_size_gb = NULL,
                            max_runtime_seconds = NULL, name = NULL, platform = NULL,
                            wait = FALSE, logs = TRUE, image = NULL) {
  # as.list, not as.character: R prints 1e5 as "1e+05"; Python formats the doubles as "100000"
  resources <- .resources(instance_type, instance_count, volume_size_gb, max_runtime_seconds, name, image)
  .call(.client()$submit_r_script, script, .opt(folder), as.list(args),
        resources = resources, platform = .opt(platform), wait = isTRUE(wait), logs = isTRUE(logs))
}

#' Status of a job: a list with status, failure_reason, exit_message, duration_seconds, output, ...
job_status <- function(job, platform = NULL) {
  .call(.client()$job_status, job, platform = .opt(platform))
}

#' Follow a job until it ends, printing every host's log (like ScriptProcessor$run(logs = TRUE)) and, for
#' the bundled simulation, a progress bar of blocks done / total counted in the job's S3 output.
#' Stops with the job's failure reason when it failed or was stopped. Interrupting leaves it running.
wait_for_job <- function(job, logs = TRUE, poll_seconds = 10, platform = NULL) {
  invisible(.call(.client()$wait_for_job, job, platform = .opt(platform), logs = isTRUE(logs),
                  poll_seconds = poll_seconds))
}

#' Download, merge and summarize a finished job (or a sweep) into `dest` (default results/<job>):
#' summary.json, histogram.png. Returns the summary as a list; `$mean` is the mean violations per person.
job_results <- function(job, dest = NULL, platform = NULL) {
  .safe("job_results", job, .opt(dest), platform = .opt(platform))
}

#' Print every host's CloudWatch log of a job once.
job_logs <- function(job, platform = NULL) {
  invisible(.call(.client()$job_logs, job, platform = .opt(platform)))
}

#' The platform's recent jobs as a data frame (job, status, created, duration_seconds, failure_reason).
list_jobs <- function(limit = 20, status = NULL, platform = NULL) {
  rows <- .call(.client()$list_jobs, platform = .opt(platform), limit = limit, status = .opt(status))
  columns <- c("job", "status", "created", "duration_seconds", "failure_reason")
  if (length(rows) == 0) {
    return(data.frame(job = character(), status = character(), created = character(),
                      duration_seconds = numeric(), failure_reason = character()))
  }
  do.call(rbind, lapply(rows, function(row) {
    as.data.frame(lapply(stats::setNames(columns, columns), function(k) {
      if (is.null(row[[k]])) NA else row[[k]]
    }), stringsAsFactors = FALSE)
  }))
}

#' Stop a running job; returns its status list.
stop_job <- function(job, platform = NULL) {
  .call(.client()$stop_job, job, platform = .opt(platform))
}

#' Plan before paying. With a workload (people and/or iterations; width, height, radius as for
#' submit_simulation): the bundled simulation as a job of instance_count x instance_type, predicted
#' (compute_seconds_per_host, startup_seconds, predicted_seconds, usd) next to a run on this machine
#' (local_seconds, local_faster); $text says which is faster. Without one: instance_count x hours priced.
#' usd is NA for an unknown type.
estimate_cost <- function(instance_type, instance_count = 1, hours = NULL, people = NULL, iterations = NULL,
                          width = 1000, height = 1000, radius = 6) {
  if (is.null(people) && is.null(iterations)) {
    estimate <- .call(.client()$estimate_cost, instance_type, instance_count, if (is.null(hours)) 1 else hours)
  } else {
    if (!is.null(hours)) stop("estimate_cost: hours prices instance-hours; a workload is timed by the model", call. = FALSE)
    estimate <- .call(.client()$plan_simulation, instance_type, instance_count,
                      people = if (is.null(people)) 1000 else people,
                      iterations = if (is.null(iterations)) 1000 else iterations,
                      width = width, height = height, radius = radius)
  }
  for (key in c("usd", "predicted_seconds", "compute_seconds_per_host")) {
    if (key %in% names(estimate) && is.null(estimate[[key]])) estimate[[key]] <- NA_real_
  }
  estimate
}

#' A parameter grid (e.g. people = c(250, 500, 1000, 2000), radius = c(3, 6)) as one multi-host job
#' (mode = "job") or one job per point (mode = "jobs"). With wait = TRUE, returns the results table.
#' Every point uses the same seed (common random numbers: differences between points are sharper, but the
#' points are not independent samples; do not pool them). No seed: fresh entropy, in the result's $seed.
run_sweep <- function(people = NULL, radius = NULL, width = NULL, height = NULL, iterations = NULL,
                      seed = NULL, mode = "job", instance_type = NULL, instance_count = NULL,
                      volume_size_gb = NULL, max_runtime_seconds = NULL, name = NULL,
                      platform = NULL, wait = FALSE, dest = NULL, image = NULL) {
  resources <- .resources(instance_type, instance_count, volume_size_gb, max_runtime_seconds, name, image)
  manifest <- .safe("run_sweep", .vec(people), .vec(radius), .vec(width), .vec(height),
                    .opt(iterations), .opt(seed), mode = mode, resources = resources,
                    platform = .opt(platform), wait = isTRUE(wait), dest = .opt(dest))
  if (!is.null(manifest$results)) .rows(manifest$results$rows) else manifest
}

#' The table of a finished sweep (one row per point: parameters, mean, se, 95% CI, analytic mean).
sweep_results <- function(sweep, dest = NULL, platform = NULL) {
  .rows(.safe("sweep_results", sweep, .opt(dest), platform = .opt(platform))$rows)
}

.rows <- function(rows) {
  do.call(rbind, lapply(rows, function(row) as.data.frame(row, stringsAsFactors = FALSE)))
}

#' The original workflow's `sagemaker$processing$ScriptProcessor(...)`, confined to the platform: its
#' execution role, image, isolated network, bucket (code and outputs under jobs/<job>/), runtime cap and
#' tags. `processor$run(code = ..., arguments = list("--args", ...), outputs = ...)` then works unchanged.
#' Other constructor arguments (volume_size_in_gb, max_runtime_in_seconds, base_job_name, env, tags) pass
#' through `...`; role, image_uri, network_config and sagemaker_session are the platform's.
script_processor <- function(platform = NULL, instance_type = NULL, instance_count = 1, image = NULL,
                             command = list("Rscript"), ...) {
  .call(.client()$script_processor, platform = .opt(platform), instance_type = .opt(instance_type),
        instance_count = instance_count, image = .opt(image), command = as.list(command), ...)
}

#' Your own job image: FROM the bundled one, with CRAN packages (`r_packages`) and/or Debian packages
#' (`apt`, e.g. "r-cran-data.table") installed at build time (jobs have no network), pushed to the
#' platform's user repository. Returns the image URI to pass as `image =`. Needs docker or podman.
build_image <- function(r_packages = character(), apt = character(), tag = NULL, platform = NULL,
                        engine = NULL, cran = NULL, push = TRUE) {
  .call(.client()$build_image, as.list(r_packages), as.list(apt), tag = .opt(tag),
        platform = .opt(platform), engine = .opt(engine), cran = .opt(cran), push = isTRUE(push))
}
