#' Build your own job image
#'
#' Builds an image `FROM` the bundled job image with CRAN packages and/or Debian packages installed at
#' build time (jobs have no network), and pushes it to the platform's user repository. Needs docker or
#' podman on this machine.
#'
#' @param r_packages CRAN packages to install (e.g. `"data.table"`).
#' @param apt Debian packages to install (e.g. `"r-cran-data.table"`).
#' @param tag The image tag. `NULL`: one derived from the packages.
#' @param engine `"podman"` or `"docker"`. `NULL`: the one found on `PATH`.
#' @param cran The CRAN mirror the build uses. `NULL`: the client's default.
#' @param push `TRUE`: push the image to the platform's user repository.
#' @inheritParams submit_simulation
#' @return The image URI, to pass as `image =` to the submitting functions.
#' @section Errors:
#' An invalid package name, or no package at all, stops the call with one line before anything is built.
#' @examples
#' \dontrun{
#' image <- build_image(r_packages = "data.table")
#' submit_r_script("main.R", image = image)
#' }
#' @export
build_image <- function(r_packages = character(), apt = character(), tag = NULL, platform = NULL,
                        engine = NULL, cran = NULL, push = TRUE) {
  .call(.client()$build_image, as.list(r_packages), as.list(apt), tag = .opt(tag),
        platform = .opt(platform), engine = .opt(engine), cran = .opt(cran), push = isTRUE(push))
}
