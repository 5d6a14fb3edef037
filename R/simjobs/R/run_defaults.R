#' The platform's run defaults
#'
#' The one set of defaults every front door uses (R, `python -m simulation ...`, Python): the area, people,
#' radius and iterations a run takes when they are not given. They are defined once, in Python, and read
#' from there on each call, so this package holds no copy that could drift.
#'
#' @return A named list: `width`, `height`, `people`, `radius`, `iterations`.
#' @section Seeds:
#' There is no default seed on purpose: a run given none draws fresh entropy and reports it, so repeated
#' runs are independent samples.
#' @seealso [submit_simulation()], [estimate_cost()].
#' @examplesIf simjobs_python()$available
#' run_defaults()
#' @export
run_defaults <- function() {
  .call(function() reticulate::py_to_r(.python_defaults()))
}

# Python's run defaults as a Python dict, a fresh copy each time: simulation.defaults.for_r().
.python_defaults <- function() {
  if (is.null(.simjobs$defaults)) {
    .simjobs$defaults <- reticulate::import("simulation.defaults", convert = FALSE)
  }
  .simjobs$defaults$for_r()
}
