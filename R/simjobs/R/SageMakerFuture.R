#' A future evaluated in a batch on SageMaker Processing
#'
#' The [future::Future] class of the [sagemaker] backend. You do not create these yourself: `future()`,
#' `future_lapply()` and friends do, under `plan(simjobs::sagemaker)`.
#'
#' @param expr,envir,substitute,... As for [future::Future()].
#' @param settings The backend's settings (workers, instance type and count, local, container, image,
#'   platform), from the plan.
#' @return A `SageMakerFuture`, which is a [future::Future].
#' @examplesIf simjobs_python()$available
#' owd <- setwd(tempdir())
#' oplan <- future::plan(simjobs::sagemaker_local, workers = 1)
#' f <- future::future(6 * 7)
#' class(f)
#' future::value(f)
#' future::plan(oplan)
#' setwd(owd)
#' @keywords internal
#' @export
SageMakerFuture <- function(expr = NULL, envir = parent.frame(), substitute = TRUE, settings = list(), ...) {
  if (substitute) expr <- substitute(expr)
  future <- future::Future(expr = expr, envir = envir, substitute = FALSE, ...)
  future$settings <- settings
  structure(future, class = c("SageMakerFuture", "MultiprocessFuture", class(future)))
}

#' @importFrom future run
#' @method run SageMakerFuture
#' @export
run.SageMakerFuture <- function(future, ...) {
  if (future$state != "created") {
    stop(future::FutureError(
      sprintf("A future ('%s') can only be launched once.", future$label %||% "<none>"), future = future
    ))
  }
  .enqueue(future)
  future$state <- "running"
  invisible(future)
}

#' @importFrom future resolved
#' @method resolved SageMakerFuture
#' @export
resolved.SageMakerFuture <- function(x, ...) {
  if (x$state == "created") return(NextMethod())
  if (inherits(x$result, "FutureResult") || x$state %in% c("finished", "failed", "interrupted")) return(TRUE)
  if (is.null(x$batch)) .flush()
  .batch_ended(x$batch)
}

#' @importFrom future result
#' @method result SageMakerFuture
#' @export
result.SageMakerFuture <- function(future, ...) {
  result <- future$result
  if (!is.null(result)) {
    if (inherits(result, "FutureError")) stop(result)
    return(result)
  }
  if (future$state == "created") future <- future::run(future)
  if (is.null(future$batch)) .flush()
  batch <- future$batch
  while (!.batch_ended(batch)) Sys.sleep(batch$poll)
  value <- .batch_values(batch)[[future$index]]
  if (inherits(value, "FutureResult")) {
    future$result <- value
    future$state <- "finished"
    return(value)
  }
  reason <- if (inherits(value, "condition")) conditionMessage(value) else {
    sprintf("its block was never written (the job %s)", batch$outcome %||% "ended")
  }
  error <- future::FutureError(
    sprintf("future ('%s') in job %s could not be evaluated on its host: %s",
            future$label %||% "<none>", batch$job, reason),
    future = future
  )
  future$result <- error
  future$state <- "failed"
  stop(error)
}
