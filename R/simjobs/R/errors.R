# Errors from Python arrive as one line written for people.

# Python's SimulationError / JobFailed carry a message written for people; show that one line, not
# reticulate's "module.Class: ..." wrapping, its "Run `reticulate::py_last_error()`" hint or a traceback.
.one_line <- function(message) {
  message <- sub("^[[:space:]]*(Error[^:]*: )?", "", message)
  message <- sub("^[[:space:]]*simulation\\.errors\\.[A-Za-z]+: ", "", message)
  message <- sub("\n.*$", "", message)
  trimws(message)
}
