#' A future backend that runs futures on SageMaker Processing
#'
#' With `future::plan(simjobs::sagemaker)`, code written with \pkg{future}, \pkg{future.apply} or \pkg{furrr}
#' runs on the platform's instances by changing only the `plan()` line. Futures are batched: the futures
#' created while a batch has room become the elements of one map job (the machinery of [job_lapply()]),
#' whose hosts run them over all their cores; a batch is submitted when it is full or as soon as a result is
#' asked for. `future_lapply()` creates one future per worker, so one `future_lapply()` call is one job with
#' one start-up. `plan(simjobs::sagemaker_local)` runs the same batches through the local Processing
#' emulation on this machine (in the background), as `job_lapply(local = TRUE)` does: try a plan before
#' paying for it. (\pkg{future} reserves the argument name `local`, hence a second backend rather than a
#' `local =` argument, as \pkg{future.batchtools} has `batchtools_local`.)
#'
#' @param expr,envir,substitute,lazy,seed,globals,packages,stdout,conditions,label,... As for
#'   [future::future()]: the future's expression and how it is evaluated. Set by the \pkg{future} framework.
#' @param workers How many futures run at once (one per vCPU): the size of a batch, and what
#'   [future::nbrOfWorkers()] reports. `NULL`: every vCPU of `instance_count` instances of `instance_type`;
#'   locally, this machine's cores. Given without `instance_count`, as many instances as that many vCPUs need
#'   (within the platform's limit).
#' @param instance_type,instance_count,image,platform What each batch's job runs on, as for [job_lapply()];
#'   locally, `instance_count` is the number of emulated hosts.
#' @param container For `sagemaker_local`: the image each emulated host runs in (`NULL`: this machine's R).
#' @return A [future::Future] of class `SageMakerFuture` (when called by the \pkg{future} framework).
#'
#' @section Batches, not one job per future:
#' A Processing job takes minutes to start and bills every instance from then on. One job per future would
#' pay that start-up once per future and would leave an instance's other cores idle while one future's
#' expression runs; a batch pays it once for all the futures created together and runs them over every core of
#' every instance. The price is that a future is submitted with its batch: when the batch is full
#' (`workers` futures), or when [future::resolved()], [future::value()] or [future::result()] is asked of any
#' future in it. Futures that wait for other futures' values must therefore not be in one batch with them.
#'
#' @section Random numbers, output and conditions:
#' Each future is evaluated by \pkg{future}'s own expression on the host, so `future.seed`/`seed` streams,
#' standard output and conditions (messages, warnings, errors) behave as under [future::sequential]: they are
#' captured on the host and relayed when the value is collected. `future_lapply(X, FUN, future.seed = 42)`
#' gives the same numbers under this plan as under any other. The hosts need \pkg{future}, which the bundled
#' job image has; with an image of yours ([build_image()]) include it.
#'
#' @section Failures:
#' An error in a future's expression is that future's error, re-signalled by `value()`. A future whose host
#' could not evaluate it (its R process ended, its job failed or was stopped before its block was written)
#' signals a [future::FutureError] naming the job.
#'
#' @seealso [job_lapply()], which this backend shares its jobs with; \pkg{future.apply}, \pkg{furrr}.
#' @example inst/examples/sagemaker.R
#' @export
sagemaker <- function(expr, envir = parent.frame(), substitute = TRUE, lazy = FALSE, seed = NULL,
                      globals = TRUE, packages = NULL, stdout = TRUE, conditions = "condition", label = NULL,
                      workers = NULL, instance_type = NULL, instance_count = NULL, image = NULL,
                      platform = NULL, ...) {
  if (substitute) expr <- substitute(expr)
  settings <- list(
    workers = workers, instance_type = instance_type, instance_count = instance_count, local = FALSE,
    container = NULL, image = image, platform = platform
  )
  .sagemaker_future(expr, envir, lazy, seed, globals, packages, stdout, conditions, label, settings, ...)
}
class(sagemaker) <- c("sagemaker", "multiprocess", "future", "function")

#' @rdname sagemaker
#' @export
sagemaker_local <- function(expr, envir = parent.frame(), substitute = TRUE, lazy = FALSE, seed = NULL,
                            globals = TRUE, packages = NULL, stdout = TRUE, conditions = "condition",
                            label = NULL, workers = NULL, instance_count = NULL, container = NULL, ...) {
  if (substitute) expr <- substitute(expr)
  settings <- list(
    workers = workers, instance_type = NULL, instance_count = instance_count, local = TRUE,
    container = container, image = NULL, platform = NULL
  )
  .sagemaker_future(expr, envir, lazy, seed, globals, packages, stdout, conditions, label, settings, ...)
}
class(sagemaker_local) <- c("sagemaker_local", "sagemaker", "multiprocess", "future", "function")

.sagemaker_future <- function(expr, envir, lazy, seed, globals, packages, stdout, conditions, label, settings,
                              ...) {
  future <- SageMakerFuture(
    expr = expr, envir = envir, substitute = FALSE, lazy = lazy, seed = seed, globals = globals,
    packages = packages, stdout = stdout, conditions = conditions, label = label, settings = settings, ...
  )
  if (!future$lazy) future <- future::run(future)
  invisible(future)
}

#' @importFrom future nbrOfWorkers
#' @method nbrOfWorkers sagemaker
#' @export
nbrOfWorkers.sagemaker <- function(evaluator) {
  .batch_capacity(.evaluator_settings(evaluator))
}

#' @importFrom future nbrOfFreeWorkers
#' @method nbrOfFreeWorkers sagemaker
#' @export
nbrOfFreeWorkers.sagemaker <- function(evaluator = NULL, background = FALSE, ...) {
  settings <- .evaluator_settings(evaluator)
  queued <- if (identical(.simjobs$queue_settings, settings)) length(.simjobs$queue) else 0L
  max(0L, .batch_capacity(settings) - queued)
}

# The settings a (possibly tweaked) sagemaker evaluator carries in its formals; a tweaked evaluator has only the
# formals plan() set, the others are their defaults (NULL).
.evaluator_settings <- function(evaluator) {
  defaults <- formals(evaluator)
  value <- function(name) eval(defaults[[name]], enclos = baseenv())
  list(
    workers = value("workers"), instance_type = value("instance_type"),
    instance_count = value("instance_count"), local = inherits(evaluator, "sagemaker_local"),
    container = value("container"), image = value("image"), platform = value("platform")
  )
}
