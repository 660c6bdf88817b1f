"""Filters: decide what is evaluated and how each result counts, one module per filter.
`tdv scan` applies them in this order:

- exclusions: resources the config file leaves out are not evaluated (before the engine);
- severity: findings below `--min-severity` are dropped;
- suppressions: failures covered by an annotation, a comment or a config exemption are
  marked suppressed (kept, reported as such, never blocking);
- baseline: each remaining finding is marked new or unchanged.
"""
