# What a map ships besides X, found as future finds globals, and the one-line refusals.

test_that("globals are found recursively, packages by use and by pkg::", {
  offset <- 10
  helper <- function(x) x + offset
  FUN <- function(i) helper(i) * stats::sd(c(1, 3)) + median(c(i, 1))
  found <- simjobs:::.find_globals(FUN)
  expect_setequal(names(found$globals), c("helper", "offset"))
  expect_identical(found$globals$offset, 10)
  expect_true("stats" %in% found$packages)
  expect_identical(found$namespaces, "stats")
  shipped <- simjobs:::.map_globals(FUN, list(X = 1:3), packages = "tools")
  expect_true(all(c("stats", "tools") %in% shipped$packages))
  expect_identical(shipped$needed, character())  # base R's packages are never asked of an image
})

test_that("a closure's variables are found where it was made; a primitive has none", {
  make <- function(k) function(i) i * k
  expect_identical(simjobs:::.find_globals(make(2))$globals, list(k = 2))
  expect_identical(names(simjobs:::.find_globals(sqrt)$globals), character())
})

# FUN as a user writes it at the prompt: its environment is the global environment (a function made inside
# another one carries that function's environment, which is shipped with it).
at_prompt <- function(code, ...) {
  values <- list(...)
  for (name in names(values)) assign(name, values[[name]], envir = globalenv())
  eval(parse(text = code)[[1]], globalenv())
}

test_that("a connection among the globals or in X is refused in one line", {
  con <- file(tempfile(), "w")
  on.exit({ close(con); rm("simjobs_test_con", envir = globalenv()) })
  FUN <- at_prompt('function(i) writeLines("x", simjobs_test_con)', simjobs_test_con = con)
  error <- caught(simjobs:::.map_globals(FUN, list(X = 1)))
  expect_match(conditionMessage(error), "^global 'simjobs_test_con' of FUN is or holds a connection")
  error <- caught(simjobs:::.map_globals(at_prompt("function(i) i"), list(X = list(con))))
  expect_match(conditionMessage(error), "^'X' is or holds a connection")
})

test_that("a payload beyond the limit is refused in one line naming the largest part", {
  old <- options(simjobs.globals.maxSize = 1024^2)
  on.exit({ options(old); rm("big", envir = globalenv()) })
  FUN <- at_prompt("function(i) big[i]", big = numeric(2e5))
  error <- caught(simjobs:::.map_globals(FUN, list(X = 1:3)))
  expect_identical(
    conditionMessage(error),
    "FUN, its globals and X take 1.5 MiB, more than the 1.0 MiB a job ships (largest: 'big', 1.5 MiB); raise options(simjobs.globals.maxSize) or ship less"
  )
})

test_that("a package missing where the job's R runs is one line saying how to add it", {
  expect_identical(simjobs:::.missing_here(c("stats", "simjobsNoSuchPackage")), "simjobsNoSuchPackage")
  error <- caught(simjobs:::.stop_missing("simjobsNoSuchPackage", "the job image"))
  expect_identical(
    conditionMessage(error),
    "R package 'simjobsNoSuchPackage' is not installed in the job image; build an image that has it with build_image(r_packages = c(\"simjobsNoSuchPackage\")) and pass it as image ="
  )
})
