# A map job's value, assembled from its blocks: the values of block k are blocks/block-NNNNNN.rds in its output
# (a local job's folder, or the job's S3 output downloaded by job_results()).

# The summary Python keeps of a map job (progress, failed elements, where its output is).
.map_summary <- function(job, platform = NULL, dest = NULL) {
  .safe("job_results", job, .opt(dest), platform = .opt(platform))
}

.is_map_summary <- function(summary) is.list(summary) && identical(summary$kind, "map")

# The value of a finished map job: a list in the order of X, with X's names. Failed elements are one line
# (errors = "stop") or kept as conditions with a "failed" attribute (errors = "keep").
.map_value <- function(summary, errors = c("stop", "keep")) {
  errors <- match.arg(errors)
  job <- summary$job
  if (!isTRUE(summary$complete)) {
    state <- if (identical(summary$status, "InProgress")) "is still running" else {
      sprintf("ended (%s)", tolower(summary$status %||% "unknown"))
    }
    stop(sprintf(
      "map job %s %s with %d of %d blocks done (%d of %d elements); %s",
      job, state, summary$blocks_done, summary$blocks, summary$elements_done, summary$elements,
      if (identical(summary$status, "InProgress")) "wait_for_job(job) waits for it" else
        sprintf('resume_job("%s") runs only the rest', job)
    ), call. = FALSE)
  }
  blocks <- file.path(summary$output, "blocks", sprintf("block-%06d.rds", seq_len(summary$blocks) - 1L))
  values <- do.call(c, lapply(blocks, function(path) readRDS(path)$values))
  failed <- summary$failed
  if (length(failed) > 0L) {
    elements <- vapply(failed, function(f) as.integer(f$element), integer(1))
    messages <- vapply(failed, function(f) as.character(f$message), character(1))
    if (errors == "stop") {
      more <- if (length(elements) > 1L) sprintf(" (and %d more failed elements)", length(elements) - 1L) else ""
      stop(sprintf(
        'element %d failed: %s%s; the other values are kept: job_results("%s", errors = "keep")',
        elements[[1L]], gsub("[[:space:]]+", " ", messages[[1L]]), more, job
      ), call. = FALSE)
    }
    attr(values, "failed") <- data.frame(element = elements, message = messages, stringsAsFactors = FALSE)
  }
  if (isTRUE(summary$seed_drawn)) attr(values, "seed") <- .seed_value(summary$seed)
  values
}

# The seed as the user gave it: a whole number, or the 7 integers of a L'Ecuyer-CMRG seed.
.seed_value <- function(text) {
  if (is.null(text)) return(NULL)
  parts <- strsplit(as.character(text), ",", fixed = TRUE)[[1L]]
  number <- suppressWarnings(as.numeric(parts))
  if (anyNA(number)) return(text)
  as.integer(number)
}

# Every element's value, NULL where its block is missing (a batch of futures whose job did not finish).
.map_block_values <- function(summary) {
  values <- vector("list", summary$elements)
  missing <- unlist(summary$missing_blocks)
  for (block in setdiff(seq_len(summary$blocks) - 1L, missing)) {
    part <- readRDS(file.path(summary$output, "blocks", sprintf("block-%06d.rds", block)))
    values[part$first - 1L + seq_along(part$values)] <- part$values
  }
  values
}
