# Python's lists of records as data frames.

# Rows (named lists) with the given columns; a missing or NULL value is NA, no rows give a 0-row frame.
.frame <- function(rows, columns, empty) {
  if (length(rows) == 0) return(empty)
  do.call(rbind, lapply(rows, function(row) {
    as.data.frame(lapply(stats::setNames(columns, columns), function(k) {
      if (is.null(row[[k]])) NA else row[[k]]
    }), stringsAsFactors = FALSE)
  }))
}

# Rows that all have the same fields (a sweep's table).
.rows <- function(rows) {
  do.call(rbind, lapply(rows, function(row) as.data.frame(row, stringsAsFactors = FALSE)))
}
