# The future backend's plan: workers, tweaks, and what a plan cannot be given.

test_that("workers is what nbrOfWorkers() reports, tweaked or not", {
  old <- future::plan(sagemaker_local, workers = 3)
  on.exit(future::plan(old))
  expect_identical(future::nbrOfWorkers(), 3L)
  expect_identical(future::nbrOfFreeWorkers(), 3L)
  future::plan(sagemaker_local, instance_count = 1)
  expect_identical(future::nbrOfWorkers(), as.integer(future::availableCores()))
})

test_that("the settings of a tweaked evaluator are read from its formals", {
  evaluator <- future::tweak(sagemaker, instance_type = "ml.c5.xlarge", workers = 8)
  settings <- simjobs:::.evaluator_settings(evaluator)
  expect_identical(settings$instance_type, "ml.c5.xlarge")
  expect_identical(settings$workers, 8)
  expect_false(settings$local)
  expect_true(simjobs:::.evaluator_settings(future::tweak(sagemaker_local, workers = 1))$local)
})
