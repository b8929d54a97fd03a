"""The synthetic sample: an ICB extract (metrics/sample/synth.py) and its GPAD files
(metrics/sample/gpad.py)."""

from metrics.sample.synth import (
    CSV_TIME,
    FORMATS,
    SAMPLE_DATA_CONFIG,
    SAMPLE_DATA_DIR,
    SampleConfig,
    generate,
    generate_to_dir,
    write_extract,
    write_sample_data,
)

__all__ = ["CSV_TIME", "FORMATS", "SAMPLE_DATA_CONFIG", "SAMPLE_DATA_DIR", "SampleConfig",
           "generate", "generate_to_dir", "write_extract", "write_sample_data"]
