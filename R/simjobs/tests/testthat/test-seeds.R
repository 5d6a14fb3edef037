# Seeds beyond R's numbers travel as digits, both ways, unchanged.
seed_digits <- "267113824195873946823140237518046911257"  # 128 bits, written out by hand

test_that("a seed beyond R's integers comes back to R as its digits", {
  skip_without_python()
  values <- reticulate::import("simulation.client.values", convert = FALSE)
  back <- reticulate::py_to_r(values$for_r(py(seed_digits)))
  expect_identical(back, seed_digits)
  # nested in a result, as job_results() and run_sweep() return it
  result <- reticulate::py_to_r(values$for_r(py(paste0("{'seed': ", seed_digits, ", 'hosts': [1, 2]}"))))
  expect_identical(result$seed, seed_digits)
  expect_identical(result$hosts, c(1L, 2L))
})

test_that("digits given back are taken exactly, a number only while it is exact", {
  skip_without_python()
  values <- reticulate::import("simulation.client.values", convert = FALSE)
  taken <- values$as_int(seed_digits, "seed", 0L)
  expect_identical(reticulate::py_str(taken), seed_digits)
  expect_identical(reticulate::py_to_r(values$as_int(42, "seed", 0L)), 42L)
  error <- caught(simjobs:::.call(values$as_int, 2^60, "seed", 0L))
  expect_identical(
    conditionMessage(error),
    "seed 1.152921504606847e+18 is too large to be exact as a number; give it as digits"
  )
})
