# Tests that call Python need the interpreter with the `simulation` package (RETICULATE_PYTHON). Without it
# they are skipped, unless SIMJOBS_REQUIRE_PYTHON=true (the project's own test run), where a missing Python
# is a failure rather than a silent skip.
skip_without_python <- function() {
  setup <- simjobs_python()
  if (setup$available) return(invisible(TRUE))
  if (identical(tolower(Sys.getenv("SIMJOBS_REQUIRE_PYTHON")), "true")) stop(setup$message, call. = FALSE)
  testthat::skip(setup$message)
}

# The condition an expression signals, or NULL.
caught <- function(expr) tryCatch({ expr; NULL }, error = function(e) e)

py <- function(code) reticulate::py_eval(code, convert = FALSE)
