"""Speed and memory of the continuity pipeline at ICB and national scale.

`python -m benchmarks.run` generates data, runs every step in its own process and writes
benchmarks/RESULTS.md; `benchmarks.pandas_baseline` is the analyst's alternative it is timed
against.
"""
