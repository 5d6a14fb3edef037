if (simjobs_python()$available) {
  # Offline, through the local Processing emulation: two emulated hosts on this machine.
  owd <- setwd(tempdir())
  noisy <- function(i, scale) i^2 + scale * rnorm(1)
  x <- job_lapply(1:6, noisy, scale = 0.1, seed = 42, local = TRUE, instance_count = 2)
  str(unlist(x))
  # the same numbers, bit for bit, as future.apply gives them (and as one host or ten would)
  if (requireNamespace("future.apply", quietly = TRUE)) {
    y <- future.apply::future_lapply(1:6, noisy, scale = 0.1, future.seed = 42)
    stopifnot(identical(unlist(x), unlist(y)))
  }
  # a failing element does not lose the others
  z <- job_lapply(1:3, function(i) if (i == 2) stop("no 2") else i, seed = 1, local = TRUE,
                  errors = "keep")
  attr(z, "failed")
  setwd(owd)
}
\dontrun{
# On the platform: one job, 4 instances, each over all its cores
x <- job_lapply(1:10000, function(i) mean(rnorm(1e5)), seed = 42,
                instance_type = "ml.c5.4xlarge", instance_count = 4)
}
