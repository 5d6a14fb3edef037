# Conformance checks for the simjobs::sagemaker future backend, modelled on the future.tests suite (which is on
# CRAN only and cannot be installed here): every check runs under plan(sequential), the reference backend, and
# under the plan given on the command line; what a user can observe (values, visibility, relayed output and
# conditions, random numbers, errors and their classes) must be identical.
#
#   Rscript future_conformance.R 'simjobs::sagemaker_local' 'workers = 2, instance_count = 2'
#
# Prints one line per check: "<name> TRUE" when the two plans agree, "<name> FALSE <detail>" when not.
suppressPackageStartupMessages({
  library(future)
  library(future.apply)
  library(listenv)
})

observe <- function(expr) {
  # what a user sees of an evaluation: the value, output, messages, warnings, and an error's class and message
  messages <- character()
  warnings <- character()
  output <- utils::capture.output({
    value <- withCallingHandlers(
      tryCatch(expr, error = function(e) structure(list(class = class(e), message = conditionMessage(e)),
                                                  class = "observed_error")),
      message = function(m) { messages <<- c(messages, conditionMessage(m)); invokeRestart("muffleMessage") },
      warning = function(w) { warnings <<- c(warnings, conditionMessage(w)); invokeRestart("muffleWarning") }
    )
  })
  list(value = value, output = output, messages = messages, warnings = warnings)
}

checks <- list(
  "future() and value()" = function() value(future(42L)),
  "a global is frozen when the future is created" = function() {
    a <- 1
    f <- future(a + 1)
    a <- 100
    value(f)
  },
  "a global removed after creation is still there" = function() {
    b <- 3
    f <- future(b * 2)
    rm(b)
    value(f)
  },
  "globals in functions, found recursively" = function() {
    k <- 5
    g <- function(x) x * k
    h <- function(x) g(x) + 1
    value(future(h(2)))
  },
  "local() in the expression" = function() value(future(local({ x <- 2; x^3 }))),
  "standard output is relayed in order" = function() value(future({ cat("one\n"); print(1:3); "done" })),
  "stdout = FALSE drops output" = function() value(future({ cat("hidden\n"); 1 }, stdout = FALSE)),
  "messages and warnings are relayed" = function() {
    value(future({ message("hello"); warning("careful"); 7 }))
  },
  "an error is re-signalled with its class" = function() {
    value(future(stop(structure(class = c("myError", "error", "condition"),
                                list(message = "custom failure", call = NULL)))))
  },
  "an error's message" = function() value(future(log(-1) + stop("boom"))),
  "invisible values stay invisible" = function() withVisible(value(future(invisible(9))))$visible,
  "NULL is a value" = function() is.null(value(future(NULL))),
  "lazy futures are evaluated at value()" = function() {
    n <- 0
    f <- future({ n + 1 }, lazy = TRUE)
    n <- 10
    value(f)
  },
  "%<-% assignment" = function() {
    x %<-% { 2 * 21 }
    x
  },
  "futureAssign() into an environment" = function() {
    env <- new.env()
    futureAssign("y", 3 + 4, assign.env = env)
    env$y
  },
  "a list of futures" = function() value(lapply(1:4, function(i) future(i^2))),
  "a listenv of futures" = function() {
    x <- listenv()
    for (i in 1:3) x[[i]] %<-% { i * 10 }
    as.list(x)
  },
  "resolved() and resolve() return" = function() {
    fs <- lapply(1:2, function(i) future(i))
    fs <- resolve(fs)
    c(all(vapply(fs, resolved, logical(1))), unlist(value(fs)))
  },
  "seed = 42 gives the same numbers" = function() value(future(rnorm(3), seed = 42L)),
  "seed = TRUE follows the session's RNG" = function() {
    set.seed(11)
    value(future(runif(2), seed = TRUE))
  },
  "future_lapply(future.seed = ) streams" = function() {
    future_lapply(1:5, function(i) c(i, rnorm(1)), future.seed = 123)
  },
  "future_sapply with names and simplification" = function() {
    future_sapply(c(a = 1, b = 2, c = 3), function(x) x * 2)
  },
  "future_mapply" = function() future_mapply(function(x, y) x + y, 1:3, 4:6),
  "future_lapply with ... arguments" = function() future_lapply(1:3, function(x, p) x^p, p = 3),
  "packages used by the expression are attached" = function() value(future(utils::head(letters, 3))),
  "nested futures run on the host" = function() value(future({ inner <- future::future(6 * 7); future::value(inner) })),
  "nbrOfWorkers() is a count" = function() {
    n <- nbrOfWorkers()
    is.numeric(n) && length(n) == 1L && n >= 1
  },
  "a future can be launched only once" = function() {
    f <- future(1, lazy = TRUE)
    f <- run(f)
    tryCatch({ run(f); "ran twice" }, FutureError = function(e) "FutureError")
  }
)

# the value of checks whose result differs by design between plans
plan_specific <- c("nbrOfWorkers() is a count")

args <- commandArgs(trailingOnly = TRUE)
strategy <- eval(parse(text = args[[1L]]))
settings <- if (length(args) > 1L && nzchar(args[[2L]])) eval(parse(text = sprintf("list(%s)", args[[2L]]))) else list()

run_all <- function() lapply(checks, function(check) { set.seed(2024); observe(check()) })
plan(sequential)
reference <- run_all()
do.call(plan, c(list(strategy), settings))
observed <- run_all()
plan(sequential)
for (name in names(checks)) {
  same <- identical(reference[[name]], observed[[name]]) ||
    (name %in% plan_specific && isTRUE(observed[[name]]$value))
  detail <- if (same) "" else paste(utils::capture.output(str(list(sequential = reference[[name]],
                                                                    backend = observed[[name]]))),
                                    collapse = " | ")
  cat(name, same, detail, "\n")
}
