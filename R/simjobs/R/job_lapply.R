#' Apply a function over a list on many instances
#'
#' `job_lapply(X, FUN, ...)` is `lapply(X, FUN, ...)` run as one SageMaker Processing job: the job's hosts
#' each take a share of `X` and run it over all their cores, and the value is the list `lapply()` would give,
#' in order, with the names of `X`. `FUN`'s globals and the packages it uses are found automatically (with the
#' \pkg{globals} package, as \pkg{future} finds them), shipped with the job and checked before anything is
#' created. With `local = TRUE` the same job runs on this machine through the platform's local emulation
#' (N emulated hosts), so a map can be tried before anyone pays for instances.
#'
#' @param X A vector or list (anything [base::lapply()] takes; other objects go through [base::as.list()]).
#' @param FUN The function applied to each element of `X`, or its name.
#' @param ... Further arguments for `FUN`, the same for every element (shipped with the job).
#' @param seed The seed the elements' random numbers derive from: a whole number (as [base::set.seed()]
#'   takes) or a L'Ecuyer-CMRG seed of 7 integers. `NULL`: a fresh seed from the operating system's entropy,
#'   printed and returned as the `"seed"` attribute of the value.
#' @param instance_type An instance type the platform allows. `NULL`: the platform's default.
#' @param instance_count Instances (hosts); with `local = TRUE`, emulated hosts. `NULL`: one.
#' @param image The job image: the bundled one (`NULL`) or one of yours from [build_image()].
#' @param packages Packages to attach on the hosts besides those found in `FUN`.
#' @param wait `TRUE`: wait for the job and return the value. `FALSE`: return the job's name at once and
#'   collect the value later with [job_results()].
#' @param local `TRUE`: run through the local Processing emulation on this machine instead of SageMaker.
#' @param errors What a failed element does: `"stop"` (one-line error naming the first failed element; the
#'   other elements are kept in the job's output) or `"keep"` (its place in the value holds the error, see
#'   "Failed elements").
#' @param container With `local = TRUE`: run each emulated host in this image (podman or docker, no
#'   network), as a job would. `NULL`: this machine's R.
#' @param block_size Elements per block (the unit that is written, resumed and shared out). `NULL`: planned
#'   for the job's cores, about four blocks per core. The results never depend on it.
#' @inheritParams submit_simulation
#' @return With `wait = TRUE`, a list as long as `X`, with its names: element *i* is `FUN(X[[i]], ...)`. When
#'   the seed was drawn (`seed = NULL`), it is the value's attribute `"seed"`. With `wait = FALSE`, the job's
#'   name (for a local job, its folder): pass it to [job_results()], [wait_for_job()], [job_status()],
#'   [resume_job()].
#'
#' @section Reproducible random numbers:
#' Element *i* runs with its own L'Ecuyer-CMRG stream derived from `seed` exactly as
#' \pkg{future.apply} derives it, so `job_lapply(X, FUN, seed = 42)` equals
#' `future.apply::future_lapply(X, FUN, future.seed = 42)` (under any plan) to the last bit, on any number of
#' hosts and cores, resumed or not. Your own random-number generator moves on as `future_lapply()` moves it.
#'
#' @section Global variables and packages:
#' Variables `FUN` uses that are not its arguments (its globals) are found by static code inspection and
#' shipped; packages whose functions it uses are attached on the hosts, and `pkg::fun` calls are noted too.
#' Every package must be installed where the job's R runs: in the job image (add packages with
#' [build_image()]), in the `container =` image, or on this machine. A missing one stops the call with one
#' line before anything is created; with an image of yours the hosts check it first thing.
#' A global that cannot travel (a connection, a pointer into this R session) and a payload beyond
#' `getOption("simjobs.globals.maxSize")` (default: `future.globals.maxSize`, else 500 MiB) stop the call too.
#'
#' @section Failed elements:
#' An element whose `FUN` fails (or calls `quit()`) does not stop the others. With `errors = "stop"` the call
#' ends with one line naming the first failed element and its message; every value is kept in the job's output
#' and `job_results(job, errors = "keep")` returns them. With `errors = "keep"` a failed element's place holds
#' its error (a condition of class `simjobs_element_error`, with `$element` and `$message`), and the value's
#' attribute `"failed"` is a data frame of the failed elements and their messages.
#'
#' @section Resuming:
#' Finished blocks are written as they complete (a job's output uploads continuously). A job that was stopped,
#' failed or ran out of time keeps them, and [resume_job()] runs only the missing ones; its value equals an
#' uninterrupted run's. A local job is resumed the same way, by its folder.
#'
#' @seealso [sagemaker] to run `future`, `future.apply` and `furrr` code on the platform; [job_results()].
#' @example inst/examples/job_lapply.R
#' @export
job_lapply <- function(X, FUN, ..., seed = NULL, instance_type = NULL, instance_count = NULL, image = NULL,
                       packages = NULL, wait = TRUE, local = FALSE, errors = c("stop", "keep"),
                       container = NULL, block_size = NULL, volume_size_gb = NULL,
                       max_runtime_seconds = NULL, name = NULL, platform = NULL, logs = TRUE) {
  errors <- match.arg(errors)
  FUN <- tryCatch(match.fun(FUN), error = function(e) {
    stop(sprintf("FUN must be a function or the name of one, not %s", .describe_value(FUN)), call. = FALSE)
  })
  if (!is.vector(X) || is.object(X)) X <- as.list(X)
  if (length(X) == 0L) return(as.list(X))
  if (!is.null(packages) && (!is.character(packages) || anyNA(packages))) {
    stop("packages must be a character vector of package names", call. = FALSE)
  }
  if (!is.null(container) && !isTRUE(local)) {
    stop("container = runs an emulated host in an image on this machine: it needs local = TRUE", call. = FALSE)
  }
  block_size <- .opt_count(block_size)
  if (!is.null(block_size)) block_size <- min(block_size, length(X))
  drawn <- is.null(seed)
  if (drawn) seed <- .fresh_seed()
  invisible(.as_lecyer_cmrg_seed(seed))  # a bad seed is one line before anything else happens
  args <- list(...)
  shipped <- .map_globals(FUN, list(X = X, "..." = args), packages)
  .check_packages(shipped$needed, local = local, container = container, image = image, platform = platform)
  resources <- if (isTRUE(local)) NULL else {
    .resources(instance_type, instance_count, volume_size_gb, max_runtime_seconds, name, image)
  }
  seed_text <- if (length(seed) == 1L) format(seed, scientific = FALSE) else paste(seed, collapse = ",")
  if (drawn) message(sprintf("job_lapply: seed %s (pass seed = %s to get these results again)", seed_text, seed_text))

  streams <- .map_streams(seed)
  on.exit(.set_random_seed(streams$restore), add = TRUE)
  job_dir <- if (isTRUE(local)) .local_job_dir(name) else NULL
  folder <- if (isTRUE(local)) file.path(job_dir, "code") else tempfile("simjobs-map-")
  if (!isTRUE(local)) on.exit(unlink(folder, recursive = TRUE), add = TRUE)
  .write_payload(folder, "lapply", FUN, X, args, shipped, streams$first)
  job <- .launch_map(folder, job_dir, length(X), "lapply", seed_text, drawn, block_size, local, container,
                     instance_count, resources, platform, wait, logs)
  if (!isTRUE(wait)) return(job)
  .map_value(.map_summary(job, platform), errors)
}

# "a number (42)", "NULL", "a list": for one-line errors about a value of the wrong kind.
.describe_value <- function(x) {
  if (is.null(x)) return("NULL")
  kind <- class(x)[[1L]]
  if (is.atomic(x) && length(x) == 1L) sprintf("a %s (%s)", kind, format(x)) else sprintf("a %s", kind)
}

# Every package a map needs, where its R runs: one line naming what is missing and how to add it.
.check_packages <- function(needed, local, container, image, platform) {
  if (isTRUE(local) && !is.null(container) && length(needed) == 0L) {
    # the image and the engine, before anything is written: the line local-job --container says
    .call(.local_map()$check_container, container)
  }
  if (length(needed) == 0L) return(invisible())
  if (isTRUE(local) && is.null(container)) {
    missing <- .missing_here(needed)
    if (length(missing) > 0L) {
      stop(sprintf("R package %s is not installed in this R; install it with install.packages(c(%s))",
                   paste0("'", missing, "'", collapse = ", "), paste0('"', missing, '"', collapse = ", ")),
           call. = FALSE)
    }
    return(invisible())
  }
  available <- if (isTRUE(local)) {
    .call(.local_map()$image_r_packages, container)
  } else {
    .call(.client_map()$image_r_packages, .opt(image), platform = .opt(platform))
  }
  if (is.null(available)) return(invisible())  # an image of yours: its hosts check before any element runs
  where <- if (isTRUE(local)) sprintf("the image %s", container) else "the job image"
  .stop_missing(setdiff(needed, c(.base_packages, unlist(available))), where)
}
