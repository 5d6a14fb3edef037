# The streams job_lapply() derives: future.apply's, element by element (its internal make_rng_seeds() is the
# reference), and the caller's RNG moved on as future_lapply() moves it.

test_that("the first stream and its chain are future.apply's for a number and for a L'Ecuyer-CMRG seed", {
  skip_if_not_installed("future.apply")
  make_rng_seeds <- get("make_rng_seeds", envir = asNamespace("future.apply"))
  for (seed in list(42, 1L, .Machine$integer.max)) {
    set.seed(1)
    streams <- simjobs:::.map_streams(seed)
    reference <- make_rng_seeds(5L, seed = seed)
    stream <- streams$first
    for (i in 1:5) {
      expect_identical(parallel::nextRNGSubStream(stream), reference[[i]])
      stream <- parallel::nextRNGStream(stream)
    }
  }
  RNGkind("L'Ecuyer-CMRG"); set.seed(9); lecuyer <- .Random.seed; RNGkind("default")
  expect_identical(simjobs:::.as_lecyer_cmrg_seed(lecuyer), lecuyer)
})

test_that("the caller's RNG moves two draws on, as around future_lapply()", {
  set.seed(3)
  streams <- simjobs:::.map_streams(42)
  simjobs:::.set_random_seed(streams$restore)
  after <- .Random.seed
  set.seed(3)
  invisible(sample.int(1L)); invisible(sample.int(1L))
  expect_identical(after, .Random.seed)
})

test_that("a seed that is not a whole number or a L'Ecuyer-CMRG seed is one line", {
  for (seed in list(1.5, "42", c(1, 2), NA_real_, 2^40)) {
    error <- caught(simjobs:::.as_lecyer_cmrg_seed(seed))
    expect_identical(
      conditionMessage(error),
      "seed must be NULL, a whole number (as set.seed() takes) or a L'Ecuyer-CMRG seed of 7 integers"
    )
  }
})

test_that("a fresh seed is a whole number set.seed() takes and leaves the caller's RNG alone", {
  set.seed(5)
  before <- .Random.seed
  seeds <- replicate(20, simjobs:::.fresh_seed())
  expect_identical(.Random.seed, before)
  expect_true(is.integer(seeds) && all(seeds >= 1L))
  expect_gt(length(unique(seeds)), 15L)
})
