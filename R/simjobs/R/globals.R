# What a map ships besides X: FUN's globals and the packages it uses, found as future finds them (the globals
# package: globalsOf() over FUN, recursively, then cleanup() of what base R and packages provide), and checked
# before anything is created: a global that cannot travel (a connection, a pointer into this session), a total
# beyond the size limit, a package the job's R lacks. Each is one line naming the culprit.

# Packages every R has: never asked of an image.
.base_packages <- c(
  "base", "compiler", "datasets", "graphics", "grDevices", "grid", "methods", "parallel", "splines", "stats",
  "stats4", "tcltk", "tools", "utils"
)

.max_size_default <- 500 * 1024^2

# The limit on what a job ships (FUN, its globals, X and ...): options(simjobs.globals.maxSize), else future's
# own option, else 500 MiB, as future's default.
.max_size <- function() {
  limit <- getOption("simjobs.globals.maxSize", getOption("future.globals.maxSize", .max_size_default))
  if (!is.numeric(limit) || length(limit) != 1L || is.na(limit) || limit <= 0) .max_size_default else limit
}

.format_bytes <- function(bytes) {
  units <- c("bytes", "KiB", "MiB", "GiB", "TiB")
  power <- if (bytes < 1024) 0L else min(length(units) - 1L, floor(log(bytes, 1024)))
  if (power == 0L) sprintf("%.0f bytes", bytes) else sprintf("%.1f %s", bytes / 1024^power, units[[power + 1L]])
}

# Namespaces named with pkg::name or pkg:::name anywhere in a function's body or formals.
.namespaces_named <- function(fn) {
  found <- character()
  walk <- function(x) {
    if (is.call(x)) {
      head <- x[[1L]]
      if ((identical(head, as.name("::")) || identical(head, as.name(":::"))) && length(x) == 3L) {
        found <<- c(found, as.character(x[[2L]]))
      }
      for (part in as.list(x)) if (!missing(part)) walk(part)
    } else if (is.pairlist(x)) {
      for (part in as.list(x)) if (!missing(part)) walk(part)
    }
  }
  if (is.function(fn) && !is.primitive(fn)) {
    walk(formals(fn))
    walk(body(fn))
  }
  unique(found)
}

# The reference objects serialize() would write as dead pointers: connections, external pointers, weak
# references. Environments travel (their contents are written).
.dead_references <- function(x) {
  kinds <- character()
  serialize(x, connection = NULL, refhook = function(reference) {
    kinds <<- c(kinds, typeof(reference))
    NULL
  })
  setdiff(unique(kinds), "environment")
}

# FUN's globals (a named list, FUN itself not among them), the packages to attach on the hosts (those whose
# exported objects FUN uses by name) and the namespaces it names with `::`.
.find_globals <- function(FUN) {
  scope <- new.env(parent = if (is.primitive(FUN)) baseenv() else environment(FUN))
  scope$FUN <- FUN
  found <- globals::globalsOf(
    quote(FUN()), envir = scope, mustExist = FALSE, recursive = TRUE, method = "ordered"
  )
  packages <- globals::packagesOf(found)
  found <- globals::cleanup(found)
  keep <- setdiff(names(found), "FUN")
  values <- stats::setNames(lapply(keep, function(name) found[[name]]), keep)
  functions <- c(list(FUN), Filter(is.function, values))
  namespaces <- unique(unlist(lapply(functions, .namespaces_named), use.names = FALSE))
  list(globals = values, packages = setdiff(unique(packages), "base"), namespaces = namespaces)
}

# The globals, packages and sizes of a map, checked: every part serializable, the whole within the limit.
# `parts` are the other things shipped (X, the ... arguments), by the name a user knows them by.
.map_globals <- function(FUN, parts, packages = NULL) {
  found <- .find_globals(FUN)
  # the globals first: a connection in FUN's own environment is named as the global FUN uses
  shipped <- c(found$globals, list(FUN = FUN), parts)
  sizes <- vapply(names(shipped), function(name) {
    dead <- .dead_references(shipped[[name]])
    if (length(dead) > 0L) {
      what <- if (name %in% names(found$globals)) sprintf("global '%s' of FUN", name) else sprintf("'%s'", name)
      stop(sprintf(
        "%s is or holds a connection or another pointer into this R session (%s), which cannot be shipped to a job; open it inside FUN instead",
        what, paste(dead, collapse = ", ")
      ), call. = FALSE)
    }
    as.numeric(length(serialize(shipped[[name]], connection = NULL)))
  }, numeric(1))
  limit <- .max_size()
  if (sum(sizes) > limit) {
    largest <- names(sizes)[which.max(sizes)]
    stop(sprintf(
      "FUN, its globals and X take %s, more than the %s a job ships (largest: '%s', %s); raise options(simjobs.globals.maxSize) or ship less",
      .format_bytes(sum(sizes)), .format_bytes(limit), largest, .format_bytes(max(sizes))
    ), call. = FALSE)
  }
  attach <- unique(c(found$packages, packages))
  list(
    globals = found$globals,
    packages = attach,
    namespaces = setdiff(found$namespaces, attach),
    needed = setdiff(unique(c(attach, found$namespaces)), .base_packages),
    bytes = sum(sizes)
  )
}

# Packages among `needed` that R at `lib` (this session's library paths by default) does not have.
.missing_here <- function(needed, lib = .libPaths()) {
  needed[!vapply(needed, function(p) nzchar(system.file(package = p, lib.loc = lib)), logical(1))]
}

# One line when a package is missing where the job's R runs.
.stop_missing <- function(missing, where) {
  if (length(missing) == 0L) return(invisible())
  stop(sprintf(
    "R package %s is not installed in %s; build an image that has it with build_image(r_packages = c(%s)) and pass it as image =",
    paste0("'", missing, "'", collapse = ", "), where, paste0('"', missing, '"', collapse = ", ")
  ), call. = FALSE)
}
