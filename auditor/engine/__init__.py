"""The evaluation engine: reads a Snapshot, a Baseline and rules/*.yaml; never AWS or a database."""
