# The bridge to Python: every exported function reaches `simulation.client` through these, so R, the shell
# and the tests share one implementation.

.simjobs <- new.env(parent = emptyenv())

# simulation.client with reticulate's conversion (Python dicts arrive as named lists).
.client <- function() {
  if (is.null(.simjobs$client)) {
    .simjobs$client <- reticulate::import("simulation.client", convert = TRUE)
  }
  .simjobs$client
}

# Calls fn(...), a Python function, with Python's view of the environment brought up to date first, and turns
# any error into one line with no call attached (errors.R).
.call <- function(fn, ...) {
  .simjobs$depth <- (.simjobs$depth %||% 0L) + 1L
  tryCatch({
    .update_environment()
    fn(...)
  }, error = function(e) stop(.one_line(conditionMessage(e)), call. = FALSE), finally = .leave_python())
}

# Python copied the process environment when it started; Sys.setenv() since then is invisible to it. Every
# call hands R's environment to the client, which takes its own variables from it (AWS_*, SIMLAB_*), so
# Sys.setenv(AWS_DEFAULT_REGION = ...) after a "no AWS region" error works without restarting R. It adds
# SIMLAB_CALLER=r for the duration of the call: the hints Python prints then name R functions
# (wait_for_job(job)), not shell commands (simulation/text.py).
.update_environment <- function() {
  if (is.null(.simjobs$aws)) {
    .simjobs$aws <- reticulate::import("simulation.client.aws", convert = FALSE)
  }
  environment <- c(Sys.getenv(), SIMLAB_CALLER = "r")
  .simjobs$aws$update_environment(reticulate::py_dict(names(environment), as.character(environment)))
}

# After the outermost call: SIMLAB_CALLER leaves the process environment Python and R share, so a
# system("python -m simulation ...") from R gets the shell's hints again.
.leave_python <- function() {
  .simjobs$depth <- .simjobs$depth - 1L
  if (.simjobs$depth == 0L && !is.null(.simjobs$aws)) .simjobs$aws$leave_caller()
}

# Calls `simulation.client.<name>` and converts the result through Python's values.for_r, which turns
# integers beyond R's 32 bits (a fresh seed has 128) into their digits: reticulate would wrap them around
# silently (2^40 arrives as 0). Results that may hold a seed go through here.
.safe <- function(name, ...) {
  if (is.null(.simjobs$raw)) {
    .simjobs$raw <- reticulate::import("simulation.client", convert = FALSE)
    .simjobs$values <- reticulate::import("simulation.client.values", convert = FALSE)
  }
  fn <- .simjobs$raw[[name]]
  .call(function(...) reticulate::py_to_r(.simjobs$values$for_r(fn(...))), ...)
}

#' Which Python simjobs uses
#'
#' Finds the Python interpreter \pkg{reticulate} would use (starting it if needed) and says whether it has
#' the `simulation` package simjobs calls. Use it to check a set-up before the first job, or in examples
#' and tests that need Python.
#'
#' @return A list: `available` (`TRUE` when the `simulation` package can be imported), `python` (the
#'   interpreter's path, or `NA`), `version` (the `simulation` package's version, or `NA`) and `message`
#'   (what to do when it is not available).
#' @seealso The "Python" section of [simjobs-package].
#' @examples
#' setup <- simjobs_python()
#' setup$available
#' @export
simjobs_python <- function() {
  found <- tryCatch(reticulate::py_discover_config(), error = function(e) NULL)
  python <- if (reticulate::py_available()) reticulate::py_config()$python else if (is.null(found)) NA_character_ else found$python
  available <- tryCatch(reticulate::py_module_available("simulation"), error = function(e) FALSE)
  version <- if (available) reticulate::import("simulation")$`__version__` else NA_character_
  message <- if (available) "ready" else paste(
    "the Python 'simulation' package is not importable from", if (is.na(python)) "any Python" else python,
    "; set RETICULATE_PYTHON to the interpreter that has it (before the first call in this R session)"
  )
  list(available = available, python = python, version = version, message = message)
}
