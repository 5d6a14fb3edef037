# Installs R packages into the RSession image: the named ones and the Depends/Imports of a package source folder.
#   Rscript r-packages.R REPOS PACKAGE_DIR [PACKAGE ...]
# Only what is not installed yet; any warning (a package missing from REPOS, a failed install) is an error, so a
# broken repository fails the build instead of leaving the image without a package.
options(warn = 2)
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: r-packages.R REPOS PACKAGE_DIR [PACKAGE ...]")
repos <- args[[1]]
fields <- read.dcf(file.path(args[[2]], "DESCRIPTION"), fields = c("Depends", "Imports"))
declared <- unlist(strsplit(fields[!is.na(fields)], ","))
declared <- trimws(sub("[(].*", "", declared))
base <- rownames(installed.packages(priority = "base"))
wanted <- setdiff(unique(c(args[-(1:2)], declared[nzchar(declared)])), c("R", base))
missing <- setdiff(wanted, rownames(installed.packages()))
if (length(missing) > 0) install.packages(missing, repos = repos)
for (package in wanted) library(package, character.only = TRUE)
cat("R packages:", paste(wanted, collapse = ", "), "\n")
