#' Follow a job until it ends
#'
#' Prints every host's log (like `ScriptProcessor$run(logs = TRUE)`) and, for the bundled simulation, a
#' progress bar of blocks done / total, counted in the job's S3 output while it runs.
#'
#' @param job The job's name.
#' @param logs `TRUE`: print the hosts' logs as they come.
#' @param poll_seconds Seconds between two looks at the job.
#' @inheritParams submit_simulation
#' @return The job's final status (a list, as [job_status()]), invisibly.
#' @section Errors:
#' Stops with the job's failure reason when it failed or was stopped. Interrupting R leaves the job
#' running; [stop_job()] stops it.
#' @examples
#' \dontrun{
#' wait_for_job("simlab-20250101-120000-ab12", logs = FALSE)
#' }
#' @export
wait_for_job <- function(job, logs = TRUE, poll_seconds = 10, platform = NULL) {
  invisible(.call(.client()$wait_for_job, job, platform = .opt(platform), logs = isTRUE(logs),
                  poll_seconds = poll_seconds))
}
