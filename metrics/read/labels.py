"""Labels of the read layer: the one Python definition of each mapping the pages and exports
share (role -> staff group, IMD decile -> quintile and its label, modes, bands)."""

from __future__ import annotations

import polars as pl

from metrics.schema import IMD_QUINTILE_OF_DECILE

QUINTILE_LABELS = {"1": "Q1 most deprived", "2": "Q2", "3": "Q3", "4": "Q4",
                   "5": "Q5 least deprived", "unknown": "Not known"}
CONTACTS_BANDS = ("1", "2-3", "4-6", "7-11", "12+")
FREQUENT_ATTENDERS = "12+"
ROLE_GROUPS = {  # clinician_role -> who patients saw (triage away from GPs drives continuity)
    "gp": "GP", "gp_registrar": "GP registrar", "locum_gp": "Locum GP", "nurse": "Nurse",
    "pharmacist": "Pharmacist", "physiotherapist": "Other clinical (ARRS) roles",
    "paramedic": "Other clinical (ARRS) roles",
    "physician_associate": "Other clinical (ARRS) roles",
    "social_prescriber": "Other clinical (ARRS) roles",
    "other_clinical": "Other clinical (ARRS) roles", "admin": "Admin or unknown",
    "unknown": "Admin or unknown",
}
ROLE_GROUP_ORDER = ("GP", "GP registrar", "Locum GP", "Nurse", "Pharmacist",
                    "Other clinical (ARRS) roles", "Admin or unknown")
MODE_LABELS = {"face_to_face": "Face to face", "telephone": "Telephone",
               "video_online": "Video or online", "home_visit": "Home visit",
               "unknown": "Unknown mode"}
BREAKDOWN_NAMES = {"age_band": "age band", "contacts_band": "contacts in the window",
                   "patient_imd_quintile": "patient deprivation quintile"}


def label_quintile(col: str) -> pl.Expr:
    return pl.col(col).replace_strict(QUINTILE_LABELS, default=pl.col(col)).alias("label")


def imd_quintile(decile: pl.Expr) -> pl.Expr:
    """IMD decile (1 most deprived) -> quintile as text ('1'..'5'), blank where unknown."""
    return (decile.cast(pl.Int64).replace_strict(IMD_QUINTILE_OF_DECILE, default=None,
                                                 return_dtype=pl.Int64).cast(pl.Utf8))
