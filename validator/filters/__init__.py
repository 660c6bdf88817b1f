"""Filters: decide which results are reported. Each filter is one module with a function
that takes and returns the list of results."""
