"""Continuity of care for English general practice: ingest, indices, roll-ups, exports."""

__version__ = "0.1.0"
