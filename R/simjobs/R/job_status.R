#' A job's status
#'
#' Asks SageMaker about one job of the platform.
#'
#' @param job The job's name.
#' @inheritParams submit_simulation
#' @return A list with `status` (`"InProgress"`, `"Completed"`, `"Failed"`, `"Stopped"`...),
#'   `failure_reason`, `exit_message`, `duration_seconds`, `output` (the job's S3 output prefix) and more.
#' @seealso [wait_for_job()], [list_jobs()].
#' @examples
#' \dontrun{
#' job_status("simlab-20250101-120000-ab12")$status
#' }
#' @export
job_status <- function(job, platform = NULL) {
  .call(.client()$job_status, job, platform = .opt(platform))
}
