test_that("NULL stays NULL and vectors become lists, even of length one", {
  expect_null(simjobs:::.opt(NULL))
  expect_identical(simjobs:::.opt(3), 3)
  expect_null(simjobs:::.vec(NULL))
  expect_identical(simjobs:::.vec(c(250, 500)), list(250, 500))
  expect_identical(simjobs:::.vec(6), list(6))
})

test_that("resource arguments become one Python Resources value, R doubles as whole numbers", {
  skip_without_python()
  resources <- simjobs:::.resources(instance_type = "ml.c5.xlarge", instance_count = 2, volume_size_gb = 30,
                                    max_runtime_seconds = 3600, name = "trial", image = NULL)
  expect_identical(class(resources)[1], "simulation.client.resources.Resources")
  expect_identical(resources$instance_type, "ml.c5.xlarge")
  expect_identical(resources$instance_count, 2L)  # a Python int, though R passed the double 2
  expect_identical(resources$volume_size_gb, 30L)
  expect_identical(resources$max_runtime_seconds, 3600L)
  expect_identical(resources$name, "trial")
  expect_null(resources$image)  # None: the platform's default image when the job is built
})

test_that("resource arguments left NULL stay None, for the platform's defaults", {
  skip_without_python()
  resources <- simjobs:::.resources()
  for (field in c("instance_type", "instance_count", "volume_size_gb", "max_runtime_seconds", "name", "image")) {
    expect_null(resources[[field]])
  }
})

test_that("bad resource values are refused in one line naming the value", {
  skip_without_python()
  expect_error(simjobs:::.resources(instance_count = 0), "^instance count must be at least 1, got 0$")
  expect_error(simjobs:::.resources(volume_size_gb = 1.5), "^volume size must be a whole number, got 1.5$")
  expect_error(simjobs:::.resources(name = "no spaces"), "^invalid job name 'no spaces': use 1-63 letters")
  expect_error(simjobs:::.resources(instance_type = ""), "^instance type must be a non-empty string")
})
