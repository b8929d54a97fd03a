"""National context: NHS England "Appointments in General Practice" (GPAD) practice-level files.

Lowest first: files (reading and checking the publication's files), load (an import into the
store) and page (read back for the National context page).
"""

from metrics.gpad.files import (
    COLUMNS,
    FILE_PATTERN,
    MONTH_NAMES,
    SAMPLE_DIR,
    GpadError,
    GpadResult,
    month_in_name,
    parse_month,
    read_file,
    read_gpad,
    sample_files,
)
from metrics.gpad.load import SOURCES_TABLE, TABLE, load_gpad, write_tables
from metrics.gpad.page import (
    PUBLISHED,
    Context,
    context,
    context_table,
    has_gpad,
    level_label,
    unit_labels,
)

__all__ = ["COLUMNS", "FILE_PATTERN", "MONTH_NAMES", "PUBLISHED", "SAMPLE_DIR", "SOURCES_TABLE",
           "TABLE", "Context", "GpadError", "GpadResult", "context", "context_table", "has_gpad",
           "level_label", "load_gpad", "month_in_name", "parse_month", "read_file", "read_gpad",
           "sample_files", "unit_labels", "write_tables"]
