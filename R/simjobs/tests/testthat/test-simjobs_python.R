test_that("simjobs_python() says which Python and whether it has the simulation package", {
  setup <- simjobs_python()
  expect_named(setup, c("available", "python", "version", "message"))
  expect_type(setup$available, "logical")
  if (setup$available) {
    expect_identical(setup$message, "ready")
    expect_true(file.exists(setup$python))
  } else {
    expect_match(setup$message, "RETICULATE_PYTHON")
  }
})
