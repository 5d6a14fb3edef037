# The bundled simulation on this machine, from R.
seed_digits <- "267113824195873946823140237518046911257"  # 128 bits, beyond every R number

test_that("a seed given as digits comes back as the same digits and repeats the sample", {
  skip_without_python()
  first <- run_simulation(people = 100, iterations = 1000, seed = seed_digits, workers = 1)
  expect_identical(first$seed, seed_digits)
  again <- run_simulation(people = 100, iterations = 1000, seed = first$seed, workers = 2)
  expect_identical(again$mean, first$mean)  # the same streams whatever the number of workers
})

test_that("a run without a seed returns the seed it drew, which repeats it", {
  skip_without_python()
  fresh <- run_simulation(people = 100, iterations = 1000)
  expect_type(fresh$seed, "character")  # 128 bits of entropy: digits
  expect_match(fresh$seed, "^[0-9]+$")
  expect_identical(run_simulation(people = 100, iterations = 1000, seed = fresh$seed)$mean, fresh$mean)
})

test_that("arguments left NULL take the run defaults from Python", {
  skip_without_python()
  result <- run_simulation(people = 100, iterations = 1000, seed = 1)
  defaults <- run_defaults()
  expect_identical(result$width, as.numeric(defaults$width))
  expect_identical(result$height, as.numeric(defaults$height))
  expect_identical(result$radius, as.numeric(defaults$radius))
  expect_identical(result$iterations, 1000L)
})

test_that("the mean is near the exact expectation (N-1)p of the case", {
  skip_without_python()
  # 300 people in a 100 x 100 area, radius 2. p, the chance that two uniform points of a w x h rectangle are
  # closer than r <= min(w, h), in closed form: (pi r^2 w h - 4/3 r^3 (w + h) + r^4 / 2) / (w h)^2
  w <- 100; h <- 100; r <- 2
  p <- (pi * r^2 * w * h - 4 / 3 * r^3 * (w + h) + r^4 / 2) / (w * h)^2
  result <- run_simulation(width = w, height = h, people = 300, radius = r, iterations = 3000, seed = 3)
  expect_equal(result$analytic_mean, 299 * p, tolerance = 1e-9)
  expect_lt(abs(result$mean - 299 * p), 4 * result$se)
})

test_that("bad values stop in one line before anything runs", {
  skip_without_python()
  expect_error(run_simulation(people = 1.5), "^people must be a whole number, got 1.5$")
  expect_error(run_simulation(people = 1), "^people must be at least 2, got 1$")
  expect_error(run_simulation(width = -1), "^width must be a positive finite number, got -1.0$")
  expect_error(run_simulation(seed = 2^60),
               "^seed 1.152921504606847e\\+18 is too large to be exact as a number; give it as digits$")
  expect_error(run_simulation(people = 2e7), "^run: --people 20000000 is more than 10,000,000")
})
