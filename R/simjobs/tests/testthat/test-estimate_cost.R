test_that("instance-hours are priced: count x hours x the table's hourly price", {
  skip_without_python()
  cost <- estimate_cost("ml.c5.xlarge", instance_count = 2, hours = 1.5)
  expect_equal(cost$usd, 2 * 1.5 * 0.204)  # ml.c5.xlarge lists at $0.204 an hour
  expect_equal(cost$instance_hours, 3)
  expect_equal(estimate_cost("ml.c5.xlarge")$usd, 0.204)  # one instance, one hour
})

test_that("an unknown type has NA prices rather than NULL", {
  skip_without_python()
  expect_true(is.na(estimate_cost("ml.unknown")$usd))
  plan <- estimate_cost("ml.unknown", people = 1000)
  expect_true(is.na(plan$predicted_seconds))
  expect_true(is.na(plan$compute_seconds_per_host))
})

test_that("a workload is timed by the model, not priced by hours", {
  expect_error(estimate_cost("ml.c5.xlarge", hours = 2, people = 1000),
               "^estimate_cost: hours prices instance-hours; a workload is timed by the model$")
})

test_that("bad values stop in one line", {
  skip_without_python()
  expect_error(estimate_cost("ml.c5.xlarge", instance_count = 2.5), "^instance count must be a whole number, got 2.5$")
  expect_error(estimate_cost("ml.c5.xlarge", hours = -1), "^hours must not be negative, got -1.0$")
})
