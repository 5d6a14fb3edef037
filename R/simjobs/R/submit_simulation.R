#' Submit the bundled simulation as a job
#'
#' Runs the social-distancing Monte Carlo simulation (people placed uniformly in a `width` x `height` area,
#' pairs closer than `radius` counted, `iterations` times) as one SageMaker Processing job on the platform.
#' The iterations are split into blocks of about 1,000 that the job's hosts share, so the result does not
#' depend on how many instances ran it, and a stopped job can be finished by [resume_job()].
#'
#' @param width,height The area's size. `NULL`: the platform's default (see [run_defaults()]).
#' @param people People placed in each iteration (a whole number, at least 2). `NULL`: the default.
#' @param radius The distance counted as a violation. `NULL`: the default.
#' @param iterations Iterations (a whole number). `NULL`: the default.
#' @param seed The seed, as digits (`"1234..."`) or a whole number up to 2^53. `NULL`: fresh entropy,
#'   printed when the job is submitted and returned as `job_results(job)$seed`.
#' @param instance_type An instance type the platform allows (e.g. `"ml.c5.xlarge"`). `NULL`: the platform's
#'   default type.
#' @param instance_count Instances (hosts). `NULL`: one.
#' @param volume_size_gb Storage per host in GB. `NULL`: the client's default.
#' @param max_runtime_seconds Seconds after which AWS stops the job. `NULL`: the platform's cap.
#' @param name A short name for the job (letters, digits, hyphens); the job name starts with the platform's
#'   prefix. `NULL`: a generated one.
#' @param platform The platform name (its job config is SSM `/<platform>/job-config`). `NULL`:
#'   `SIMLAB_PLATFORM`, else `"simlab"`.
#' @param wait `TRUE`: follow the job until it ends (see [wait_for_job()]).
#' @param logs With `wait = TRUE`, print every host's log while waiting.
#' @param image The bundled job image (`NULL`) or one of yours from [build_image()], in the platform's user
#'   repository.
#' @return The job's name (a string), after the job ended when `wait = TRUE`.
#' @section Seeds as digits:
#' A fresh seed has 128 bits: it comes back to R as digits and goes in again as digits (`seed =
#' "2671..."`), exactly. Two submissions without a seed are independent samples that may be pooled.
#' @section Resources:
#' `instance_type`, `instance_count`, `volume_size_gb`, `max_runtime_seconds`, `name` and `image` become
#' one Python `Resources` value, checked against the platform's limits before anything reaches AWS; a
#' value outside them stops the call with one line naming it.
#' @seealso [estimate_cost()] to plan, [job_results()], [resume_job()], [run_simulation()] and [local_job()]
#'   to run the same case on this machine.
#' @examples
#' \dontrun{
#' job <- submit_simulation(people = 1000, iterations = 10000, instance_type = "ml.c5.4xlarge",
#'                          instance_count = 2, wait = TRUE)
#' job_results(job)$mean
#' }
#' @export
submit_simulation <- function(width = NULL, height = NULL, people = NULL, radius = NULL,
                              iterations = NULL, seed = NULL, instance_type = NULL,
                              instance_count = NULL, volume_size_gb = NULL,
                              max_runtime_seconds = NULL, name = NULL, platform = NULL,
                              wait = FALSE, logs = TRUE, image = NULL) {
  resources <- .resources(instance_type, instance_count, volume_size_gb, max_runtime_seconds, name, image)
  .call(.client()$submit_simulation, .opt(width), .opt(height), .opt(people), .opt(radius),
        .opt(iterations), .opt(seed), resources = resources, platform = .opt(platform),
        wait = isTRUE(wait), logs = isTRUE(logs))
}
