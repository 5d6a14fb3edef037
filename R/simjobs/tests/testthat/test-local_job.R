# A job's hosts on this machine, from R.

test_that("two local hosts share the blocks and give run_simulation()'s mean, seed as digits", {
  skip_without_python()
  output <- file.path(tempdir(), "simjobs-local-job")
  on.exit(unlink(output, recursive = TRUE))
  seed <- "98765432109876543210987654321"
  result <- local_job(people = 100, iterations = 3000, seed = seed, hosts = 2, output = output)
  expect_identical(result$seed, seed)
  expect_identical(result$hosts, c("algo-1", "algo-2"))
  expect_identical(result$output, normalizePath(output))
  expect_true(file.exists(file.path(output, "summary.json")))
  expect_identical(result$mean, run_simulation(people = 100, iterations = 3000, seed = seed)$mean)
  # again into the same folder: nothing left to compute, the same result
  expect_identical(local_job(people = 100, iterations = 3000, seed = seed, hosts = 1, output = output)$mean,
                   result$mean)
})

test_that("your own script runs on every host, with its arguments and the hosts' environment", {
  skip_without_python()
  folder <- file.path(tempdir(), "simjobs-script")
  output <- file.path(tempdir(), "simjobs-script-out")
  on.exit(unlink(c(folder, output), recursive = TRUE))
  dir.create(folder)
  writeLines(c(
    'args <- commandArgs(trailingOnly = TRUE)',
    'host <- Sys.getenv("HOST_INDEX")',
    'writeLines(c(host, Sys.getenv("HOSTS"), args), file.path(Sys.getenv("OUTPUT_DIR"), paste0("host-", host, ".txt")))'
  ), file.path(folder, "main.R"))
  result <- local_job(script = file.path(folder, "main.R"), args = c(1e5, 2), hosts = 2, output = output)
  expect_identical(result$hosts, 2L)
  expect_identical(sort(unlist(result$files)), c("host-0.txt", "host-1.txt"))
  expect_null(result$mean)
  expect_identical(readLines(file.path(output, "host-1.txt")), c("1", "algo-1,algo-2", "--args", "100000", "2"))
})

test_that("simulation arguments with a script, or a folder without one, stop in one line", {
  skip_without_python()
  expect_error(local_job(people = 5, script = "main.R"),
               "^local-job: people is for the bundled simulation, not an R script$")
  expect_error(local_job(folder = "somewhere"), "^local-job: a folder needs a script$")
  expect_error(local_job(args = 1), "^local-job: arguments need a script$")
  expect_error(local_job(hosts = 0), "^hosts must be at least 1, got 0$")
})
