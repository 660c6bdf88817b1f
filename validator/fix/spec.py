"""Kept for engine/policy.py until it imports validator.engine.fix_spec, where the parser of
the `fix` key now lives (a policy-format module: the engine may not import the fix stage).
Remove this module then (issue 13)."""

from validator.engine.fix_spec import FixStep as FixStep, parse_fix as parse_fix
