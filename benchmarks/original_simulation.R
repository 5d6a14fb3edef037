# The original algorithm of the blog post's Social_Distancing_Simulations.R, kept as the benchmark's
# baseline: per iteration all N(N-1)/2 distances with dist(), each rounded to 5 decimals through lapply,
# pairs below 6 counted, iterations spread with foreach over doParallel workers. No seed, as in the original.
#
#   Rscript original_simulation.R --args X_LENGTH Y_LENGTH NUM_PEOPLE MAX_ITERATIONS IS_LOCAL
#
# IS_LOCAL=1 runs on one worker. Prints the mean violations per person and the seconds the iterations took
# (R start-up excluded), and writes the mean to $OUTPUT_DIR/output_result_mean.txt when OUTPUT_DIR is set.
suppressPackageStartupMessages(library(doParallel))

args <- commandArgs(trailingOnly = TRUE)
args <- args[args != "--args"]
if (length(args) != 5) {
  stop("usage: Rscript original_simulation.R --args X_LENGTH Y_LENGTH NUM_PEOPLE MAX_ITERATIONS IS_LOCAL")
}
x_length <- as.numeric(args[1])
y_length <- as.numeric(args[2])
num_people <- as.integer(args[3])
max_iterations <- as.integer(args[4])
is_local <- as.integer(args[5])

workers <- if (is_local == 1) 1 else detectCores()
registerDoParallel(cores = workers)

one_iteration <- function(i) {
  x <- runif(num_people, 0, x_length)
  y <- runif(num_people, 0, y_length)
  distances <- dist(cbind(x, y))
  rounded <- lapply(distances, round, 5)
  violations <- 2 * sum(unlist(rounded) < 6)
  violations / num_people
}

started <- Sys.time()
results <- foreach(i = 1:max_iterations, .combine = c) %dopar% one_iteration(i)
seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))

simulation_mean <- mean(results)
cat(sprintf("mean %.6f\n", simulation_mean))
cat(sprintf("seconds %.6f\n", seconds))
output_dir <- Sys.getenv("OUTPUT_DIR")
if (nzchar(output_dir)) {
  writeLines(format(simulation_mean), file.path(output_dir, "output_result_mean.txt"))
}
