# The blog post's Social_Distancing_Simulations.R as a job on one or many hosts.
#   Rscript main.R --args X_LENGTH Y_LENGTH NUM_PEOPLE MAX_ITERATIONS [IS_LOCAL] [SEED]
# Every host of a job runs this whole script. Each takes its own share of the iterations (split by HOST_INDEX,
# 0-based, out of the HOSTS list) and draws from its own L'Ecuyer-CMRG stream (the seed's stream advanced
# HOST_INDEX times, as parallel::clusterSetRNGStream gives worker i its stream), so hosts never repeat each
# other's numbers and the same seed and host count give the same values. Each host writes its iterations to
# iterations/<CURRENT_HOST>.csv (one name per host: all hosts write into one S3 prefix); `local-job` and
# `results` put the hosts' files together into iterations.csv, summary.json, output_result_mean.txt and
# histogram.png. A single host also writes output_result_mean.txt itself, as the original did.
args <- commandArgs(trailingOnly = TRUE)
args <- as.numeric(args[args != "--args"])
x_length <- args[1]; y_length <- args[2]; num_people <- args[3]; max_iterations <- args[4]
seed <- if (length(args) >= 6) args[6] else 1

hosts <- strsplit(Sys.getenv("HOSTS", "algo-1"), ",")[[1]]
host_index <- as.integer(Sys.getenv("HOST_INDEX", "0"))
current_host <- Sys.getenv("CURRENT_HOST", hosts[host_index + 1])

# This host's iterations: contiguous shares as even as possible (10 over 3 hosts: 1-3, 4-7, 8-10).
mine <- parallel::splitIndices(max_iterations, length(hosts))[[host_index + 1]]

# This host's random-number stream.
RNGkind("L'Ecuyer-CMRG")
set.seed(seed)
stream <- .Random.seed
for (i in seq_len(host_index)) stream <- parallel::nextRNGStream(stream)
assign(".Random.seed", stream, envir = globalenv())

violations <- vapply(mine, function(i) {
  x <- runif(num_people, 0, x_length)
  y <- runif(num_people, 0, y_length)
  d <- as.matrix(dist(cbind(x, y)))
  (sum(d < 6) - num_people) / num_people   # each close pair counts twice: once per person
}, numeric(1))

output_dir <- Sys.getenv("OUTPUT_DIR", ".")
dir.create(file.path(output_dir, "iterations"), showWarnings = FALSE)
write.csv(data.frame(iteration = mine, violations_per_person = violations),
          file.path(output_dir, "iterations", paste0(current_host, ".csv")), row.names = FALSE)
if (length(hosts) == 1) {
  writeLines(format(mean(violations), digits = 15), file.path(output_dir, "output_result_mean.txt"))
}
