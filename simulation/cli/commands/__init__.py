"""Thin CLI wrappers: each module parses, calls the package's pure functions and prints."""
