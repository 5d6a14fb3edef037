#' The SageMaker SDK's ScriptProcessor, confined to the platform
#'
#' The original workflow's `sagemaker$processing$ScriptProcessor(...)`, built from the platform's job
#' config: its execution role, image, isolated network, bucket (code and outputs under `jobs/<job>/`),
#' runtime cap and tags. `processor$run(code = ..., arguments = list("--args", ...), outputs = ...)` then
#' works unchanged.
#'
#' @param instance_count Instances (hosts).
#' @param command The command the image runs the code with.
#' @param ... Other constructor arguments (`volume_size_in_gb`, `max_runtime_in_seconds`, `base_job_name`,
#'   `env`, `tags`) pass through; `role`, `image_uri`, `network_config` and `sagemaker_session` are the
#'   platform's and are refused.
#' @inheritParams submit_simulation
#' @return A `sagemaker.processing.ScriptProcessor` (SageMaker Python SDK 2.x) Python object.
#' @examples
#' \dontrun{
#' processor <- script_processor(instance_type = "ml.m5.4xlarge", volume_size_in_gb = 5L)
#' processor$run(code = "main.R", arguments = list("--args", "1000"), wait = TRUE)
#' }
#' @export
script_processor <- function(platform = NULL, instance_type = NULL, instance_count = 1, image = NULL,
                             command = list("Rscript"), ...) {
  .call(.client()$script_processor, platform = .opt(platform), instance_type = .opt(instance_type),
        instance_count = instance_count, image = .opt(image), command = as.list(command), ...)
}
