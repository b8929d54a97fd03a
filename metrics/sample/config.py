"""What a sample is asked for (SampleConfig) and the calibration its continuity patterns come
from (figures they produce: sample_data/README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

Progress = Callable[[str, float], None]

ICB_CODE = "QSY"  # fictional ("synthetic"); real ICB codes are not used
SUB_ICB_CODES = ("96X", "96Y", "96Z")
SAMPLE_DATA_DIR = Path(__file__).resolve().parents[2] / "sample_data"

# --- calibration (see sample_data/README.md for the figures these produce) -----------------
# appointments per patient per month by age band (GPAD: ~0.46 per registered patient per month)
AGE_SHARE = np.array([0.055, 0.15, 0.29, 0.32, 0.095, 0.09])
AGE_RATE = np.array([0.50, 0.20, 0.33, 0.45, 0.75, 1.15])
FRAILTY_SHAPE = 1.3  # gamma shape of a patient's contact-rate multiplier (over-dispersion)
SEASON = np.array([1.08, 1.02, 1.05, 0.95, 1.00, 0.98, 0.97, 0.88, 1.00, 1.06, 1.07, 0.92])
# P(GP) among a patient's appointments, by age band; falls a point a year (ARRS roles grow)
GP_SHARE = np.array([0.49, 0.43, 0.41, 0.43, 0.46, 0.49])
GP_SHARE_TREND = -0.01
# loyalty logit: intercept, personal lists, per doubling of list size, age bands, deprivation
# (per decile from the middle), named GP's sessions, per year, practice and patient spread
LOYALTY = {
    "intercept": -0.7,
    "personal": 1.4,
    "size_per_doubling": -0.18,
    "age": np.array([-0.1, -0.35, -0.6, 0.0, 0.9, 1.25]),
    "deprivation_per_decile": 0.01,
    "sessions": 0.8,
    "per_year": -0.3,
    "no_named_gp": -0.5,
    "practice_sd": 0.22,
    "patient_sd": 0.9,
}
AVAILABILITY = (0.5, 0.45)  # P(preferred GP available) = a + b * sessions (sessions 0.44-1)
NAMED_IS_PREFERRED = {True: 0.96, False: 0.45}  # P(preferred GP = named GP) by personal lists
NAMED_COVERAGE = {True: 0.98, False: 0.93}  # P(patient has a named GP)
# non-GP appointments by role (of the ~55% not with a GP)
OTHER_ROLES = ("nurse", "other_clinical", "pharmacist", "physiotherapist", "paramedic",
               "physician_associate", "social_prescriber", "admin", "unknown")
OTHER_ROLE_P = np.array([0.37, 0.20, 0.12, 0.05, 0.05, 0.07, 0.04, 0.06, 0.04])
PCN_ROLES = ("pharmacist", "physiotherapist", "paramedic", "social_prescriber")
ROLE_PREFIX = {"gp": "GP", "gp_registrar": "GR", "nurse": "PN", "other_clinical": "HC",
               "pharmacist": "CP", "physiotherapist": "FP", "paramedic": "PM",
               "physician_associate": "PA", "social_prescriber": "SP", "admin": "AD",
               "unknown": "XX"}
PATIENTS_PER_STAFF = {"nurse": 3500, "other_clinical": 5000, "physician_associate": 15000,
                      "admin": 4000, "unknown": 20000, "pharmacist": 12000,
                      "physiotherapist": 20000, "paramedic": 20000, "social_prescriber": 20000}
# modes: [face_to_face, telephone, video_online, home_visit, unknown] for GP / other staff
MODE_P_GP = np.array([0.595, 0.300, 0.090, 0.0, 0.015])
MODE_P_OTHER = np.array([0.695, 0.210, 0.075, 0.0, 0.02])
HOME_VISIT_P = np.array([0.001, 0.001, 0.001, 0.002, 0.006, 0.045])  # by age band
DNA_P = np.array([0.04, 0.045, 0.064, 0.042, 0.025, 0.025])  # by age band
CANCELLED_P, UNKNOWN_STATUS_P, BOOKED_P, BOOKED_RECENT_P = 0.042, 0.008, 0.002, 0.25
BLANK_CLINICIAN_P = 0.005
SAME_DAY_REPEAT_P = 0.015  # a second contact, same patient, clinician and day
SATURDAY_P = 0.03  # extended-access Saturday sessions

PRACTICE_STEMS = (
    "Oakfield", "Riverside", "Elmwood", "Brookside", "Hillcrest", "Millbrook", "Ashgrove",
    "Beech House", "Castle Street", "Church View", "Fernbank", "Greenhill", "Highfield",
    "Kingsway", "Lakeside", "Larchwood", "Meadowbank", "Northgate", "Orchard", "Park View",
    "Queens Road", "Rosebank", "Station Road", "Southfield", "The Limes", "Thornbury",
    "Victoria", "Westbrook", "Willow Tree", "Woodlands", "Abbey Lane", "Bridge Street",
    "Cedar House", "Dale View", "Eastgate", "Foxhill", "Glebe House", "Hawthorn", "Ivy Grove",
    "Juniper", "Kestrel", "Linden", "Marsh Road", "New Street", "Old Forge", "Priory",
    "Red House", "Sycamore", "Tannery", "Upton Lane", "Vale", "Wharf Road", "Yew Tree",
)
PRACTICE_SUFFIXES = ("Surgery", "Medical Centre", "Health Centre", "Medical Practice",
                     "Family Practice", "Group Practice")
PCN_AREAS = ("Northbrook", "Eastvale", "Southmoor", "Westford", "Central Hartwell", "Riverton",
             "Ashby Vale", "Kingsmere", "Hollinwood", "Brackley Fields", "Carrow", "Dunmore",
             "Fellside", "Greyfriars", "Harbourside", "Lowther")


@dataclass(frozen=True)
class SampleConfig:
    seed: int = 20261124
    practices: int = 40
    pcns: int = 8
    months: int = 27
    end: date = date(2026, 10, 31)  # last day of the last month generated
    scale: float = 1.0  # multiplies list sizes (patients and appointments)

    def __post_init__(self) -> None:
        if self.practices < 1:
            raise ValueError("need at least one practice")
        if self.pcns < 1:
            raise ValueError("need at least one PCN")  # more PCNs than practices: one each
        if self.months < 1:
            raise ValueError("need at least one month")
        if not self.scale > 0:
            raise ValueError("scale must be positive")


# the shipped sample_data/ extract: a newcomer's first look at the format (at most ~3 MB)
SAMPLE_DATA_CONFIG = SampleConfig(practices=4, pcns=1, scale=0.05)
