# Arguments on their way to Python: NULL stays None, vectors become lists, resources become one value.

# NULL stays None; R's doubles are accepted where Python wants whole numbers (2 == 2L).
.opt <- function(x) if (is.null(x)) NULL else x

# A vector as a Python list, even of length one (a sweep's values, an R script's arguments).
.vec <- function(x) if (is.null(x)) NULL else as.list(x)

# What a job runs on: one Python `Resources` value, built the same way for every submitting function.
.resources <- function(instance_type = NULL, instance_count = NULL, volume_size_gb = NULL,
                       max_runtime_seconds = NULL, name = NULL, image = NULL) {
  .call(.client()$Resources, instance_type = .opt(instance_type), instance_count = .opt(instance_count),
        volume_size_gb = .opt(volume_size_gb), max_runtime_seconds = .opt(max_runtime_seconds),
        name = .opt(name), image = .opt(image))
}
