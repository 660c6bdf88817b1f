"""Kept for sources/__init__.py until it imports validator.sources.recognise, where telling a
report apart from an input now lives (the sources may not import the reporters). Remove this
module then (issue 13)."""

from validator.sources.recognise import report_format as report_format
