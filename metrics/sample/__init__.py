"""The synthetic sample, lowest first: config (what is asked for, the calibration), plan
(practices, staff, events), synth (patients and appointments, block by block), files (an
extract folder) and gpad (the GPAD publication's files counted from an extract)."""

from metrics.sample.config import SAMPLE_DATA_CONFIG, SAMPLE_DATA_DIR, SampleConfig
from metrics.sample.files import (
    CSV_TIME,
    FORMATS,
    generate_to_dir,
    write_extract,
    write_sample_data,
)
from metrics.sample.synth import generate

__all__ = ["CSV_TIME", "FORMATS", "SAMPLE_DATA_CONFIG", "SAMPLE_DATA_DIR", "SampleConfig",
           "generate", "generate_to_dir", "write_extract", "write_sample_data"]
