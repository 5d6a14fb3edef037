# job_lapply()'s refusals that need no job, and its values through the local emulation.

test_that("FUN that is not a function, and an empty X, need no job", {
  error <- caught(job_lapply(1:3, 42))
  expect_identical(conditionMessage(error), "FUN must be a function or the name of one, not a numeric (42)")
  expect_identical(job_lapply(list(), stop), list())
  expect_identical(job_lapply(character(0), nchar), list())
})

test_that("container = without local = TRUE is refused", {
  error <- caught(job_lapply(1:2, sqrt, seed = 1, container = "img"))
  expect_identical(
    conditionMessage(error),
    "container = runs an emulated host in an image on this machine: it needs local = TRUE"
  )
})

test_that("a local map gives lapply's values, in order, with names", {
  skip_without_python()
  skip_if_not_installed("future.apply")
  owd <- setwd(tempdir())
  on.exit(setwd(owd))
  x <- c(a = 1, b = 4, c = 9)
  expect_identical(job_lapply(x, sqrt, seed = 1, local = TRUE), lapply(x, sqrt))
  got <- job_lapply(1:5, function(i) runif(1), seed = 7, local = TRUE, block_size = 2)
  expect_identical(got, future.apply::future_lapply(1:5, function(i) runif(1), future.seed = 7))
})
