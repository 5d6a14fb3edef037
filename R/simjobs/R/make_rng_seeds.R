# The random numbers of job_lapply(): one L'Ecuyer-CMRG stream per element, derived from the user's seed
# exactly as future.apply derives them (its make_rng_seeds.R and rng.R), so that
# job_lapply(X, FUN, seed = 42) equals future.apply::future_lapply(X, FUN, future.seed = 42) bit for bit, on
# any number of hosts and cores. Only the first stream (`.seed`) is made here; each host walks the chain
#   stream[1] = .seed, stream[i + 1] = nextRNGStream(stream[i]), element i runs with nextRNGSubStream(stream[i])
# for its own elements (inst/map/map_host.R). The caller's RNG state moves on exactly as future_lapply moves it.

.get_random_seed <- function() {
  env <- globalenv()
  env$.Random.seed
}

.set_random_seed <- function(seed) {
  env <- globalenv()
  old <- env$.Random.seed
  if (is.null(seed)) {
    if (exists(".Random.seed", envir = env, inherits = FALSE)) rm(list = ".Random.seed", envir = env)
  } else {
    env$.Random.seed <- seed
  }
  invisible(old)
}

# One draw forwards the caller's stream; returns the state after it.
.next_random_seed <- function(seed = .get_random_seed()) {
  sample.int(n = 1L, size = 1L, replace = FALSE)
  invisible(.get_random_seed())
}

.is_lecyer_cmrg_seed <- function(seed) {
  is.numeric(seed) && length(seed) == 7L && all(is.finite(seed)) && (seed[1] %% 10000L == 407L)
}

# The L'Ecuyer-CMRG seed made from the user's: a single whole number through set.seed() under
# RNGkind("L'Ecuyer-CMRG") (keeping the caller's normal and sample kinds, as future.apply does), or a seed of
# that kind as it is. The caller's RNG state is left as it was.
.as_lecyer_cmrg_seed <- function(seed) {
  if (.is_lecyer_cmrg_seed(seed)) return(as.integer(seed))
  if (!is.numeric(seed) || length(seed) != 1L || !is.finite(seed) || seed != round(seed) ||
      abs(seed) > .Machine$integer.max) {
    stop("seed must be NULL, a whole number (as set.seed() takes) or a L'Ecuyer-CMRG seed of 7 integers",
         call. = FALSE)
  }
  old <- .get_random_seed()
  on.exit(.set_random_seed(old), add = TRUE)
  RNGkind("L'Ecuyer-CMRG")
  set.seed(as.integer(seed))
  .get_random_seed()
}

# future_lapply(future.seed = <seed>) moves the caller's RNG two draws on, whatever runs in between: once when
# it makes the streams and once around the futures, whose state it restores on exit. job_lapply() does the same,
# so code after it sees the numbers it would see after future_lapply(). Returns the first stream and the state
# to restore on exit.
.map_streams <- function(seed) {
  first <- .as_lecyer_cmrg_seed(seed)
  .set_random_seed(.next_random_seed())
  list(first = first, restore = .next_random_seed())
}

# A seed for a run given none: from the operating system's entropy (not from R's generator, whose state is the
# user's), a whole number set.seed() and future_lapply(future.seed = ) take.
.fresh_seed <- function() {
  entropy <- if (file.exists("/dev/urandom")) {
    connection <- file("/dev/urandom", "rb", raw = TRUE)
    on.exit(close(connection))
    readBin(connection, what = "integer", n = 1L, size = 4L)
  } else {
    reticulate::import("secrets")$randbits(31L)
  }
  value <- abs(as.numeric(entropy)) %% .Machine$integer.max
  as.integer(max(1, value))
}
