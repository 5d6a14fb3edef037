# Your own R script as a job: the folder is shipped, the script runs with its arguments, and what it
# writes into Sys.getenv("OUTPUT_DIR") comes back with job_results().
library(simjobs)

job <- submit_r_script("own_script/main.R", args = c(1000, 1000, 1000, 10000), wait = TRUE)
result <- job_results(job)
cat(result$mean, "\n")
