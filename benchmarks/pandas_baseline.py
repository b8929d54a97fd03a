"""The obvious alternative: the same indices written in pandas as an analyst would write them.

Why it exists: to measure how much faster the SQL engine is than what an analyst would
otherwise write. This is that code, deliberately plain: filter the appointments, collapse
same-day repeats with `drop_duplicates`, then `groupby("patient_id").apply(...)` with a small
function per patient, and `groupby` sums for SLICC. It follows the project's conventions
(docs/methods.md s.1) so that tests/spec/test_pandas_baseline.py can show it gives the
engine's numbers; it is not used by the product.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from metrics.params import Params
from metrics.schema import GP_ROLES, STAFF_GROUP_ROLES

INDICES = ("upc", "coc", "secon", "mmci", "hhi", "kpc")


def staff_roles(group: str) -> set[str]:
    """Roles counted for the patient indices under a staff-group option."""
    return set(STAFF_GROUP_ROLES[group])


def registered_practice(appointments: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """patient_id -> practice_code and usual_gp_id: the patients file, else (unregistered
    patients) the practice of the latest appointment in contact order (docs/methods.md s.1)."""
    known = patients[["patient_id", "practice_code", "usual_gp_id"]]
    others = appointments[~appointments["patient_id"].isin(known["patient_id"])]
    order = ["appointment_date", "appointment_time", "appointment_id", "practice_code"]
    latest = (others.sort_values(order, na_position="last", kind="stable")
              .groupby("patient_id", as_index=False).tail(1)[["patient_id", "practice_code"]])
    latest["usual_gp_id"] = None
    return pd.concat([known, latest], ignore_index=True)


def counted_contacts(appointments: pd.DataFrame, home: pd.DataFrame, params: Params,
                     roles: set[str]) -> pd.DataFrame:
    """Attended contacts with a recorded clinician, counted mode and role, look-back year
    included, in contact order, same-day repeats with one clinician collapsed if asked."""
    a = appointments
    lookback = params.window_start - timedelta(days=365)
    keep = ((a["status"] == "attended") & a["clinician_id"].notna()
            & (a["clinician_id"].fillna("").str.strip() != "")
            & a["mode"].isin(params.modes) & a["clinician_role"].isin(roles)
            & (a["appointment_date"] >= lookback) & (a["appointment_date"] <= params.window_end))
    c = a[keep].rename(columns={"practice_code": "booked_practice_code"})
    c = c.merge(home, on="patient_id", how="left")
    c = c.sort_values(["appointment_date", "appointment_time", "appointment_id",
                       "booked_practice_code"], na_position="last", kind="stable")
    if params.collapse_same_day:
        c = c.drop_duplicates(["patient_id", "clinician_id", "appointment_date"], keep="first")
    c["in_window"] = c["appointment_date"] >= params.window_start
    return c


def one_patient(history: pd.DataFrame, min_contacts: int) -> tuple:
    """Every index of one patient from their contacts in order (look-back year included)."""
    in_window = history["in_window"].to_numpy()
    days = history["appointment_date"].to_numpy()
    seen = history["clinician_id"].to_numpy()
    seq = seen[in_window]
    n = len(seq)
    _, counts = np.unique(seq, return_counts=True)
    head = (history["practice_code"].iloc[0], n, len(counts))
    if n < min_contacts:
        return head + (np.nan,) * len(INDICES)
    upc = counts.max() / n
    coc = ((counts ** 2).sum() - n) / (n * (n - 1))
    secon = (seq[1:] == seq[:-1]).sum() / (n - 1)
    mmci = (1 - len(counts) / (n + 0.1)) / (1 - 1 / (n + 0.1))
    hhi = ((counts / n) ** 2).sum()
    # KPC: the clinician was seen on an earlier date within the 365 days before
    year = np.timedelta64(365, "D")
    known = 0
    for day, clinician in zip(days[in_window], seq, strict=True):
        known += bool(np.any((seen == clinician) & (days < day) & (days >= day - year)))
    return head + (upc, coc, secon, mmci, hhi, known / n)


def patient_indices(tables: dict[str, pd.DataFrame], params: Params) -> pd.DataFrame:
    """One row per patient with a counted contact in the window (indices NaN below minimum)."""
    home = registered_practice(tables["appointments"], tables["patients"])
    contacts = counted_contacts(tables["appointments"], home, params,
                                staff_roles(params.staff_group))
    seen = contacts.loc[contacts["in_window"], "patient_id"].unique()
    contacts = contacts[contacts["patient_id"].isin(seen)]
    rows = contacts.groupby("patient_id", sort=True).apply(one_patient, params.min_contacts)
    out = pd.DataFrame(rows.tolist(), index=rows.index,
                       columns=["practice_code", "contacts", "clinicians", *INDICES])
    return out.reset_index()


def practice_means(patients: pd.DataFrame) -> pd.DataFrame:
    """Mean of each index over a practice's eligible patients, with their count."""
    eligible = patients[patients["upc"].notna()]
    means = eligible.groupby("practice_code")[list(INDICES)].mean()
    means["eligible_patients"] = eligible.groupby("practice_code").size()
    return means.add_suffix("_mean").rename(
        columns={"eligible_patients_mean": "eligible_patients"}).reset_index()


def practice_slicc(tables: dict[str, pd.DataFrame], params: Params, monthly: bool = False
                   ) -> pd.DataFrame:
    """SLICC by practice (and calendar month if asked): GP contacts of named-GP patients with
    that GP / all GP contacts of named-GP patients."""
    home = registered_practice(tables["appointments"], tables["patients"])
    c = counted_contacts(tables["appointments"], home, params, set(GP_ROLES))
    c = c[c["in_window"] & c["usual_gp_id"].notna()]
    c["with_named_gp"] = (c["clinician_id"] == c["usual_gp_id"]).astype("int64")
    keys = ["practice_code"]
    if monthly:
        c["month"] = c["appointment_date"].dt.to_period("M").dt.to_timestamp()
        keys.append("month")
    out = c.groupby(keys).agg(slicc_numerator=("with_named_gp", "sum"),
                              slicc_denominator=("with_named_gp", "size")).reset_index()
    out["slicc"] = out["slicc_numerator"] / out["slicc_denominator"]
    return out


def read_parquet(paths: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The three canonical tables from Parquet files, dates as pandas datetimes."""
    tables = {name: pd.read_parquet(path) for name, path in paths.items()}
    a = tables["appointments"]
    a["appointment_date"] = pd.to_datetime(a["appointment_date"])
    return tables


def run(tables: dict[str, pd.DataFrame], params: Params) -> dict[str, pd.DataFrame]:
    """Everything the baseline computes: patients, practice means, practice and monthly SLICC."""
    a = tables["appointments"]
    if not pd.api.types.is_datetime64_any_dtype(a["appointment_date"]):
        a = a.assign(appointment_date=pd.to_datetime(a["appointment_date"]))
    tables = {**tables, "appointments": a}
    # window dates as Timestamps, so they compare with the datetime column
    window = params.with_(window_start=pd.Timestamp(params.window_start),
                          window_end=pd.Timestamp(params.window_end))
    patients = patient_indices(tables, window)
    return {
        "patients": patients,
        "practices": practice_means(patients).merge(
            practice_slicc(tables, window), on="practice_code", how="outer"),
        "slicc_monthly": practice_slicc(tables, window, monthly=True),
    }
