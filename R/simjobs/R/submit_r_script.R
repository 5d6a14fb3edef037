#' Run your own R script as a job
#'
#' Ships `folder` (default: the script's folder) and runs `Rscript <script> --args <args>` on every host of
#' one job, in a copy of that folder. Whatever the script writes into `Sys.getenv("OUTPUT_DIR")` lands in
#' the job's S3 output and comes back with [job_results()].
#'
#' @param script The R script, a path on this machine.
#' @param folder The folder shipped with it. `NULL`: the script's folder.
#' @param args Arguments for the script, after `--args` (as `commandArgs(trailingOnly = TRUE)` sees them).
#'   Whole numbers arrive as whole numbers (`1e5` is `"100000"`).
#' @inheritParams submit_simulation
#' @return The job's name (a string), after the job ended when `wait = TRUE`.
#' @section Hosts:
#' With `instance_count > 1` every host runs the whole script: split the work and name output files by
#' `Sys.getenv("HOST_INDEX")` (0-based), `HOSTS` and `CURRENT_HOST`, since all hosts write into one S3
#' prefix. Try it first on this machine with [local_job()] (`script =`).
#' @seealso [local_job()], [build_image()] for packages the job image lacks.
#' @examples
#' \dontrun{
#' job <- submit_r_script("my_sim/main.R", args = c(1000, 1000, 1000, 100, 0), wait = TRUE)
#' job_results(job)
#' }
#' @export
submit_r_script <- function(script, folder = NULL, args = character(), instance_type = NULL,
                            instance_count = NULL, volume_size_gb = NULL,
                            max_runtime_seconds = NULL, name = NULL, platform = NULL,
                            wait = FALSE, logs = TRUE, image = NULL) {
  resources <- .resources(instance_type, instance_count, volume_size_gb, max_runtime_seconds, name, image)
  # as.list, not as.character: R prints 1e5 as "1e+05"; Python formats the doubles as "100000"
  .call(.client()$submit_r_script, script, .opt(folder), as.list(args),
        resources = resources, platform = .opt(platform), wait = isTRUE(wait), logs = isTRUE(logs))
}
