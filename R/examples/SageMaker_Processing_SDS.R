# The blog post's SageMaker_Processing_SDS.R, as it was, with one change: the ScriptProcessor comes from
# simjobs::script_processor() instead of sagemaker$processing$ScriptProcessor(). No role, bucket, container
# URI, subnet or security group to paste: the platform's execution role, job image, bucket (jobs/<job>/),
# isolated network, runtime cap and tags come from its job config, and an instance type outside the
# platform's allow-list is refused before anything is uploaded.
# Needs: the simjobs package and RETICULATE_PYTHON pointing at a Python with `simulation` and the pinned
# sagemaker 2.x (the RStudio host sets both up). Run from R/examples (or put your script's path in `code`).
library(reticulate)
library(simjobs)
sagemaker <- import('sagemaker')

# one single run (was: sagemaker$processing$ScriptProcessor(role = role_arn, image_uri = container, ...))
processor <- simjobs::script_processor(command = list('/usr/bin/Rscript'),
                                       instance_count = 1L,
                                       instance_type = 'ml.m5.4xlarge',
                                       volume_size_in_gb = 5L,
                                       max_runtime_in_seconds = 3600L,
                                       base_job_name = 'social-distancing-simulation')

max_iterations <- 10000
x_length <- 1000
y_length <- 1000
num_people <- 1000

is_local <- 0 #we are going to run this simulation with SageMaker processing
result=processor$run(code = 'own_script/main.R',   # your Social_Distancing_Simulations.R
              arguments = list('--args', paste(x_length), paste(y_length), paste(num_people), paste(max_iterations),paste(is_local)),
              outputs = list(sagemaker$processing$ProcessingOutput(source = '/opt/ml/processing/output')),
              wait = TRUE,
              logs = TRUE)

# ---- results: the job's output prefix (s3://<platform bucket>/jobs/<job>/output/output-1/)
job_output <- processor$latest_job$outputs[[1]]$destination
simulation_mean <- as.numeric(sagemaker$s3$S3Downloader$read_file(
  paste0(job_output, '/output_result_mean.txt'), sagemaker_session = processor$sagemaker_session))
cat(simulation_mean) #displays about .11
