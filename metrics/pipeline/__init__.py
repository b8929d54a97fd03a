"""The SQL pipeline and what runs it: the manifest of queries/, the DuckDB engine, the
Spark engine and its dialect, the incremental refresh, and a whole build into the store."""
