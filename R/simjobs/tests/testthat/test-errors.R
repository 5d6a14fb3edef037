test_that("a Python error's message becomes its one human line", {
  expect_equal(
    simjobs:::.one_line("simulation.errors.SimulationError: instance count must be a whole number, got 2.5\n"),
    "instance count must be a whole number, got 2.5"
  )
  expect_equal(
    simjobs:::.one_line("simulation.errors.JobFailed: job x failed: OOM\nTraceback (most recent call last):\n  File ..."),
    "job x failed: OOM"
  )
  expect_equal(simjobs:::.one_line("Error in f(): something broke\n  more"), "something broke")
  expect_equal(simjobs:::.one_line("plain message"), "plain message")
})

test_that("an error raised in Python reaches R as one line with no call and no traceback", {
  skip_without_python()
  error <- caught(submit_simulation(instance_count = 2.5))
  expect_s3_class(error, "error")
  expect_identical(conditionMessage(error), "instance count must be a whole number, got 2.5")
  expect_null(conditionCall(error))
})

test_that("every one-line error is one line, whatever Python raised", {
  skip_without_python()
  # a Python error that is not the client's own (a TypeError from a wrong argument)
  error <- caught(simjobs:::.call(simjobs:::.client()$Resources, colour = "red"))
  expect_false(grepl("\n", conditionMessage(error), fixed = TRUE))
  expect_match(conditionMessage(error), "colour")
  expect_null(conditionCall(error))
})
