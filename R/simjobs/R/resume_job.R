#' Finish a stopped, failed or timed-out job
#'
#' Starts a new job with the old one's parameters, seed and block plan that takes over its finished blocks
#' and runs only the missing ones, so the new job's result equals an uninterrupted run to the last bit.
#' Works for simulation jobs, sweeps and map jobs ([job_lapply()], the [sagemaker] backend); a local map job
#' (`job_lapply(local = TRUE)`) is given by its folder and resumes in it.
#'
#' @param job The name of the job to finish.
#' @inheritParams submit_simulation
#' @return The new job's name. Resource arguments left `NULL` keep the old job's (give more instances or a
#'   longer runtime).
#' @section Errors:
#' Refused, in one line, for an unknown job, one still running, a completed one, or an R-script job.
#' @seealso [submit_simulation()], [job_results()].
#' @examples
#' \dontrun{
#' new <- resume_job("simlab-20250101-120000-ab12", instance_count = 4, max_runtime_seconds = 7200)
#' wait_for_job(new)
#' }
#' @export
resume_job <- function(job, instance_type = NULL, instance_count = NULL, volume_size_gb = NULL,
                       max_runtime_seconds = NULL, name = NULL, platform = NULL, wait = FALSE,
                       logs = TRUE, image = NULL) {
  resources <- .resources(instance_type, instance_count, volume_size_gb, max_runtime_seconds, name, image)
  .call(.client()$resume_job, job, resources = resources, platform = .opt(platform),
        wait = isTRUE(wait), logs = isTRUE(logs))
}
