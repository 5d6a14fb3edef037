if (simjobs_python()$available && requireNamespace("future.apply", quietly = TRUE)) {
  # Offline, through the local Processing emulation: one added line, the plan.
  owd <- setwd(tempdir())
  oplan <- future::plan(simjobs::sagemaker_local, workers = 2)
  x <- future.apply::future_lapply(1:4, function(i) {
    message("element ", i)            # relayed when the value is collected
    i + rnorm(1)
  }, future.seed = 42)
  future::plan(oplan)
  str(unlist(x))
  setwd(owd)
}
\dontrun{
# On the platform: futures of one future_lapply() become one job on 4 ml.c5.4xlarge instances
future::plan(simjobs::sagemaker, instance_type = "ml.c5.4xlarge", instance_count = 4)
y <- future.apply::future_sapply(1:10000, function(i) mean(rnorm(1e5)), future.seed = TRUE)
}
