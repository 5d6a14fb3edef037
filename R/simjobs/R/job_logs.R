#' Print a job's logs
#'
#' Prints every host's CloudWatch log of a job once, from its start.
#'
#' @param job The job's name.
#' @inheritParams submit_simulation
#' @return `NULL`, invisibly; the logs are printed.
#' @seealso [wait_for_job()] to follow them while the job runs.
#' @examples
#' \dontrun{
#' job_logs("simlab-20250101-120000-ab12")
#' }
#' @export
job_logs <- function(job, platform = NULL) {
  invisible(.call(.client()$job_logs, job, platform = .opt(platform)))
}
