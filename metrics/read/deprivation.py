"""The Deprivation page's tables: by practice and by patient deprivation quintile."""

from __future__ import annotations

import polars as pl

from metrics.disclosure import DisclosureRule
from metrics.read.blocks import comparison, monthly_slicc
from metrics.read.filters import Selection
from metrics.read.source import ResultSource
from metrics.read.table import Table


def deprivation_tables(source: ResultSource, sel: Selection, rule: DisclosureRule
                       ) -> dict[str, Table]:
    """Continuity by the practice's and by the patient's deprivation quintile (Q1 first),
    with the number of practices in each practice band."""
    band = comparison(source, "practice_imd_quintile", sel.index, rule,
                      table_key=f"practice_imd_quintile_{sel.index}",
                      title="By practice deprivation quintile")
    frame = band.frame.sort("practice_imd_quintile")
    frame = frame.select("label", "practice_imd_quintile", "practices",
                         pl.exclude("label", "practice_imd_quintile", "practices"))
    patient = comparison(source, "patient_imd_quintile", sel.index, rule,
                         table_key=f"patient_imd_quintile_{sel.index}",
                         title="By patient deprivation quintile")
    return {
        "practice_band": Table(band.key, band.title, frame, band.scope, band.rule),
        "patient_band": Table(patient.key, patient.title,
                              patient.frame.sort("patient_imd_quintile"), patient.scope,
                              patient.rule),
        "practice_band_monthly": monthly_slicc(
            source, "practice_imd_quintile", rule,
            table_key="practice_imd_quintile_slicc_monthly",
            title="Monthly SLICC by practice deprivation quintile"),
    }
