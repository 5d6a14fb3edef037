#' Run the simulation over a grid of parameters
#'
#' Every combination of the values given (e.g. `people = c(250, 500, 1000, 2000), radius = c(3, 6)`) runs
#' as one multi-host job (`mode = "job"`) or as one job per point (`mode = "jobs"`).
#'
#' @param people,radius,width,height Values of each parameter (vectors); `NULL`: the default alone.
#' @param iterations Iterations per point. `NULL`: the default.
#' @param seed The seed every point uses, as digits or a whole number. `NULL`: fresh entropy, returned.
#' @param mode `"job"`: one job for the whole grid; `"jobs"`: one job per point.
#' @param dest With `wait = TRUE`: the folder the table is written into.
#' @inheritParams submit_simulation
#' @return With `wait = TRUE`, the results table (as [sweep_results()]); otherwise the sweep's manifest, a
#'   list with `$sweep` (its id), `$jobs` and `$seed` (digits when beyond R's integers).
#' @section Seeds:
#' Every point uses the same seed (common random numbers): differences between points are sharper, but the
#' points are not independent samples; do not pool them.
#' @seealso [sweep_results()], [submit_simulation()].
#' @examples
#' \dontrun{
#' table <- run_sweep(people = c(250, 500, 1000, 2000), radius = c(3, 6), iterations = 1000, wait = TRUE)
#' }
#' @export
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

#' A finished sweep's table
#'
#' Downloads the results of every point of a sweep and tabulates them.
#'
#' @param sweep The sweep's id (`run_sweep(...)$sweep`).
#' @param dest The folder `sweep.csv` and the points' summaries are written into. `NULL`: `results/<sweep>`.
#' @inheritParams submit_simulation
#' @return A data frame, one row per point: its parameters, `mean`, `se`, the 95% CI and `analytic_mean`.
#' @seealso [run_sweep()].
#' @examples
#' \dontrun{
#' sweep_results("simlab-sweep-20250101-120000-ab12")
#' }
#' @export
sweep_results <- function(sweep, dest = NULL, platform = NULL) {
  .rows(.safe("sweep_results", sweep, .opt(dest), platform = .opt(platform))$rows)
}
