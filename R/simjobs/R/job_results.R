#' A finished job's results
#'
#' Downloads, merges and summarizes a finished job (or a sweep) into `dest`: `summary.json` and
#' `histogram.png` for the bundled simulation; the files of an R-script job.
#'
#' @param job The job's name.
#' @param dest The folder the results are written into. `NULL`: `results/<job>`.
#' @param errors For a map job ([job_lapply()]): `"stop"` or `"keep"` its failed elements.
#' @inheritParams submit_simulation
#' @return The summary as a list: `$mean` is the mean violations per person, `$seed` the seed (as digits
#'   when it is larger than R's integers), `$hosts` what each host did. For a map job (a name, or a local
#'   job's folder), its value: the list [job_lapply()] returns.
#' @section Seeds as digits:
#' `job_results(job)$seed` is a character string of digits when the seed is beyond R's integers; pass it
#' as it is (`seed = result$seed`) to repeat the sample.
#' @seealso [submit_simulation()], [sweep_results()].
#' @examples
#' \dontrun{
#' result <- job_results("simlab-20250101-120000-ab12")
#' result$mean
#' }
#' @export
job_results <- function(job, dest = NULL, platform = NULL, errors = c("stop", "keep")) {
  summary <- .safe("job_results", job, .opt(dest), platform = .opt(platform))
  if (.is_map_summary(summary)) .map_value(summary, match.arg(errors)) else summary
}
