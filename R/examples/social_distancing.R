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
job <- submit_simulation(width = x_length, height = y_length, people = num_people, radius = 6,
                         iterations = max_iterations, seed = 42,
                         instance_type = "ml.c5.4xlarge", instance_count = 2,
                         wait = TRUE, logs = TRUE)
result <- job_results(job)   # also writes results/<job>/summary.json and histogram.png
cat(result$mean, "\n")       # about 0.11 violations per person
