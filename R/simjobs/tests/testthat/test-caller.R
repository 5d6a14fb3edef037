test_that("Python sees SIMLAB_CALLER=r during a call, and nothing after it", {
  skip_without_python()
  os <- reticulate::import("os", convert = TRUE)
  during <- simjobs:::.call(function() os$environ$get("SIMLAB_CALLER"))
  expect_identical(during, "r")
  # a call inside a call (an argument that calls Python) keeps it until the outer one ends
  nested <- simjobs:::.call(function(x) c(x, os$environ$get("SIMLAB_CALLER")),
                            simjobs:::.call(function() "inner"))
  expect_identical(nested, c("inner", "r"))
  expect_null(os$environ$get("SIMLAB_CALLER"))
  expect_identical(Sys.getenv("SIMLAB_CALLER"), "")  # R's own system() commands get the shell's hints
  expect_error(simjobs:::.call(function() stop("boom")))
  expect_null(os$environ$get("SIMLAB_CALLER"))  # also after a call that failed
})

test_that("hints name R functions, not shell commands", {
  skip_without_python()
  plan <- estimate_cost("ml.c5.xlarge", people = 100, iterations = 100)
  expect_match(plan$text, "run it locally (run_simulation(...))", fixed = TRUE)
  expect_no_match(plan$text, "python -m", fixed = TRUE)
  expect_error(local_job(hosts = 500), "^local_job: hosts = 500 is more than 32 .*submit_simulation\\(instance_count = 500\\)$")
})
