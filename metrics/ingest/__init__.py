"""Ingest: extract files (CSV, Parquet, XLSX) -> the canonical tables, every row accounted for.

The modules, lowest first (each imports only those before it):
  report     the contract: ExtractFiles, PracticeInfo, IngestResult, IngestReport, IngestError
  raw        one file as text columns, what the format readers share
  delimited, xlsx, files
             CSV (encodings, delimiters), XLSX (zip-bomb checks), and the reader by content
  columns    a file's columns onto a table's fields through the preset; vocabularies
  checks     values tidied and checked, failures as rejects
  tables     each table built: checked, unknowns counted, duplicates merged
  derived    patients (and the practice) built from a thin export's appointments
  core       read_extract: the whole extract, and the rules it follows (its docstring)
"""

from metrics.ingest.checks import age_band, tidy_code, tidy_id, tidy_text, tidy_unique_id
from metrics.ingest.columns import map_vocabulary
from metrics.ingest.core import read_extract
from metrics.ingest.files import read_raw, sniff_format
from metrics.ingest.raw import RawFile
from metrics.ingest.report import (
    KEYS,
    LOCAL_ID_PRESETS,
    REJECT_SCHEMA,
    ExtractFiles,
    IngestError,
    IngestReport,
    IngestResult,
    PracticeInfo,
    TableCounts,
    canonical_schema,
    empty_table,
    export_id,
    modes_recorded,
    practice_key,
)
from metrics.mapping import available_presets

__all__ = ["KEYS", "LOCAL_ID_PRESETS", "REJECT_SCHEMA", "ExtractFiles", "IngestError",
           "IngestReport", "IngestResult", "PracticeInfo", "RawFile", "TableCounts",
           "age_band", "available_presets", "canonical_schema", "empty_table",
           "export_id", "map_vocabulary", "modes_recorded", "practice_key",
           "read_extract", "read_raw", "sniff_format", "tidy_code", "tidy_id",
           "tidy_text", "tidy_unique_id"]
