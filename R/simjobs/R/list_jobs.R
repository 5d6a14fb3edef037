#' The platform's recent jobs
#'
#' Lists the platform's processing jobs, newest first.
#'
#' @param limit At most this many jobs.
#' @param status Only jobs in this status (`"InProgress"`, `"Completed"`, `"Failed"`, `"Stopping"`,
#'   `"Stopped"`). `NULL`: any.
#' @inheritParams submit_simulation
#' @return A data frame with columns `job`, `status`, `created`, `duration_seconds`, `failure_reason` and
#'   `kind` (`"map"` for the jobs of [job_lapply()] and the [sagemaker] future backend, else `NA`) (0 rows
#'   when there are none).
#' @seealso [job_status()].
#' @examples
#' \dontrun{
#' list_jobs(limit = 5, status = "InProgress")
#' }
#' @export
list_jobs <- function(limit = 20, status = NULL, platform = NULL) {
  rows <- .call(.client()$list_jobs, platform = .opt(platform), limit = limit, status = .opt(status))
  .frame(rows, c("job", "status", "created", "duration_seconds", "failure_reason", "kind"),
         empty = data.frame(job = character(), status = character(), created = character(),
                            duration_seconds = numeric(), failure_reason = character(), kind = character()))
}
