test_that("records become a data frame; NULL fields are NA; none give 0 rows with the columns", {
  empty <- data.frame(job = character(), status = character())
  expect_identical(simjobs:::.frame(list(), c("job", "status"), empty), empty)
  rows <- list(list(job = "a", status = "Completed"), list(job = "b", status = NULL))
  frame <- simjobs:::.frame(rows, c("job", "status"), empty)
  expect_identical(frame$job, c("a", "b"))
  expect_identical(frame$status, c("Completed", NA))
})
