"""Small canonical extracts built in code, for specification-style tests."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta

import polars as pl

from metrics.schema import TABLES

POLARS_TYPES = {"VARCHAR": pl.Utf8, "DATE": pl.Date, "TIME": pl.Time, "INTEGER": pl.Int32,
                "BOOLEAN": pl.Boolean}
PRACTICE = "A81001"
DAY0 = date(2024, 1, 1)
_ids = itertools.count(1)


def frame(table: str, rows: list[dict]) -> pl.DataFrame:
    """A canonical table from dict rows; missing optional columns become null."""
    schema = {c.name: POLARS_TYPES[c.sql_type] for c in TABLES[table]}
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema,
                        orient="row")


def appt(patient: str, day: date, clinician: str | None, *, role: str = "gp",
         status: str = "attended", mode: str = "face_to_face", at: time | None = None,
         practice: str = PRACTICE, appointment_id: str | None = None) -> dict:
    return {
        "appointment_id": appointment_id or f"x{next(_ids):07d}",
        "patient_id": patient, "practice_code": practice, "appointment_date": day,
        "appointment_time": at, "clinician_id": clinician, "clinician_role": role,
        "status": status, "mode": mode,
    }


def visits(patient: str, sequence: str, *, start: date = DAY0, every_days: int = 7,
           **kwargs: object) -> list[dict]:
    """One attended contact per letter ("AABBC": A, A, B, B, C), a week apart."""
    return [appt(patient, start + timedelta(days=i * every_days), c, **kwargs)  # type: ignore
            for i, c in enumerate(sequence)]


def extract(appointments: list[dict], patients: list[dict] | None = None,
            practices: list[dict] | None = None) -> dict[str, pl.DataFrame]:
    """A whole extract; patients default to every patient seen, registered where first seen."""
    if patients is None:
        first = {}
        for a in appointments:
            first.setdefault(a["patient_id"], a["practice_code"])
        patients = [{"patient_id": p, "practice_code": c} for p, c in first.items()]
    if practices is None:
        codes = sorted({p["practice_code"] for p in patients}
                       | {a["practice_code"] for a in appointments})
        practices = [{"practice_code": c, "practice_name": f"Practice {c}",
                      "pcn_code": "U00001", "pcn_name": "Network One"} for c in codes]
    return {"appointments": frame("appointments", appointments),
            "patients": frame("patients", patients),
            "practices": frame("practices", practices)}


def one_row(frame: pl.DataFrame, **equals: object) -> dict:
    """The single row of `frame` whose columns equal the given values (fails otherwise)."""
    rows = frame.filter(**equals).to_dicts()
    assert len(rows) == 1, f"expected one row for {equals}, got {len(rows)}"
    return rows[0]
