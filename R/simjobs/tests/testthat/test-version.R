test_that("the R package and the Python package have one version", {
  skip_without_python()
  expect_identical(as.character(packageVersion("simjobs")), simjobs_python()$version)
})
