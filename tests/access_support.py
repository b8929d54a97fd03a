"""Small dashboard databases built in code, for the access, injection and rebuild tests.

Three practices in two PCNs and two ICBs, a handful of patients each: small enough that every
figure is hand-checkable, and that the NHS rule suppresses the other practices' counts (1-7).

Riverside (OWN), 9 patients with 4 weekly GP contacts each in January 2024:
  p1 AAAA  p2 AAAB  p3 AABB  p4 ABAB  p5 AAAC  p6 ABCD  p7 AAAA  p8 BBBB  p9 AABC
  UPC = max n_j / N: 1, .75, .5, .5, .75, .25, 1, 1, .5 -> mean 6.25 / 9 = 0.6944
  eligible patients: 9 exactly; under the NHS rule 10 (nearest 5).
  named GP: p1-p7 GA, p8-p9 GB -> two named-GP lists (7 and 2 patients); SLICC 24 of 36.
Hillside (NEIGHBOUR, same PCN and ICB): 3 patients; Far Away (FAR, other PCN and ICB): 2.
A cancelled booking on 31 January makes January the last complete month of the data.
One rejected row whose raw value names a patient: only data administrators may see it.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import polars as pl

from metrics.ingest import REJECT_SCHEMA, IngestReport, IngestResult
from metrics.pipeline.build import rebuild
from tests import builders as b

OWN, NEIGHBOUR, FAR = "A81001", "A81002", "B82001"
OWN_PCN, FAR_PCN = "U00001", "U00002"
OWN_ICB, FAR_ICB = "QAA", "QBB"
OWN_SEQUENCES = ("AAAA", "AAAB", "AABB", "ABAB", "AAAC", "ABCD", "AAAA", "BBBB", "AABC")
OWN_MEAN_UPC = 6.25 / 9
REJECTED_RAW_VALUE = "patient 943 476 5919 seen 31/02/2024"  # one rejected row, patient-level
PRACTICES = [
    {"practice_code": OWN, "practice_name": "Riverside Surgery", "pcn_code": OWN_PCN,
     "pcn_name": "Riverside PCN", "icb_code": OWN_ICB, "list_size": 12, "imd_decile": 2},
    {"practice_code": NEIGHBOUR, "practice_name": "Hillside Surgery", "pcn_code": OWN_PCN,
     "pcn_name": "Riverside PCN", "icb_code": OWN_ICB, "list_size": 5, "imd_decile": 5},
    {"practice_code": FAR, "practice_name": "Far Away Practice", "pcn_code": FAR_PCN,
     "pcn_name": "Faraway PCN", "icb_code": FAR_ICB, "list_size": 4, "imd_decile": 9},
]


def _visits(patient: str, sequence: str, practice: str, prefix: str) -> list[dict]:
    """Weekly contacts; clinician letters get a practice prefix (GA, GB, ... at Riverside)."""
    rows = b.visits(patient, sequence, practice=practice)
    for row in rows:
        row["clinician_id"] = f"{prefix}{row['clinician_id']}"
    return rows


def tables(extra_own_patients: int = 0) -> dict[str, pl.DataFrame]:
    """The three-practice extract; `extra_own_patients` more AAAA patients at Riverside."""
    rows: list[dict] = []
    patients: list[dict] = []
    own = [(f"p{i + 1}", s) for i, s in enumerate(OWN_SEQUENCES)]
    own += [(f"px{i}", "AAAA") for i in range(extra_own_patients)]
    for patient, sequence in own:
        rows += _visits(patient, sequence, OWN, "G")
        usual = "GB" if patient in ("p8", "p9") else "GA"
        patients.append({"patient_id": patient, "practice_code": OWN, "usual_gp_id": usual})
    for patient, sequence in (("q1", "XXY"), ("q2", "XXX"), ("q3", "XYX")):
        rows += _visits(patient, sequence, NEIGHBOUR, "H")
        patients.append({"patient_id": patient, "practice_code": NEIGHBOUR,
                         "usual_gp_id": "HX"})
    for patient, sequence in (("r1", "MMN"), ("r2", "MNN")):
        rows += _visits(patient, sequence, FAR, "F")
        patients.append({"patient_id": patient, "practice_code": FAR, "usual_gp_id": "FM"})
    rows.append(b.appt("r1", date(2024, 1, 31), "FM", status="cancelled", practice=FAR))
    return b.extract(rows, patients, PRACTICES)


def ingest_result(frames: dict[str, pl.DataFrame]) -> IngestResult:
    """Canonical frames as if they had been ingested (nothing rejected)."""
    report = IngestReport(preset="test")
    for table, frame in frames.items():
        report.counts[table].rows_read = report.counts[table].loaded = frame.height
        report.counts[table].files = 1
    rejects = pl.DataFrame([{"table": "appointments", "file": "appointments.csv", "line": 7,
                             "column": "appointment_date", "reason": "not a date",
                             "raw_value": REJECTED_RAW_VALUE}], schema=REJECT_SCHEMA)
    return IngestResult(tables=frames, extras={}, rejects=rejects, report=report)


def build_db(path: Path, extra_own_patients: int = 0) -> Path:
    """Build (or atomically replace) the database at `path`, default results included."""
    rebuild(ingest_result(tables(extra_own_patients)), path)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
