"""A small pure-Python reference implementation of the indices (docs/methods.md).

Written for clarity, not speed: it is what the SQL in queries/ is tested against, on hand-worked
cases and on random extracts (tests/spec/test_indices.py). Each index is a function of one patient's
clinician ids in contact order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

import polars as pl
from dateutil.relativedelta import relativedelta

from metrics.params import Params
from metrics.schema import GP_ROLES, IMD_QUINTILE_OF_DECILE, STAFF_GROUP_ROLES

# ---- the indices of one patient (clinician ids in contact order) --------------------------


def upc(seq: Sequence[str]) -> float:
    """Usual Provider of Care: max_j n_j / N."""
    return max(Counter(seq).values()) / len(seq)


def coc(seq: Sequence[str]) -> float:
    """Bice-Boxerman: (sum n_j^2 - N) / (N (N - 1))."""
    n = len(seq)
    return (sum(v * v for v in Counter(seq).values()) - n) / (n * (n - 1))


def secon(seq: Sequence[str]) -> float:
    """Sequential continuity: consecutive same-clinician pairs / (N - 1)."""
    return sum(a == b for a, b in zip(seq, seq[1:], strict=False)) / (len(seq) - 1)


def mmci(seq: Sequence[str]) -> float:
    """Magill & Senf: (1 - s / (N + 0.1)) / (1 - 1 / (N + 0.1))."""
    n, s = len(seq), len(set(seq))
    return (1 - s / (n + 0.1)) / (1 - 1 / (n + 0.1))


def hhi(seq: Sequence[str]) -> float:
    """Herfindahl: sum (n_j / N)^2."""
    n = len(seq)
    return sum((v / n) ** 2 for v in Counter(seq).values())


def kpc(window: Sequence[tuple[date, str]], history: Sequence[tuple[date, str]]) -> float:
    """Share of window contacts whose clinician was seen on an earlier date within 365 days.

    `history` holds every counted contact (look-back year included) as (date, clinician).
    """
    known = 0
    for day, clinician in window:
        if any(c == clinician and day - timedelta(days=365) <= d < day for d, c in history):
            known += 1
    return known / len(window)


def usual_provider(contacts: Sequence[tuple[tuple, str]]) -> str:
    """Most contacts; tie -> seen most recently, i.e. the latest contact in contact order;
    further tie -> smallest clinician id (docs/methods.md s.3). `contacts`: (contact-order key,
    clinician), the key as Contact.order_key gives it."""
    counts = Counter(c for _, c in contacts)
    last = {c: max(k for k, cc in contacts if cc == c) for c in counts}
    # max keeps the first of equals: in sorted order, the smallest id
    return max(sorted(counts), key=lambda c: (counts[c], last[c]))


PATIENT_INDICES = {"upc": upc, "coc": coc, "secon": secon, "mmci": mmci, "hhi": hhi}

# ---- from canonical tables ----------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    appointment_id: str
    patient_id: str
    practice_code: str  # registered practice
    booked_practice_code: str
    day: date
    at: time | None
    clinician_id: str
    role: str

    def order_key(self) -> tuple:
        """Place in contact order (docs/methods.md s.1): missing time after any given time."""
        return (self.day, self.at is None, self.at or time(0), self.appointment_id,
                self.booked_practice_code)


def _staff_roles(group: str) -> set[str]:
    return set(STAFF_GROUP_ROLES[group])


def registered_practices(tables: dict[str, pl.DataFrame]) -> dict[str, str]:
    """patient -> practice: the patients extract, else the practice of the last appointment in
    contact order (date, time with a missing time last, appointment id, practice code)."""
    home = dict(zip(tables["patients"]["patient_id"], tables["patients"]["practice_code"],
                    strict=True))
    latest: dict[str, tuple] = {}  # patient -> the largest contact-order key seen
    for row in tables["appointments"].iter_rows(named=True):
        pid = row["patient_id"]
        at = row["appointment_time"]
        key = (row["appointment_date"], at is None, at or time(0), row["appointment_id"],
               row["practice_code"])
        if pid not in home and (pid not in latest or key > latest[pid]):
            latest[pid] = key
    return {**{p: v[-1] for p, v in latest.items()}, **home}


def counted_contacts(
    tables: dict[str, pl.DataFrame], params: Params, roles: set[str]
) -> list[Contact]:
    """Counted contacts for one role set, look-back year included, collapsed if asked, ordered."""
    home = registered_practices(tables)
    lookback = params.window_start - timedelta(days=365)
    kept = []
    for r in tables["appointments"].iter_rows(named=True):
        if (r["status"] == "attended" and r["clinician_id"] and r["clinician_id"].strip()
                and r["mode"] in params.modes and r["clinician_role"] in roles
                and lookback <= r["appointment_date"] <= params.window_end):
            kept.append(Contact(r["appointment_id"], r["patient_id"], home[r["patient_id"]],
                                r["practice_code"], r["appointment_date"], r["appointment_time"],
                                r["clinician_id"], r["clinician_role"]))
    kept.sort(key=Contact.order_key)
    if params.collapse_same_day:
        seen: set[tuple[str, str, date]] = set()
        first = []
        for c in kept:
            key = (c.patient_id, c.clinician_id, c.day)
            if key not in seen:
                seen.add(key)
                first.append(c)
        kept = first
    return kept


def patient_indices(tables: dict[str, pl.DataFrame], params: Params) -> dict[str, dict]:
    """patient_id -> contacts, clinicians, usual_clinician_id and every index (None if N < min)."""
    contacts = counted_contacts(tables, params, _staff_roles(params.staff_group))
    by_patient: dict[str, list[Contact]] = defaultdict(list)
    for c in contacts:
        by_patient[c.patient_id].append(c)
    out = {}
    for pid, history in by_patient.items():
        window = [c for c in history if c.day >= params.window_start]
        if not window:
            continue
        seq = [c.clinician_id for c in window]
        eligible = len(seq) >= params.min_contacts
        row: dict = {
            "practice_code": window[0].practice_code,
            "contacts": len(seq),
            "clinicians": len(set(seq)),
            "usual_clinician_id": usual_provider([(c.order_key(), c.clinician_id)
                                                  for c in window]),
        }
        for name, fn in PATIENT_INDICES.items():
            row[name] = fn(seq) if eligible else None
        row["kpc"] = (
            kpc([(c.day, c.clinician_id) for c in window],
                [(c.day, c.clinician_id) for c in history])
            if eligible else None
        )
        out[pid] = row
    return out


def named_gp_ratios(tables: dict[str, pl.DataFrame], params: Params) -> dict[str, dict]:
    """SLICC and OPR numerators/denominators keyed by 'practice:<code>', 'list:<code>:<gp>' and
    'month:<code>:<YYYY-MM>' (SLICC only for months)."""
    named = {
        r["patient_id"]: r["usual_gp_id"]
        for r in tables["patients"].iter_rows(named=True)
        if r["usual_gp_id"] is not None
    }
    holders = {
        (r["practice_code"], r["usual_gp_id"])
        for r in tables["patients"].iter_rows(named=True)
        if r["usual_gp_id"] is not None
    }
    sums: dict[str, Counter] = defaultdict(Counter)
    for c in counted_contacts(tables, params, set(GP_ROLES)):
        if c.day < params.window_start:
            continue
        gp = named.get(c.patient_id)
        keys = [f"practice:{c.practice_code}", f"month:{c.practice_code}:{c.day:%Y-%m}"]
        if gp is not None:
            keys.append(f"list:{c.practice_code}:{gp}")
            for k in keys:
                sums[k]["slicc_denominator"] += 1
                sums[k]["slicc_numerator"] += c.clinician_id == gp
        if (c.practice_code, c.clinician_id) in holders:
            for k in (f"practice:{c.practice_code}", f"list:{c.practice_code}:{c.clinician_id}"):
                sums[k]["opr_denominator"] += 1
                sums[k]["opr_numerator"] += gp == c.clinician_id
    return {k: dict(v) for k, v in sums.items()}


def imd_quintile(decile: int | None) -> int | None:
    return None if decile is None else IMD_QUINTILE_OF_DECILE[decile]


# ---- inferred regular GP (exports that name no GP; docs/methods.md s.5) ---------------------


def inferred_regular_gp(history: Sequence[tuple[tuple, str]], month: date) -> str | None:
    """The GP seen most, at least twice, in the 12 calendar months before `month` (its first
    day); tie -> seen most recently; further tie -> smallest id (usual_provider's rule).
    `history`: (contact-order key, GP) contacts; a key starts with the contact's date."""
    first = month.replace(day=1) - relativedelta(months=12)
    seen = [(k, c) for k, c in history if first <= k[0] < month.replace(day=1)]
    if not seen:
        return None
    gp = usual_provider(seen)
    return gp if sum(c == gp for _, c in seen) >= 2 else None


def inferred_slicc_monthly(tables: dict[str, pl.DataFrame], params: Params
                           ) -> dict[tuple[str, str], dict[str, int]]:
    """(practice, 'YYYY-MM') -> gp_contacts, slicc_inferred_numerator and _denominator: GP
    contacts in the month (SLICC's contacts) against the patient's inferred GP for that month."""
    history_start = params.window_start.replace(day=1) - relativedelta(months=12)
    contacts = counted_contacts(tables, params.with_(window_start=history_start), set(GP_ROLES))
    by_patient: dict[str, list[tuple[tuple, str]]] = defaultdict(list)
    for c in contacts:
        by_patient[c.patient_id].append((c.order_key(), c.clinician_id))
    sums: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for c in contacts:
        if c.day < params.window_start:
            continue
        gp = inferred_regular_gp(by_patient[c.patient_id], c.day.replace(day=1))
        row = sums[(c.practice_code, f"{c.day:%Y-%m}")]
        row["gp_contacts"] += 1
        row["slicc_inferred_denominator"] += gp is not None
        row["slicc_inferred_numerator"] += gp is not None and c.clinician_id == gp
    return {k: dict(v) for k, v in sums.items()}


# ---- rolling UPC (the SPC series of the practice page) ---------------------------------------


def rolling_upc(tables: dict[str, pl.DataFrame], params: Params
                ) -> dict[tuple[str, str], dict[str, float | int]]:
    """(practice, 'YYYY-MM') -> eligible_patients, upc_mean, upc_pooled_numerator and
    _denominator over the 12 calendar months ending with each month of the window, and
    history_months (months since the practice's first counted contact at most 12 months before
    the window's first month; at most 12)."""
    history_start = params.window_start.replace(day=1) - relativedelta(months=12)
    contacts = counted_contacts(tables, params.with_(window_start=history_start),
                                _staff_roles(params.staff_group))
    first_month: dict[str, date] = {}
    for c in contacts:
        month = c.day.replace(day=1)
        if c.day >= history_start:
            first_month[c.practice_code] = min(first_month.get(c.practice_code, month), month)
    out: dict[tuple[str, str], dict[str, float | int]] = {}
    month = params.window_start.replace(day=1)
    while month <= params.window_end:
        start = month - relativedelta(months=11)
        by_patient: dict[str, list[str]] = defaultdict(list)
        practice_of: dict[str, str] = {}
        for c in contacts:
            if start <= c.day < month + relativedelta(months=1):
                by_patient[c.patient_id].append(c.clinician_id)
                practice_of[c.patient_id] = c.practice_code
        sums: dict[str, list[float]] = defaultdict(list)
        pooled: Counter = Counter()
        for pid, seq in by_patient.items():
            if len(seq) >= params.min_contacts:
                code = practice_of[pid]
                sums[code].append(upc(seq))
                pooled[(code, "numerator")] += max(Counter(seq).values())
                pooled[(code, "denominator")] += len(seq)
        for code, values in sums.items():
            first = first_month[code]
            months_seen = (month.year - first.year) * 12 + month.month - first.month + 1
            out[(code, f"{month:%Y-%m}")] = {
                "eligible_patients": len(values),
                "upc_mean": sum(values) / len(values),
                "upc_pooled_numerator": pooled[(code, "numerator")],
                "upc_pooled_denominator": pooled[(code, "denominator")],
                "history_months": min(12, months_seen),
            }
        month += relativedelta(months=1)
    return out
