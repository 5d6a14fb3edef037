#' simjobs: run simulations on SageMaker Processing from R
#'
#' Submit the bundled social-distancing Monte Carlo simulation, or your own R script with its folder, to the
#' platform's SageMaker Processing jobs; watch them, stop them, resume them and read their merged results.
#' Every function is a thin layer over the Python package `simulation.client`, reached through
#' \pkg{reticulate}, so R, the shell (`python -m simulation ...`) and Python share one implementation, one set
#' of defaults and one set of error messages.
#'
#' @section Python:
#' The functions need the Python interpreter that has the `simulation` package. Point `RETICULATE_PYTHON` at
#' it before the first call (the RStudio host and the platform's RSession image do this for you), or call
#' `reticulate::use_python()`. [simjobs_python()] says which interpreter was found and whether it can be
#' used. The platform (image, execution role, bucket, network) is discovered from the SSM parameter
#' `/<platform>/job-config`; nothing about the account is written in this package.
#'
#' @section Environment:
#' The AWS and platform settings are read from the environment on every call: `AWS_DEFAULT_REGION` (or
#' `AWS_REGION`), `AWS_PROFILE`, the `AWS_*` credentials, `SIMLAB_PLATFORM` and the other `SIMLAB_*`
#' variables. After an error such as "no AWS region configured", `Sys.setenv(AWS_DEFAULT_REGION =
#' "eu-west-1")` and call the function again: no restart of R is needed.
#'
#' @section Seeds as digits:
#' A run given no seed draws fresh entropy (128 bits), prints it and returns it. R's numbers cannot hold such
#' integers exactly (doubles are exact up to 2^53, integers stop at 2^31), so every seed comes back to R as a
#' character string of digits (`"2671..."`), and every function takes a seed back that way (`seed =
#' "2671..."`), unchanged to the last digit. A seed given as a number is accepted while it is exact (up to
#' 2^53); a larger one is refused with one line asking for digits.
#'
#' @section Defaults:
#' Arguments left `NULL` take the platform's one set of run defaults, defined once in Python and read from
#' there (see [run_defaults()]), so R, the shell and Python run the same case.
#'
#' @section Resources:
#' Every submitting function takes the same resource arguments (`instance_type`, `instance_count`,
#' `volume_size_gb`, `max_runtime_seconds`, `name`, `image`). They become one Python `Resources` value, checked
#' against the platform's limits (allowed instance types, maximum instances and runtime) before anything
#' reaches AWS. R's doubles are accepted where a whole number is meant (`2` is `2L`); `2.5` instances is an
#' error.
#'
#' @section Errors:
#' A failure arrives in R as an error whose message is one line written for people (for example "instance
#' type 'ml.p4d.24xlarge' is not allowed on platform simlab; choose one of ..."), not a Python traceback.
#' Bad input is refused before anything is created or uploaded.
#'
#' @keywords internal
"_PACKAGE"

# Before Python starts (reticulate starts it on the first import): sagemaker 2.x is pinned on purpose
# (script_processor), so its import-time banner about v3 is noise.
.onLoad <- function(libname, pkgname) {
  if (!nzchar(Sys.getenv("SAGEMAKER_SUPPRESS_V2_WARNING"))) Sys.setenv(SAGEMAKER_SUPPRESS_V2_WARNING = "1")
}
