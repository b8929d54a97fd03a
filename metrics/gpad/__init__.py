"""National context: NHS England "Appointments in General Practice" (GPAD) practice-level files.

Lowest first: files (reading and checking the publication's files), load (an import into the
store) and page (read back for the National context page).
"""

from metrics.gpad.files import (
    COLUMNS,
    FILE_PATTERN,
    HCP_TYPES,
    MODES,
    MONTH_NAMES,
    REQUIRED,
    SAMPLE_DIR,
    SCHEMA,
    STATUSES,
    TEXT_COLUMNS,
    VOCABULARIES,
    GpadError,
    GpadResult,
    month_in_name,
    parse_month,
    read_file,
    read_gpad,
    sample_files,
)
from metrics.gpad.load import SOURCES_SQL, SOURCES_TABLE, TABLE, TABLE_SQL, load_gpad, write_tables
from metrics.gpad.page import (
    LEVEL_LABELS,
    PUBLISHED,
    Context,
    PublishedFigures,
    context,
    context_table,
    has_gpad,
    level_label,
    unit_labels,
)

__all__ = ["COLUMNS", "FILE_PATTERN", "HCP_TYPES", "LEVEL_LABELS", "MODES",
           "MONTH_NAMES", "PUBLISHED", "REQUIRED", "SAMPLE_DIR", "SCHEMA",
           "SOURCES_SQL", "SOURCES_TABLE", "STATUSES", "TABLE", "TABLE_SQL",
           "TEXT_COLUMNS", "VOCABULARIES", "Context", "GpadError", "GpadResult",
           "PublishedFigures", "context", "context_table", "has_gpad", "level_label",
           "load_gpad", "month_in_name", "parse_month", "read_file", "read_gpad",
           "sample_files", "unit_labels", "write_tables"]
