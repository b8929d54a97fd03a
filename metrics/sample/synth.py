"""A synthetic ICB extract, deterministic from a seed, with the continuity patterns of research.

Why synthetic: real appointment extracts are patient data. The generator gives the dashboard,
the tests and the benchmarks an ICB whose continuity shows the published structure
(docs/methods.md s.10): larger practices lower, personal-list practices with SLICC
~50-80%, older patients higher, mean practice UPC ~0.5-0.65, a slow decline over time and a weak
deprivation gradient (more deprived slightly lower).

How: who a patient sees at a GP contact is driven by a patient-specific loyalty to a preferred GP
(their named GP in personal-list practices, often someone else where the named GP is only
administrative). Loyalty is a logistic function of practice size, personal lists, age, the
patient's deprivation, the named GP's sessions and time, plus practice and patient random effects.
A contact that is not "loyal" goes to a GP drawn from the practice's pool (list-holders by
sessions, registrars on six-month rotations, locums from an ICB-wide pool).

Scale thins patients and keeps every practice's staff, so the indices look alike at every scale.
Work is split into blocks of at most `BLOCK_PATIENTS` patients of one practice, each with its own
random stream: `generate` and the chunked `generate_to_dir` produce identical rows, and memory
stays bounded at any scale.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import expit

from metrics.sample.config import (
    AGE_RATE,
    AVAILABILITY,
    BLANK_CLINICIAN_P,
    BOOKED_P,
    BOOKED_RECENT_P,
    CANCELLED_P,
    DNA_P,
    FRAILTY_SHAPE,
    GP_SHARE,
    GP_SHARE_TREND,
    HOME_VISIT_P,
    ICB_CODE,
    LOYALTY,
    MODE_P_GP,
    MODE_P_OTHER,
    NAMED_COVERAGE,
    NAMED_IS_PREFERRED,
    OTHER_ROLE_P,
    OTHER_ROLES,
    SAME_DAY_REPEAT_P,
    SATURDAY_P,
    SEASON,
    UNKNOWN_STATUS_P,
    Progress,
    SampleConfig,
)
from metrics.sample.plan import _age_probs, _Plan, _plan, _Practice, _rng
from metrics.schema import AGE_BANDS, GP_ROLES, MODES, ROLES, SEXES, STATUSES, TABLES

BLOCK_PATIENTS = 100_000  # patients per generation block (bounds memory at any scale)
POLARS_TYPES = {"VARCHAR": pl.Utf8, "DATE": pl.Date, "TIME": pl.Time, "INTEGER": pl.Int32,
                "BOOLEAN": pl.Boolean}


def _blocks(plan: _Plan) -> Iterator[tuple[_Practice, int, int]]:
    """(practice, first patient in practice, patients) for every generation block."""
    for p in plan.practices:
        for start in range(0, p.patients, BLOCK_PATIENTS):
            yield p, start, min(BLOCK_PATIENTS, p.patients - start)


def _patient_ids(plan: _Plan, first_global: int, n: int) -> pl.Series:
    """Pseudonymised ids: a bijection of the global patient index onto 10 digits."""
    g = np.arange(first_global, first_global + n, dtype=np.int64)
    salt = (plan.config.seed * 2654435761) % 10**10
    ids = (g * 6364136223 + salt) % 10**10
    return pl.Series(ids).cast(pl.Utf8).str.zfill(10).str.pad_start(11, "P")


def _calendar(plan: _Plan) -> tuple[np.ndarray, ...]:
    """Weekday and Saturday days (days since 1970) per month, as flat arrays with offsets."""
    weekdays, saturdays = [], []
    end = np.datetime64(plan.config.end, "D")
    for m in plan.months:
        days = np.arange(m.astype("datetime64[D]"), (m + 1).astype("datetime64[D]"))
        days = days[days <= end]
        dow = (days.astype(np.int64) - 4) % 7  # 0 = Monday
        wd, sat = days[dow < 5], days[dow == 5]
        weekdays.append(wd if len(wd) else days)
        saturdays.append(sat if len(sat) else weekdays[-1])

    def flat(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        counts = np.array([len(x) for x in parts])
        return (np.concatenate(parts).astype(np.int64),
                np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return (*flat(weekdays), *flat(saturdays))


@dataclass
class _Cohort:
    """One block's patients: who they are and what drives their appointments."""

    age: np.ndarray  # index into AGE_BANDS
    sex: np.ndarray  # index into SEXES
    imd: np.ndarray  # LSOA decile
    has_named: np.ndarray
    named: np.ndarray  # index into the practice's list-holders
    preferred: np.ndarray  # the GP they try to see (index into list-holders)
    logit: np.ndarray  # loyalty to the preferred GP, before the time trend
    frailty: np.ndarray  # multiplier of the contact rate


def _cohort(rng: np.random.Generator, p: _Practice, n: int) -> _Cohort:
    age = rng.choice(len(AGE_BANDS), n, p=_age_probs(p.imd_decile))
    sex = rng.choice(len(SEXES), n, p=[0.503, 0.495, 0.001, 0.001])
    imd = np.clip(p.imd_decile + np.round(rng.normal(0, 1.3, n)), 1, 10).astype(np.int32)
    has_named = rng.random(n) < NAMED_COVERAGE[p.personal_lists]
    holder_p = p.sessions / p.sessions.sum()
    named = rng.choice(len(p.holders), n, p=holder_p)
    other = rng.choice(len(p.holders), n, p=holder_p)
    keep = has_named & (rng.random(n) < NAMED_IS_PREFERRED[p.personal_lists])
    preferred = np.where(keep, named, other)
    L = LOYALTY
    logit = (L["intercept"] + L["personal"] * p.personal_lists
             + L["size_per_doubling"] * np.log2(p.nominal_list / 8000)
             + L["age"][age] + L["deprivation_per_decile"] * (imd - 5.5)
             + L["sessions"] * (p.sessions[preferred] - 0.75)
             + L["no_named_gp"] * ~has_named + p.loyalty_effect
             + rng.normal(0, L["patient_sd"], n))
    frailty = rng.gamma(FRAILTY_SHAPE, 1 / FRAILTY_SHAPE, n)
    return _Cohort(age, sex, imd, has_named, named, preferred, logit, frailty)


@dataclass
class _Rows:
    """One block's appointments as arrays, in chronological order."""

    pat: np.ndarray  # index into the cohort
    month: np.ndarray  # index into the generated months
    day: np.ndarray  # days since 1970
    minute: np.ndarray  # minutes after midnight (meaningless where missing_time)
    missing_time: np.ndarray
    clin: np.ndarray  # index into the practice's clinician ids; -1 = blank
    status: np.ndarray  # index into STATUSES
    mode: np.ndarray  # index into MODES


def _rows(rng: np.random.Generator, plan: _Plan, p: _Practice, c: _Cohort,
          calendar: tuple[np.ndarray, ...]) -> _Rows:
    # how many: Poisson counts per patient-month (age, frailty, season, practice active)
    n, n_months = len(c.age), len(plan.months)
    active = np.zeros(n_months)
    active[p.first_month:p.end_month] = 1.0
    season = SEASON[plan.months.astype(np.int64) % 12] * active
    lam = (AGE_RATE[c.age] * c.frailty)[:, None] * season[None, :]
    cells = np.repeat(np.arange(n * n_months), rng.poisson(lam).ravel())
    pat, month, repeat = _same_day_repeats(rng, cells // n_months, cells % n_months)
    k = len(pat)
    years = (month - (n_months - 12.5)) / 12.0  # 0 at the middle of the last 24 months

    # when: a weekday (sometimes a Saturday) of the month, a 10-minute slot from 08:00
    wd, wd_off, wd_n, sa, sa_off, sa_n = calendar
    saturday = rng.random(k) < SATURDAY_P
    u = rng.random(k)
    day = np.where(saturday, sa[sa_off[month] + (u * sa_n[month]).astype(np.int64)],
                   wd[wd_off[month] + (u * wd_n[month]).astype(np.int64)])
    minute = 8 * 60 + 10 * np.minimum(62, (rng.beta(1.6, 2.0, k) * 63).astype(np.int64))
    missing_time = rng.random(k) < (0.2 if p.index % 13 == 5 else 0.01)

    # who: a GP (the preferred one when loyal and available, else from the pool) or other staff
    is_gp = rng.random(k) < _gp_share(c, pat, years)
    available = AVAILABILITY[0] + AVAILABILITY[1] * p.sessions[c.preferred]
    loyal = rng.random(k) < available[pat] * expit(c.logit[pat] + LOYALTY["per_year"] * years)
    period = np.minimum(month // 6, p.pool_table.shape[0] - 1)
    entry = np.minimum(np.searchsorted(p.pool_cum, rng.random(k)), len(p.pool_cum) - 1)
    gp_clin = np.where(loyal, p.holders[c.preferred[pat]], p.pool_table[period, entry])
    other_role = np.array([ROLES.index(r) for r in OTHER_ROLES])[
        rng.choice(len(OTHER_ROLES), k, p=OTHER_ROLE_P)]
    other_clin = p.role_offset[other_role] + (
        rng.random(k) * p.role_count[other_role]).astype(np.int32)
    clin = np.where(is_gp, gp_clin, other_clin).astype(np.int32)

    # a same-day repeat copies its predecessor's day and clinician, an hour or more later
    src = np.flatnonzero(repeat) - 1
    day[repeat], clin[repeat] = day[src], clin[src]
    minute[repeat] = np.minimum(18 * 60 + 50, minute[src] + 60 + 10 * rng.integers(0, 18, len(src)))

    # how, and what happened
    is_gp_role = np.isin(p.vocab_role[clin], [ROLES.index(r) for r in GP_ROLES])
    mode = np.where(is_gp_role, rng.choice(5, k, p=MODE_P_GP), rng.choice(5, k, p=MODE_P_OTHER))
    mode[rng.random(k) < HOME_VISIT_P[c.age[pat]]] = MODES.index("home_visit")
    mode[repeat] = MODES.index("telephone")
    status = _statuses(rng, c.age[pat], day, np.datetime64(plan.config.end, "D").astype(np.int64))
    clin[rng.random(k) < BLANK_CLINICIAN_P] = -1

    order = np.argsort(day * 2000 + np.where(missing_time, 1999, minute), kind="stable")
    return _Rows(pat[order], month[order], day[order], minute[order], missing_time[order],
                 clin[order], status[order], mode[order])


def _gp_share(c: _Cohort, pat: np.ndarray, years: np.ndarray) -> np.ndarray:
    """P(an appointment is with a GP): by age, falling a point a year as other roles grow."""
    return GP_SHARE[c.age[pat]] + GP_SHARE_TREND * years


def _block_tables(plan: _Plan, p: _Practice, start: int, n: int,
                  calendar: tuple[np.ndarray, ...]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Patients and appointments of one block of one practice (its own random stream)."""
    block_no = start // BLOCK_PATIENTS
    rng = _rng(plan.config, 2, p.index, block_no)
    c = _cohort(rng, p, n)
    r = _rows(rng, plan, p, c, calendar)
    k = len(r.pat)
    if k >= 10**8:
        raise ValueError("too many appointments in one block")
    # appointment ids number the block's rows in date order, after a block prefix
    block_global = sum(-(-q.patients // BLOCK_PATIENTS) for q in plan.practices[:p.index])
    appt_no = (block_global + block_no + 1) * 10**8 + np.arange(k, dtype=np.int64)
    registered = plan.practices[p.merge_into] if p.merge_into is not None else p
    moved = (p.merge_into is not None) & (r.month >= p.merge_month)
    ids = _patient_ids(plan, int(plan.patient_offset[p.index]) + start, n)
    vocab = pl.Series(p.vocab, dtype=pl.Utf8)

    appointments = pl.DataFrame({
        "appointment_id": pl.Series(appt_no).cast(pl.Utf8),
        "patient_id": ids.gather(r.pat),
        "practice_code": pl.Series(np.where(moved, registered.code, p.code)),
        "appointment_date": pl.Series(r.day.astype(np.int32)).cast(pl.Date),
        "appointment_time": pl.Series(r.minute * 60_000_000_000).cast(pl.Time)
        .scatter(np.flatnonzero(r.missing_time), None),
        "clinician_id": vocab.gather(np.maximum(r.clin, 0))
        .scatter(np.flatnonzero(r.clin < 0), None),
        "clinician_role": pl.Series(list(ROLES)).gather(p.vocab_role[np.maximum(r.clin, 0)]),
        "status": pl.Series(list(STATUSES)).gather(r.status),
        "mode": pl.Series(list(MODES)).gather(r.mode),
    })
    patients = pl.DataFrame({
        "patient_id": ids,
        "practice_code": pl.repeat(registered.code, n, dtype=pl.Utf8, eager=True),
        "usual_gp_id": vocab.gather(p.holders[c.named])
        .scatter(np.flatnonzero(~c.has_named), None),
        "imd_decile": pl.Series(c.imd, dtype=pl.Int32),
        "age_band": pl.Series(list(AGE_BANDS)).gather(c.age),
        "sex": pl.Series(list(SEXES)).gather(c.sex),
    })
    return _typed("patients", patients), _typed("appointments", appointments)


def _same_day_repeats(rng: np.random.Generator, pat: np.ndarray, month: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Follow ~1.5% of rows with a repeat row; the flag marks rows repeating the row before."""
    dup = rng.random(len(pat)) < SAME_DAY_REPEAT_P
    reps = 1 + dup
    repeat = np.zeros(int(reps.sum()), bool)
    repeat[(np.cumsum(reps) - 1)[dup]] = True  # the second copy of a duplicated row
    return np.repeat(pat, reps), np.repeat(month, reps), repeat


def _statuses(rng: np.random.Generator, age: np.ndarray, day: np.ndarray,
              end_day: int) -> np.ndarray:
    """Attended ~90%, DNA ~4% (young adults most), cancelled, booked (mostly the last week:
    not yet reconciled), unknown. Codes index STATUSES."""
    k = len(day)
    p_booked = np.where(day > end_day - 7, BOOKED_RECENT_P, BOOKED_P)
    edges = np.cumsum([DNA_P[age], np.full(k, CANCELLED_P), p_booked,
                       np.full(k, UNKNOWN_STATUS_P)], axis=0)
    # u below the first edge: did_not_attend (1), ... ; above the last: attended (0)
    return (1 + (rng.random(k)[None, :] >= edges).sum(axis=0)) % 5


def _typed(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Exactly the canonical columns, order and polars types."""
    return frame.select(pl.col(c.name).cast(POLARS_TYPES[c.sql_type]) for c in TABLES[table])


def _practices_frame(plan: _Plan) -> pl.DataFrame:
    registered = [0] * len(plan.practices)
    for p in plan.practices:
        registered[p.merge_into if p.merge_into is not None else p.index] += p.patients
    ps = plan.practices
    return _typed("practices", pl.DataFrame({
        "practice_code": [p.code for p in ps],
        "practice_name": [p.name for p in ps],
        "pcn_code": [plan.pcn_codes[p.pcn] for p in ps],
        "pcn_name": [plan.pcn_names[p.pcn] for p in ps],
        "sub_icb_code": [plan.sub_icb[p.pcn] for p in ps],
        "icb_code": [ICB_CODE] * len(ps),
        "list_size": registered,
        "imd_decile": [p.imd_decile for p in ps],
        "personal_lists": [p.personal_lists for p in ps],
    }))


def _iter_blocks(plan: _Plan, progress: Progress | None
                 ) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    calendar = _calendar(plan)
    blocks = list(_blocks(plan))
    for i, (p, start, n) in enumerate(blocks):
        if progress:
            progress(f"generating {p.code}", i / len(blocks))
        yield _block_tables(plan, p, start, n, calendar)
    if progress:
        progress("generated", 1.0)


def generate(config: SampleConfig = SampleConfig(), progress: Progress | None = None
             ) -> dict[str, pl.DataFrame]:
    """The whole synthetic extract in memory (canonical columns, order and types)."""
    plan = _plan(config)
    parts = list(_iter_blocks(plan, progress))
    return {
        "appointments": pl.concat([a for _, a in parts], rechunk=True),
        "patients": pl.concat([pt for pt, _ in parts], rechunk=True),
        "practices": _practices_frame(plan),
    }
