#' Plan before paying: time and price of a job
#'
#' With a workload (`people` and/or `iterations`; `width`, `height`, `radius` as for
#' [submit_simulation()]): the bundled simulation as a job of `instance_count` x `instance_type`, predicted
#' (compute seconds per host, start-up, wall time and dollars), next to the same run on this machine.
#' Without one: `instance_count` x `hours` of `instance_type` priced. Nothing reaches AWS.
#'
#' @param instance_type An instance type (e.g. `"ml.c5.xlarge"`).
#' @param instance_count Instances.
#' @param hours Instance-hours to price (without a workload). `NULL`: one hour.
#' @param people,iterations The workload; either one makes this a plan of the bundled simulation. The other
#'   one, left `NULL`, takes the run default (see [run_defaults()]).
#' @param width,height,radius The simulation's area and radius. `NULL`: the run defaults.
#' @return A list. Priced hours: `usd`, `usd_per_hour`, `instance_hours`, `text`. A plan also has
#'   `compute_seconds_per_host`, `startup_seconds`, `predicted_seconds`, `local_seconds`, `local_faster`
#'   and `text` saying which is faster (when it is this machine: call [run_simulation()]). `usd` (and the
#'   predictions) are `NA` for a type not in the price table.
#' @section Prices:
#' On-demand list prices of one region, transcribed once: an order of magnitude for choosing an instance,
#' not a bill. Storage, S3 and logs are not included.
#' @seealso [submit_simulation()].
#' @examplesIf simjobs_python()$available
#' # two instances for an hour and a half
#' estimate_cost("ml.c5.xlarge", instance_count = 2, hours = 1.5)$usd
#' # the reference case as a job of 2 x ml.c5.4xlarge, next to this machine
#' estimate_cost("ml.c5.4xlarge", instance_count = 2, people = 1000, iterations = 10000)$text
#' @export
estimate_cost <- function(instance_type, instance_count = 1, hours = NULL, people = NULL, iterations = NULL,
                          width = NULL, height = NULL, radius = NULL) {
  if (is.null(people) && is.null(iterations)) {
    # hours left NULL: Python's default (one hour)
    given <- Filter(Negate(is.null), list(hours = hours))
    estimate <- do.call(function(...) .call(.client()$estimate_cost, instance_type, instance_count, ...), given)
  } else {
    if (!is.null(hours)) stop("estimate_cost: hours prices instance-hours; a workload is timed by the model", call. = FALSE)
    # NULLs stay None: Python fills them from the run defaults, as for a submission
    estimate <- .call(.client()$plan_simulation, instance_type, instance_count, people = .opt(people),
                      iterations = .opt(iterations), width = .opt(width), height = .opt(height),
                      radius = .opt(radius))
  }
  for (key in c("usd", "predicted_seconds", "compute_seconds_per_host")) {
    if (key %in% names(estimate) && is.null(estimate[[key]])) estimate[[key]] <- NA_real_
  }
  estimate
}
