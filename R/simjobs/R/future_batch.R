# Batches of the sagemaker future backend: the futures launched while a batch has room wait in a queue; the
# queue is submitted as one map job (mode "future": each element is one future's own expression and globals)
# when it is full, when another plan's future arrives, or when any of its futures is asked for its result.

# How many futures one batch holds: the plan's workers, or every core/vCPU it runs on.
.batch_capacity <- function(settings) {
  if (!is.null(settings$workers)) return(as.integer(settings$workers))
  if (isTRUE(settings$local)) {
    hosts <- as.integer(settings$instance_count %||% 1L)
    return(as.integer(hosts * max(1L, future::availableCores() %/% hosts)))
  }
  .remote_capacity(settings)$workers
}

# What a remote batch runs on, asked of the platform once per settings and R session.
.remote_capacity <- function(settings) {
  key <- paste(deparse(settings[c("workers", "instance_type", "instance_count", "platform")]), collapse = "")
  cache <- .simjobs$capacity %||% list()
  if (is.null(cache[[key]])) {
    cache[[key]] <- .call(.client_map()$map_capacity, .opt(settings$workers), .opt(settings$instance_type),
                          .opt(settings$instance_count), platform = .opt(settings$platform))
    .simjobs$capacity <- cache
  }
  cache[[key]]
}

.enqueue <- function(future) {
  settings <- future$settings
  if (length(.simjobs$queue) > 0L && !identical(.simjobs$queue_settings, settings)) .flush()
  .check_future(future)
  .simjobs$queue_settings <- settings
  .simjobs$queue <- c(.simjobs$queue, list(future))
  if (length(.simjobs$queue) >= .batch_capacity(settings)) .flush()
  invisible(future)
}

# Before a future joins a batch: its globals can travel, its packages are where it will run.
.check_future <- function(future) {
  for (name in names(future$globals)) {
    dead <- .dead_references(future$globals[[name]])
    if (length(dead) > 0L) {
      stop(future::FutureError(sprintf(
        "global '%s' of the future is or holds a connection or another pointer into this R session (%s), which cannot be shipped to a job; open it inside the future instead",
        name, paste(dead, collapse = ", ")
      ), future = future))
    }
  }
  settings <- future$settings
  needed <- setdiff(unique(c(future$packages, "future")), .base_packages)
  .check_packages(needed, local = settings$local, container = settings$container, image = settings$image,
                  platform = settings$platform)
}

# Submits the queue as one map job and hands every future in it its batch and index.
.flush <- function() {
  futures <- .simjobs$queue
  settings <- .simjobs$queue_settings
  .simjobs$queue <- list()
  if (length(futures) == 0L) return(invisible(NULL))
  elements <- lapply(futures, function(f) {
    list(expr = future::getExpression(f), globals = f$globals, packages = f$packages)
  })
  packages <- unique(unlist(lapply(futures, function(f) f$packages), use.names = FALSE))
  shipped <- list(globals = list(), packages = character(), namespaces = unique(c("future", packages)))
  batch <- new.env(parent = emptyenv())
  batch$local <- isTRUE(settings$local)
  batch$platform <- settings$platform
  batch$poll <- if (batch$local) 0.1 else getOption("simjobs.poll_seconds", 10)
  job_dir <- if (batch$local) .local_job_dir("future") else NULL
  folder <- if (batch$local) file.path(job_dir, "code") else tempfile("simjobs-futures-")
  .write_payload(folder, "future", NULL, elements, list(), shipped, NULL)
  resources <- if (batch$local) NULL else {
    capacity <- .remote_capacity(settings)
    .resources(capacity$instance_type, capacity$instance_count, image = settings$image)
  }
  batch$job <- .launch_map(
    folder, job_dir, length(elements), "future", NULL, FALSE, 1L, batch$local, settings$container,
    settings$instance_count, resources, settings$platform, wait = FALSE, logs = FALSE
  )
  if (!batch$local) unlink(folder, recursive = TRUE)
  for (index in seq_along(futures)) {
    futures[[index]]$batch <- batch
    futures[[index]]$index <- index
  }
  invisible(batch)
}

# Whether the batch's job has ended (asked at most once per poll interval).
.batch_ended <- function(batch) {
  if (isTRUE(batch$ended)) return(TRUE)
  now <- Sys.time()
  if (!is.null(batch$asked) && as.numeric(now - batch$asked, units = "secs") < batch$poll) return(FALSE)
  batch$asked <- now
  status <- .safe("job_status", batch$job, platform = .opt(batch$platform))$status
  batch$ended <- status %in% c("Completed", "Failed", "Stopped")
  if (batch$ended) batch$outcome <- tolower(status)
  batch$ended
}

# Every element's value of an ended batch (NULL where its block is missing), read once.
.batch_values <- function(batch) {
  if (is.null(batch$values)) {
    summary <- .map_summary(batch$job, batch$platform)
    batch$values <- .map_block_values(summary)
  }
  batch$values
}
