# A stand-in for the blog post's Social_Distancing_Simulations.R: arguments after --args, the mean
# written to $OUTPUT_DIR/output_result_mean.txt (the original wrote /opt/ml/processing/output/...).
args <- commandArgs(trailingOnly = TRUE)
args <- as.numeric(args[args != "--args"])
x_length <- args[1]; y_length <- args[2]; num_people <- args[3]; max_iterations <- args[4]
violations <- vapply(seq_len(max_iterations), function(i) {
  x <- runif(num_people, 0, x_length)
  y <- runif(num_people, 0, y_length)
  d <- as.matrix(dist(cbind(x, y)))
  (sum(d < 6) - num_people) / num_people   # each close pair counts twice: once per person
}, numeric(1))
output_dir <- Sys.getenv("OUTPUT_DIR", ".")
writeLines(format(mean(violations), digits = 15), file.path(output_dir, "output_result_mean.txt"))
