# job_lapply() in local mode (the platform's Processing emulation on this machine): what a map costs per element,
# what it ships and returns, and the blog's simulation over 2 emulated hosts against plain lapply on one core.
# Prints tables (docs/performance.md keeps them, dated).
#
#   RETICULATE_PYTHON=.venv/bin/python Rscript benchmarks/job_lapply.R [ELEMENTS] [ITERATIONS] [PEOPLE]
#
# ELEMENTS (default 100000) trivial elements: the overhead per element, end to end (payload written, hosts started,
# streams derived, blocks evaluated and written, gathered, read back, the list assembled) minus the job's start-up,
# measured as a one-element job's time. ITERATIONS (default 1000) of the simulation with PEOPLE (default 1000).
# Needs simjobs installed (R CMD INSTALL R/simjobs) and the Python package (the project's venv).
suppressPackageStartupMessages(library(simjobs))

args <- as.numeric(commandArgs(trailingOnly = TRUE))
elements <- if (length(args) >= 1) args[[1]] else 1e5
iterations <- if (length(args) >= 2) args[[2]] else 1000
people <- if (length(args) >= 3) args[[3]] else 1000

work <- tempfile("job-lapply-bench-")
dir.create(work)
owd <- setwd(work)
on.exit(setwd(owd))

seconds <- function(expr) {
  started <- proc.time()[["elapsed"]]
  force(expr)
  proc.time()[["elapsed"]] - started
}
latest_job <- function() {
  jobs <- list.files(file.path(work, "out", "local-map"), full.names = TRUE)
  jobs[order(file.info(jobs)$mtime, decreasing = TRUE)][[1]]
}
folder_bytes <- function(path, pattern) sum(file.size(list.files(path, pattern = pattern, full.names = TRUE)))

cat(sprintf("job_lapply local mode, %s, R %s, %d cores, load average %s\n", format(Sys.time(), "%Y-%m-%d %H:%M"),
            getRversion(), parallel::detectCores(),
            tryCatch(strsplit(readLines("/proc/loadavg"), " ")[[1]][1], error = function(e) "?")))

# --- overhead per element --------------------------------------------------------------------------------------
trivial <- function(i) i
invisible(job_lapply(1L, trivial, seed = 1, local = TRUE))  # warm: Python and the client imported once
cat("\nper-element overhead (trivial FUN = function(i) i, seeded)\n")
cat(sprintf("%-6s %-10s %-10s %-10s %-14s %-12s %-12s\n", "hosts", "elements", "total s", "start-up s",
            "us / element", "shipped", "returned"))
for (hosts in c(1, 2)) {
  startup <- seconds(job_lapply(1L, trivial, seed = 1, local = TRUE, instance_count = hosts))
  total <- seconds(x <- job_lapply(seq_len(elements), trivial, seed = 1, local = TRUE, instance_count = hosts))
  stopifnot(length(x) == elements, identical(x[[elements]], as.integer(elements)))
  job <- latest_job()
  shipped <- folder_bytes(file.path(job, "code"), "^map\\.(rds|json)$|^map_host\\.R$")
  returned <- folder_bytes(file.path(job, "output", "blocks"), "\\.(rds|json)$")
  cat(sprintf("%-6d %-10d %-10.2f %-10.2f %-14.1f %-12s %-12s\n", hosts, as.integer(elements), total, startup,
              1e6 * (total - startup) / elements, format(structure(shipped, class = "object_size"), units = "auto"),
              format(structure(returned, class = "object_size"), units = "auto")))
}

# --- the blog's simulation: 2 emulated hosts vs lapply on one core -------------------------------------------------
one_iteration <- function(i) {
  x <- runif(people, 0, 1000)
  y <- runif(people, 0, 1000)
  d <- as.matrix(dist(cbind(x, y)))
  (sum(d < 6) - people) / people
}
environment(one_iteration) <- list2env(list(people = people), parent = globalenv())
RNGkind("L'Ecuyer-CMRG")
set.seed(42)
plain <- seconds(reference <- lapply(seq_len(iterations), one_iteration))
RNGkind("default")
# The ceiling this machine allows right now: the two halves in two forked R processes at once, nothing else (on a
# shared machine the neighbours' load moves it; the job is judged against it as well as against lapply).
ceiling <- seconds(parallel::mccollect(list(
  parallel::mcparallel(lapply(seq_len(iterations %/% 2), one_iteration)),
  parallel::mcparallel(lapply(seq_len(iterations - iterations %/% 2), one_iteration))
)))
startup <- seconds(job_lapply(1L, trivial, seed = 1, local = TRUE, instance_count = 2))
mapped <- seconds(got <- job_lapply(seq_len(iterations), one_iteration, seed = 42, local = TRUE,
                                    instance_count = 2))
cat(sprintf("\nsimulation: %d iterations of %d people (distance matrix per iteration)\n", as.integer(iterations),
            as.integer(people)))
cat(sprintf("%-38s %-10s %-10s\n", "run", "seconds", "speed-up"))
cat(sprintf("%-38s %-10.2f %-10s\n", "lapply, one core", plain, "1.00"))
cat(sprintf("%-38s %-10.2f %-10.2f\n", "two forked halves at once (ceiling)", ceiling, plain / ceiling))
cat(sprintf("%-38s %-10.2f %-10.2f\n", "job_lapply, 2 local hosts", mapped, plain / mapped))
cat(sprintf("%-38s %-10.2f %-10.2f\n", "  the same minus its start-up", mapped - startup, plain / (mapped - startup)))
cat(sprintf("job_lapply reaches %.0f%% of the ceiling's speed (%.0f%% without its start-up)\n",
            100 * ceiling / mapped, 100 * ceiling / (mapped - startup)))
manifests <- list.files(file.path(latest_job(), "output", "hosts"), full.names = TRUE)
host_seconds <- vapply(manifests, function(path) {
  as.numeric(sub(".*\"seconds\": ([0-9.]+).*", "\\1", paste(readLines(path), collapse = " ")))
}, numeric(1))
cat(sprintf("hosts' seconds: %s\n", paste(sprintf("%s %.2f", sub("\\.json$", "", basename(manifests)),
                                                     host_seconds), collapse = ", ")))
cat(sprintf("mean violations per person %.6f (lapply) vs %.6f (job_lapply; other streams, the same expectation)\n",
            mean(unlist(reference)), mean(unlist(got))))
