# The original workflow (pasted container URI, ScriptProcessor through reticulate, `aws s3 cp` of one
# number) in a few lines: the platform's image, role, bucket and network come from its job config.
# Needs: install.packages("R/simjobs", repos = NULL, type = "source") once, and RETICULATE_PYTHON
# pointing at the Python that has the `simulation` package (the RStudio host sets both).
library(simjobs)

x_length <- 1000
y_length <- 1000
num_people <- 1000
max_iterations <- 10000

print(estimate_cost("ml.c5.4xlarge", people = 1000, iterations = 10000)$text)  # job vs. this machine
# No seed: fresh entropy, printed on submission and kept in result$seed (as digits); pass it back as
# seed = "..." to repeat this very sample. wait = TRUE shows blocks done / total while the job runs.
job <- submit_simulation(width = x_length, height = y_length, people = num_people, radius = 6,
                         iterations = max_iterations,
                         instance_type = "ml.c5.4xlarge", instance_count = 2,
                         wait = TRUE, logs = TRUE)
# Stopped, failed or out of time? Its finished blocks are kept: only the missing ones run again.
#   job <- resume_job(job, max_runtime_seconds = 7200); wait_for_job(job)
result <- job_results(job)   # also writes results/<job>/summary.json and histogram.png
cat(result$mean, result$seed, "\n")   # about 0.11 violations per person
