"""Ingest: extract files -> the canonical tables (see metrics/ingest/core.py)."""

from metrics.ingest.core import (
    KEYS,
    LOCAL_ID_PRESETS,
    REJECT_SCHEMA,
    ExtractFiles,
    IngestError,
    IngestReport,
    IngestResult,
    PracticeInfo,
    TableCounts,
    available_presets,
    export_id,
    map_vocabulary,
    modes_recorded,
    read_extract,
    read_raw,
    tidy_code,
    tidy_id,
    tidy_text,
    tidy_unique_id,
)

__all__ = ["KEYS", "LOCAL_ID_PRESETS", "REJECT_SCHEMA", "ExtractFiles", "IngestError",
           "IngestReport", "IngestResult", "PracticeInfo", "TableCounts", "available_presets",
           "export_id", "map_vocabulary", "modes_recorded", "read_extract", "read_raw",
           "tidy_code", "tidy_id", "tidy_text", "tidy_unique_id"]
