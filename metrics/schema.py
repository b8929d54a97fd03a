"""The canonical extract: tables, columns, vocabularies (docs/extract-schema.md).

Everything downstream of ingest sees only these names and values.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES: tuple[str, ...] = (
    "gp",
    "gp_registrar",
    "locum_gp",
    "nurse",
    "pharmacist",
    "physiotherapist",
    "paramedic",
    "physician_associate",
    "social_prescriber",
    "other_clinical",
    "admin",
    "unknown",
)
GP_ROLES: tuple[str, ...] = ("gp", "gp_registrar", "locum_gp")
NON_CLINICAL_ROLES: tuple[str, ...] = ("admin", "unknown")
CLINICAL_ROLES: tuple[str, ...] = tuple(r for r in ROLES if r not in NON_CLINICAL_ROLES)

STATUSES: tuple[str, ...] = ("attended", "did_not_attend", "cancelled", "booked", "unknown")
MODES: tuple[str, ...] = ("face_to_face", "telephone", "video_online", "home_visit", "unknown")
DEFAULT_MODES: tuple[str, ...] = ("face_to_face", "telephone", "video_online", "home_visit")
STAFF_GROUPS: tuple[str, ...] = ("gp", "clinical", "all")
# The roles each staff group counts (docs/methods.md s.1): the one definition, which the SQL
# reads through the engine's role_groups table.
STAFF_GROUP_ROLES: dict[str, tuple[str, ...]] = {
    "gp": GP_ROLES, "clinical": CLINICAL_ROLES, "all": ROLES}
# IMD 2019 decile -> deprivation quintile, ceil(decile / 2), 1 = most deprived (docs/methods.md
# s.7): the one definition, which the SQL reads through the engine's imd_quintiles table.
IMD_QUINTILE_OF_DECILE: dict[int, int] = {decile: (decile + 1) // 2 for decile in range(1, 11)}
AGE_BANDS: tuple[str, ...] = ("0-4", "5-17", "18-39", "40-64", "65-74", "75+")
SEXES: tuple[str, ...] = ("F", "M", "other", "unknown")


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # DuckDB type in the store
    required: bool


APPOINTMENTS: tuple[Column, ...] = (
    Column("appointment_id", "VARCHAR", True),
    Column("patient_id", "VARCHAR", True),
    Column("practice_code", "VARCHAR", True),
    Column("appointment_date", "DATE", True),
    Column("appointment_time", "TIME", False),
    Column("clinician_id", "VARCHAR", True),  # required column, may be blank (stored NULL)
    Column("clinician_role", "VARCHAR", True),
    Column("status", "VARCHAR", True),
    Column("mode", "VARCHAR", True),
)
PATIENTS: tuple[Column, ...] = (
    Column("patient_id", "VARCHAR", True),
    Column("practice_code", "VARCHAR", True),
    Column("usual_gp_id", "VARCHAR", False),
    Column("imd_decile", "INTEGER", False),
    Column("age_band", "VARCHAR", False),
    Column("sex", "VARCHAR", False),
)
PRACTICES: tuple[Column, ...] = (
    Column("practice_code", "VARCHAR", True),
    Column("practice_name", "VARCHAR", True),
    Column("pcn_code", "VARCHAR", True),
    Column("pcn_name", "VARCHAR", True),
    Column("sub_icb_code", "VARCHAR", False),
    Column("icb_code", "VARCHAR", False),
    Column("list_size", "INTEGER", False),
    Column("imd_decile", "INTEGER", False),
    Column("personal_lists", "BOOLEAN", False),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "appointments": APPOINTMENTS,
    "patients": PATIENTS,
    "practices": PRACTICES,
}


def column_names(table: str) -> list[str]:
    return [c.name for c in TABLES[table]]


def create_table_sql(table: str) -> str:
    """DDL for one canonical table in the store (identifiers come from this module only)."""
    cols = ", ".join(f"{c.name} {c.sql_type}" for c in TABLES[table])
    return f"CREATE TABLE {table} ({cols})"
