#' Stop a running job
#'
#' Asks SageMaker to stop one job. Its finished blocks are kept: [resume_job()] finishes it later.
#'
#' @param job The job's name.
#' @inheritParams submit_simulation
#' @return The job's status (a list, as [job_status()]).
#' @examples
#' \dontrun{
#' stop_job("simlab-20250101-120000-ab12")$status
#' }
#' @export
stop_job <- function(job, platform = NULL) {
  .call(.client()$stop_job, job, platform = .opt(platform))
}
