"""The stage names of a run, importable without the heavy runner (the DAG file parses on every scheduler loop)."""

STAGES = ("extract", "validate", "standardise", "match", "cluster", "survive", "publish")
