# Welcome to the simulation workspace.
#
# Your home directory lives on EFS: it survives a replaced or stopped host. Run this file line by line
# (Ctrl+Enter). The Python package behind it is at Sys.getenv("RETICULATE_PYTHON").

# 1. Where your jobs go: the platform's job configuration (bucket, image, allowed instance types).
Sys.getenv(c("SIMLAB_PLATFORM", "SIMLAB_JOB_CONFIG_PARAMETER", "AWS_REGION"))
system2("python", c("-m", "simulation", "--help"))

# 2. A small simulation right here, through reticulate.
library(reticulate)
engine <- import("simulation.engine")
params <- engine$Params(width = 1000, height = 1000, people = 1000L, radius = 6)
# One worker keeps it inside this R session; SageMaker is the place for big runs.
str(engine$run(params, iterations = 200L, seed = 42L, workers = 1L))

# 3. The same on SageMaker Processing, many hosts at once: the simjobs package (see ?simjobs and the
#    examples folder next to this file, when present).
if (requireNamespace("simjobs", quietly = TRUE)) help(package = "simjobs")
