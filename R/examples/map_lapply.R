# The blog post's simulation as its readers write it in R: one function per iteration (num_people random
# positions, the distance matrix, pairs closer than 6 counted), vapply over the iterations on one core. To run
# the iterations on the platform's instances, one line changes: vapply becomes job_lapply (see the two lines
# marked below). Each iteration gets its own random-number stream from the seed, so the answer is the same on
# 1 or 20 instances, and the same as future.apply's future_vapply(..., future.seed = 42).
#
#   Rscript map_lapply.R [X_LENGTH Y_LENGTH NUM_PEOPLE MAX_ITERATIONS]
#
# local = TRUE runs the job through the platform's local emulation on this machine (free, no AWS); set it to
# FALSE to run on SageMaker.
library(simjobs)

args <- as.numeric(commandArgs(trailingOnly = TRUE))
if (length(args) == 0) args <- c(1000, 1000, 1000, 10000)
x_length <- args[1]; y_length <- args[2]; num_people <- args[3]; max_iterations <- args[4]

one_iteration <- function(i) {
  x <- runif(num_people, 0, x_length)
  y <- runif(num_people, 0, y_length)
  d <- as.matrix(dist(cbind(x, y)))
  (sum(d < 6) - num_people) / num_people   # each close pair counts twice: once per person
}

# was: violations <- vapply(seq_len(max_iterations), one_iteration, numeric(1))
violations <- unlist(job_lapply(seq_len(max_iterations), one_iteration, seed = 42, instance_count = 2, local = TRUE))
cat(sprintf("%.17g\n", mean(violations)))   # about 0.11 violations per person for the blog's 1000 x 1000, 1000
