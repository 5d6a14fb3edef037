test_that("run_defaults() is Python's one definition, read from there", {
  skip_without_python()
  python <- reticulate::py_to_r(simjobs:::.python_defaults())
  expect_identical(run_defaults(), python)
  expect_setequal(names(run_defaults()), c("width", "height", "people", "radius", "iterations"))
})

test_that("a plan without iterations prices the default iterations, not a copy", {
  skip_without_python()
  plan <- estimate_cost("ml.c5.xlarge", people = 500)
  expect_identical(plan$iterations, as.integer(run_defaults()$iterations))
  expect_identical(plan$people, 500L)
  expect_identical(plan$width, as.numeric(run_defaults()$width))
  expect_identical(plan$radius, as.numeric(run_defaults()$radius))
})
