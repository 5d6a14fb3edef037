# The blog post's simulation written with future.apply (future_vapply over the iterations), run on the platform by
# adding one line: the plan. Batched futures: one future_vapply() call is one job whose hosts run the iterations
# over all their cores; future.seed = 42 gives the same numbers as under any other plan, and as
# job_lapply(..., seed = 42).
#
#   Rscript map_future.R [X_LENGTH Y_LENGTH NUM_PEOPLE MAX_ITERATIONS]
#
# sagemaker_local runs each batch through the platform's local emulation on this machine (free, no AWS); on the
# platform the added line is plan(simjobs::sagemaker, instance_type = "ml.c5.4xlarge", instance_count = 2).
library(future.apply)

args <- as.numeric(commandArgs(trailingOnly = TRUE))
if (length(args) == 0) args <- c(1000, 1000, 1000, 10000)
x_length <- args[1]; y_length <- args[2]; num_people <- args[3]; max_iterations <- args[4]

one_iteration <- function(i) {
  x <- runif(num_people, 0, x_length)
  y <- runif(num_people, 0, y_length)
  d <- as.matrix(dist(cbind(x, y)))
  (sum(d < 6) - num_people) / num_people   # each close pair counts twice: once per person
}

plan(simjobs::sagemaker_local, workers = 2, instance_count = 2)   # the added line
violations <- future_vapply(seq_len(max_iterations), one_iteration, numeric(1), future.seed = 42)
cat(sprintf("%.17g\n", mean(violations)))   # about 0.11 violations per person for the blog's 1000 x 1000, 1000
