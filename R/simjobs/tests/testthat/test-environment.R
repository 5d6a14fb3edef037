test_that("each call hands Python the AWS_* and SIMLAB_* variables R has now", {
  skip_without_python()
  old <- Sys.getenv(c("SIMLAB_PLATFORM", "AWS_DEFAULT_REGION"), unset = NA)
  on.exit({
    for (name in names(old)) if (is.na(old[[name]])) Sys.unsetenv(name) else do.call(Sys.setenv, as.list(old[name]))
  })
  os <- reticulate::import("os", convert = TRUE)
  estimate_cost("ml.c5.xlarge")  # Python has started, with a copy of this environment
  Sys.setenv(SIMLAB_PLATFORM = "elsewhere", AWS_DEFAULT_REGION = "ap-south-1")
  estimate_cost("ml.c5.xlarge")
  expect_identical(os$environ$get("SIMLAB_PLATFORM"), "elsewhere")
  expect_identical(os$environ$get("AWS_DEFAULT_REGION"), "ap-south-1")
  Sys.unsetenv("SIMLAB_PLATFORM")
  estimate_cost("ml.c5.xlarge")
  expect_null(os$environ$get("SIMLAB_PLATFORM"))
})
