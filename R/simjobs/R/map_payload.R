# A map's payload: what R ships to the job's hosts (FUN, X, the ... arguments, FUN's globals and packages, the
# first random-number stream) in R's own serialization, beside the runner that evaluates it on each host.

.map_runner <- function() {
  path <- system.file("map", "map_host.R", package = "simjobs")
  if (!nzchar(path)) stop("the simjobs installation lacks inst/map/map_host.R; reinstall simjobs", call. = FALSE)
  path
}

# Writes map.rds and map_host.R into `folder`; returns the payload's size in bytes.
.write_payload <- function(folder, mode, FUN, X, args, shipped, first_stream) {
  dir.create(folder, recursive = TRUE, showWarnings = FALSE)
  payload <- list(
    format = 1L,
    mode = mode,
    FUN = FUN,
    X = X,
    args = args,
    globals = shipped$globals,
    packages = shipped$packages,
    namespaces = shipped$namespaces,
    seed = first_stream
  )
  path <- file.path(folder, "map.rds")
  saveRDS(payload, path)
  if (!file.copy(.map_runner(), file.path(folder, "map_host.R"), overwrite = TRUE)) {
    stop("cannot write the map's runner into ", folder, call. = FALSE)
  }
  file.size(path)
}

# The Python modules behind maps: the local emulation and the SageMaker side.
.local_map <- function() {
  if (is.null(.simjobs$local_map)) {
    .simjobs$local_map <- reticulate::import("simulation.job.local_map", convert = TRUE)
  }
  .simjobs$local_map
}

.client_map <- function() {
  if (is.null(.simjobs$client_map)) {
    .simjobs$client_map <- reticulate::import("simulation.client.map", convert = TRUE)
  }
  .simjobs$client_map
}

# A new local map job's folder: out/local-map/<name> under the working directory, named like a job
# (R's random-number generator is the user's: the name comes from tempfile(), which does not use it).
.local_job_dir <- function(name = NULL) {
  stamp <- format(Sys.time(), "%Y%m%d-%H%M%S", tz = "UTC")
  token <- substr(sub("^map", "", basename(tempfile("map"))), 1L, 8L)
  base <- if (is.null(name)) "map" else name
  path <- file.path(getwd(), "out", "local-map", paste(base, stamp, token, sep = "-"))
  dir.create(path, recursive = TRUE, showWarnings = FALSE)
  normalizePath(path)
}

# Submits a written payload: through the local emulation (returns its folder) or as a SageMaker job (its name).
.launch_map <- function(folder, job_dir, elements, mode, seed_text, seed_drawn, block_size, local, container,
                        hosts, resources, platform, wait, logs) {
  if (isTRUE(local)) {
    settings <- .call(.local_map()$LocalMap,
      hosts = as.integer(hosts %||% 1L),
      container = container,
      r_libs = if (is.null(container)) paste(.libPaths(), collapse = .Platform$path.sep) else NULL
    )
    .call(.local_map()$submit_local_map, job_dir, elements = as.integer(elements), mode = mode,
          seed = seed_text, seed_drawn = isTRUE(seed_drawn), block_size = block_size,
          settings = settings, wait = isTRUE(wait))
    return(job_dir)
  }
  job <- .call(.client_map()$submit_map, folder, elements = as.integer(elements), mode = mode, seed = seed_text,
               seed_drawn = isTRUE(seed_drawn), block_size = block_size, resources = resources,
               platform = .opt(platform), wait = FALSE, logs = isTRUE(logs))
  if (isTRUE(wait)) {
    # a job that failed, was stopped or ran out of time keeps its finished blocks: say how to finish it
    tryCatch(wait_for_job(job, logs = logs, platform = platform), error = function(e) {
      stop(sprintf('%s; its finished blocks are kept: resume_job("%s") runs only the rest', conditionMessage(e), job),
           call. = FALSE)
    })
  }
  job
}

`%||%` <- function(x, y) if (is.null(x)) y else x

# A count from R (a double) as Python's whole number, or None.
.opt_count <- function(x) {
  if (is.null(x)) return(NULL)
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || x < 1 || x != round(x)) {
    stop(sprintf("block_size must be a whole number of at least 1, not %s", .describe_value(x)), call. = FALSE)
  }
  as.integer(x)
}
