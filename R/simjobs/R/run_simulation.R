#' Run the bundled simulation on this machine
#'
#' The same Monte Carlo simulation a job runs ([submit_simulation()]), on this machine's cores, with the same
#' defaults, blocks and random streams: a run here and a job given the same parameters and seed give the same
#' result to the last bit, whatever the number of workers or hosts. What `python -m simulation run` does,
#' from R.
#'
#' @inheritParams submit_simulation
#' @param seed The seed, as digits (`"1234..."`) or a whole number up to 2^53. `NULL`: fresh entropy, printed
#'   before the run starts and returned as `$seed`.
#' @param workers Worker threads. `NULL`: the cores usable here.
#' @return A list: `mean` (violations per person), `sd`, `se`, `ci95`, `analytic_mean` (the exact expectation
#'   to compare with), the parameters, `seed`, `seconds`, `workers`, `blocks` and `backend`.
#' @section Seeds as digits:
#' A fresh seed has 128 bits: `$seed` is then a character string of digits; pass it as it is (`seed =
#' result$seed`) to repeat the run exactly.
#' @section Size:
#' A run that would not fit this machine (more than 10 million people, or more than 10^12 people placed in
#' all) is refused in one line before it starts: submit it as a job instead. [estimate_cost()] says whether a
#' workload is faster here or as a job.
#' @seealso [local_job()] to try a job's hosts on this machine, [submit_simulation()].
#' @examplesIf simjobs_python()$available
#' result <- run_simulation(people = 200, iterations = 2000, seed = 1)
#' c(result$mean, result$analytic_mean)
#' # the same seed, the same sample, whatever the number of workers
#' identical(run_simulation(people = 200, iterations = 2000, seed = 1, workers = 1)$mean, result$mean)
#' @export
run_simulation <- function(width = NULL, height = NULL, people = NULL, radius = NULL, iterations = NULL,
                           seed = NULL, workers = NULL) {
  .safe("run_simulation", .opt(width), .opt(height), .opt(people), .opt(radius), .opt(iterations),
        .opt(seed), workers = .opt(workers))
}
