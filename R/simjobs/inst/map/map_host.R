# The host side of simjobs::job_lapply() and of the simjobs::sagemaker future backend: one Processing host's
# share of a map job. Shipped in the job's code input next to the payload (map.rds), so a host runs the runner
# of the client that made the payload, whatever simjobs version the image holds (it needs none: base R only).
#
#   Rscript map_host.R CODE_DIR OUTPUT_DIR TODO_FILE
#
# Started by `python3 -m simulation.processing map`, which reads map.json, picks this host's blocks (block k to
# host k mod H), drops the finished ones and lists the rest in TODO_FILE, one line per block: the block number and
# its first and last element (counted from 1, as R does). Each block runs in a forked child (up
# to SIMLAB_MAP_CORES at once); the child writes blocks/block-NNNNNN.rds (the values) and then
# blocks/block-NNNNNN.json (the record that marks the block done), each atomically. When the file named by
# SIMLAB_MAP_STOP_FILE appears, no new block starts: the ones in flight finish.
#
# A failure of the whole host is one line starting "simjobs map:" on stderr and exit status 3.

local({
  fail <- function(...) {
    cat("simjobs map: ", ..., "\n", sep = "", file = stderr())
    quit(save = "no", status = 3L)
  }

  args <- commandArgs(trailingOnly = TRUE)
  if (length(args) != 3L) fail("usage: Rscript map_host.R CODE_DIR OUTPUT_DIR TODO_FILE")
  code <- args[[1L]]
  out <- args[[2L]]
  plan <- matrix(scan(args[[3L]], what = integer(), quiet = TRUE), ncol = 3L, byrow = TRUE)
  todo <- plan[, 1L]
  firsts <- stats::setNames(plan[, 2L], todo)
  lasts <- stats::setNames(plan[, 3L], todo)
  cores <- max(1L, suppressWarnings(as.integer(Sys.getenv("SIMLAB_MAP_CORES", "1"))), na.rm = TRUE)
  host <- Sys.getenv("CURRENT_HOST", "algo-1")
  stop_file <- Sys.getenv("SIMLAB_MAP_STOP_FILE")
  digest <- Sys.getenv("SIMLAB_MAP_PAYLOAD_SHA256")

  payload <- tryCatch(readRDS(file.path(code, "map.rds")), error = function(e) {
    fail("cannot read the payload ", file.path(code, "map.rds"), ": ", conditionMessage(e))
  })
  if (!identical(payload$format, 1L)) fail("payload format ", format(payload$format), " is not this runner's (1)")

  # Packages first, all of them, so a missing one is one line before any element runs.
  wanted <- unique(c(payload$packages, payload$namespaces))
  missing <- wanted[!vapply(wanted, requireNamespace, logical(1), quietly = TRUE)]
  if (length(missing) > 0L) {
    fail(
      "R package ", paste0("'", missing, "'", collapse = ", "), " is not installed in this job's image; ",
      "build one that has it with simjobs::build_image(r_packages = c(",
      paste0('"', missing, '"', collapse = ", "), "))"
    )
  }
  for (package in payload$packages) {
    suppressPackageStartupMessages(library(package, character.only = TRUE))
  }

  # FUN's globals live in the global environment, where a function defined at the prompt looks for them
  # (as future's workers hold them).
  for (name in names(payload$globals)) assign(name, payload$globals[[name]], envir = globalenv())

  elements_of <- function(block) {
    key <- as.character(block)
    seq.int(firsts[[key]], lasts[[key]])
  }

  # Element i's stream, as future.apply derives it: stream 1 is the L'Ecuyer-CMRG seed made from the user's,
  # stream i + 1 = nextRNGStream(stream i), and element i runs with nextRNGSubStream(stream i).
  seeds <- NULL
  if (!is.null(payload$seed)) {
    needed <- sort(unlist(lapply(todo, elements_of), use.names = FALSE))
    last <- if (length(needed)) max(needed) else 0L
    seeds <- vector("list", last)
    stream <- payload$seed
    wanted_mask <- logical(last)
    wanted_mask[needed] <- TRUE
    for (i in seq_len(last)) {
      if (wanted_mask[[i]]) seeds[[i]] <- parallel::nextRNGSubStream(stream)
      stream <- parallel::nextRNGStream(stream)
    }
  }

  X <- payload$X
  FUN <- payload$FUN
  if (identical(payload$mode, "future")) {
    # each element is one future: its expression (future's own, which captures output and conditions into a
    # FutureResult) evaluated with its globals, which are removed again afterwards
    apply_one <- function(element) {
      names <- names(element$globals)
      for (name in names) assign(name, element$globals[[name]], envir = globalenv())
      on.exit(rm(list = intersect(names, ls(globalenv(), all.names = TRUE)), envir = globalenv()))
      eval(element$expr, envir = globalenv())
    }
  } else if (length(payload$args) == 0L) {
    apply_one <- FUN
  } else {
    apply_one <- do.call(function(...) function(x) FUN(x, ...), payload$args)
  }

  element_error <- function(i, message, call = NULL) {
    structure(
      class = c("simjobs_element_error", "error", "condition"),
      list(message = message, call = call, element = i)
    )
  }

  genv <- globalenv()
  seeded <- !is.null(seeds)

  run_element <- function(i) {
    if (seeded) genv[[".Random.seed"]] <- seeds[[i]]
    tryCatch(
      apply_one(X[[i]]),
      error = function(e) element_error(i, conditionMessage(e), conditionCall(e))
    )
  }

  # The values of `elements`, each evaluated with its stream. One tryCatch() around the loop, not one per element
  # (setting one up costs more than a trivial element): an error records that element's failure and the loop goes
  # on from the next one.
  run_elements <- function(elements) {
    values <- vector("list", length(elements))
    n <- length(elements)
    j <- 1L
    while (j <= n) {
      j <- tryCatch({
        while (j <= n) {
          i <- elements[[j]]
          if (seeded) genv[[".Random.seed"]] <- seeds[[i]]
          value <- apply_one(X[[i]])
          if (!is.null(value)) values[[j]] <- value
          j <- j + 1L
        }
        j
      }, error = function(e) {
        values[[j]] <<- element_error(elements[[j]], conditionMessage(e), conditionCall(e))
        j + 1L
      })
    }
    values
  }

  json_string <- function(text) {
    text <- enc2utf8(as.character(text))
    text <- gsub("\\", "\\\\", text, fixed = TRUE)
    text <- gsub('"', '\\"', text, fixed = TRUE)
    text <- gsub("\n", "\\n", text, fixed = TRUE)
    text <- gsub("\r", "\\r", text, fixed = TRUE)
    text <- gsub("\t", "\\t", text, fixed = TRUE)
    text <- gsub("[[:cntrl:]]", " ", text)
    paste0('"', text, '"')
  }

  write_atomic <- function(path, write) {
    temporary <- file.path(dirname(path), sprintf(".%s.%d.tmp", basename(path), Sys.getpid()))
    write(temporary)
    if (!file.rename(temporary, path)) fail("cannot rename ", temporary, " to ", path)
  }

  block_file <- function(block, extension) {
    file.path(out, "blocks", sprintf("block-%06d.%s", block, extension))
  }

  write_block <- function(block, values, seconds) {
    elements <- elements_of(block)
    if (!is.null(names(X))) names(values) <- names(X)[elements]
    failed <- which(vapply(values, inherits, logical(1), what = "simjobs_element_error"))
    rds <- block_file(block, "rds")
    write_atomic(rds, function(path) saveRDS(list(block = block, first = elements[[1L]], values = values), path))
    messages <- vapply(values[failed], function(e) substr(conditionMessage(e), 1L, 1000L), character(1))
    failures <- if (length(failed) == 0L) "" else {
      paste0("[", elements[failed], ", ", json_string(messages), "]", collapse = ", ")
    }
    record <- paste0(
      '{"format": 1, "kind": "map", "block": ', block, ', "host": ', json_string(host),
      ', "first": ', elements[[1L]], ', "count": ', length(elements),
      ', "failed": [', failures, "]",
      ', "seconds": ', format(round(seconds, 3), nsmall = 3), ', "bytes": ', file.size(rds),
      ', "payload_sha256": ', json_string(digest), "}\n"
    )
    write_atomic(block_file(block, "json"), function(path) writeLines(record, path, sep = ""))
  }

  # In a forked child only: quit()/q() from an element becomes that element's error instead of ending the
  # child (whose exit would also remove this session's temporary folder, shared with the parent).
  forbid_quit <- function() {
    refuse <- function(...) stop("the element called quit(); a map element cannot end its R process", call. = FALSE)
    for (name in c("quit", "q")) {
      unlockBinding(name, baseenv())
      assign(name, refuse, envir = baseenv())
    }
  }

  run_block <- function(block) {
    forbid_quit()
    started <- proc.time()[["elapsed"]]
    values <- run_elements(elements_of(block))
    write_block(block, values, proc.time()[["elapsed"]] - started)
    TRUE
  }

  # A block whose child died (a crash, or an exit quit() could not catch): every element again in a child of its
  # own, so the one that ends its process is named and the others keep their values.
  run_alone <- function(block) {
    started <- proc.time()[["elapsed"]]
    elements <- elements_of(block)
    values <- vector("list", length(elements))
    for (j in seq_along(elements)) {
      i <- elements[[j]]
      child <- parallel::mcparallel({
        forbid_quit()
        list(run_element(i))
      }, silent = FALSE)
      got <- suppressWarnings(parallel::mccollect(child, wait = TRUE))[[1L]]
      tempdir(check = TRUE)
      value <- if (is.null(got)) element_error(i, "the element ended its R process (a crash or an exit)") else got[[1L]]
      if (!is.null(value)) values[[j]] <- value
    }
    write_block(block, values, proc.time()[["elapsed"]] - started)
  }

  dir.create(file.path(out, "blocks"), showWarnings = FALSE, recursive = TRUE)
  queue <- todo
  running <- list()
  died <- integer()
  stopping <- function() nzchar(stop_file) && file.exists(stop_file)
  while (length(queue) > 0L || length(running) > 0L) {
    while (length(queue) > 0L && length(running) < cores && !stopping()) {
      block <- queue[[1L]]
      queue <- queue[-1L]
      child <- parallel::mcparallel(run_block(block), silent = FALSE)
      running[[as.character(child$pid)]] <- list(job = child, block = block)
    }
    if (length(running) == 0L) break
    collected <- suppressWarnings(
      parallel::mccollect(lapply(running, `[[`, "job"), wait = FALSE, timeout = 0.2)
    )
    for (pid in names(collected)) {
      if (!isTRUE(collected[[pid]])) died <- c(died, running[[pid]]$block)
      running[[pid]] <- NULL
    }
    tempdir(check = TRUE)
  }
  for (block in died) {
    if (stopping()) break
    cat(host, ": block ", block, " ended its R process; its elements run one by one\n", sep = "", file = stderr())
    run_alone(block)
  }
  invisible(NULL)
})
