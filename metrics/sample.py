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

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from scipy.special import expit, ndtri

from metrics.schema import (
    AGE_BANDS,
    GP_ROLES,
    IMD_QUINTILE_OF_DECILE,
    MODES,
    ROLES,
    SEXES,
    STATUSES,
    TABLES,
)

Progress = Callable[[str, float], None]

BLOCK_PATIENTS = 100_000  # patients per generation block (bounds memory at any scale)
ICB_CODE = "QSY"  # fictional ("synthetic"); real ICB codes are not used
SUB_ICB_CODES = ("96X", "96Y", "96Z")
POLARS_TYPES = {"VARCHAR": pl.Utf8, "DATE": pl.Date, "TIME": pl.Time, "INTEGER": pl.Int32,
                "BOOLEAN": pl.Boolean}
FORMATS = ("csv", "parquet")
CSV_TIME = "%H:%M:%S"  # 14:30:00, as the schema shows (not polars' default nanoseconds)
SAMPLE_DATA_DIR = Path(__file__).resolve().parent.parent / "sample_data"

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


@dataclass
class _Practice:
    """One practice's plan: identity, staff, events; fixed before any patient is generated."""

    index: int
    code: str
    name: str
    pcn: int
    nominal_list: int  # list size at scale 1 (drives staffing and behaviour)
    patients: int  # patients generated (nominal x scale)
    imd_decile: int
    personal_lists: bool
    loyalty_effect: float  # practice random effect on the loyalty logit
    first_month: int = 0  # first month index with appointments (late join)
    end_month: int = 0  # months with appointments are [first_month, end_month)
    merge_into: int | None = None  # index of the absorbing practice
    merge_month: int = 0
    vocab: list[str] = field(default_factory=list)  # clinician ids
    vocab_role: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    holders: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # vocab idx
    sessions: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pool_table: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    pool_cum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    role_offset: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    role_count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))


@dataclass
class _Plan:
    config: SampleConfig
    months: np.ndarray  # datetime64[M], one per generated month
    practices: list[_Practice]
    pcn_codes: list[str]
    pcn_names: list[str]
    sub_icb: list[str]  # per PCN
    patient_offset: np.ndarray  # global index of each practice's first patient


def _rng(config: SampleConfig, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([config.seed, *key]))


def _month_index(config: SampleConfig) -> np.ndarray:
    last = np.datetime64(config.end, "M")
    return np.arange(last - config.months + 1, last + 1)


def _deciles(n: int, pcn_of: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every decile present (when n >= 10); neighbouring practices (one PCN) alike."""
    deciles = np.sort(np.arange(n) * 10 // n + 1)
    order = np.argsort(pcn_of + rng.uniform(-0.8, 0.8, n), kind="stable")
    out = np.empty(n, np.int64)
    out[order] = deciles
    return out


def _interleaved(deciles: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Practice indices taking turns across deprivation quintiles (random order within each),
    so that whatever is dealt out in this order is balanced across quintiles."""
    quintile = np.array([IMD_QUINTILE_OF_DECILE[int(d)] for d in deciles])
    groups = [list(rng.permutation(np.flatnonzero(quintile == q))) for q in np.unique(quintile)]
    order: list[int] = []
    while any(groups):
        for g in rng.permutation(len(groups)):
            if groups[g]:
                order.append(int(groups[g].pop()))
    return np.array(order, np.int64)


def _spread_sizes(deciles: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Nominal list sizes ~2,500 to ~30,000 (lognormal quantiles, median ~8,500), dealt out so
    that size does not depend on deprivation (the deprivation gradient stays the modelled one)."""
    n = len(deciles)
    q = (np.arange(n) + 0.5) / n
    sizes = np.exp(np.log(8500) + 0.62 * ndtri(q))
    if n >= 10:
        sizes[0], sizes[-1] = 2500, 30000
    sizes = np.round(np.clip(sizes * rng.uniform(0.95, 1.05, n), 2400, 31000))
    out = np.empty(n, np.int64)
    out[_interleaved(deciles, rng)] = np.sort(sizes)
    return out


def _personal(sizes: np.ndarray, deciles: np.ndarray, rng: np.random.Generator) -> set[int]:
    """~1 in 8 practices run personal lists: mid-sized (>= 5,000, not the largest fifth),
    spread across deprivation quintiles."""
    n = len(sizes)
    if n < 2:
        return set()
    ceiling = np.sort(sizes)[max(0, int(0.8 * n) - 1)]
    fits = [i for i in _interleaved(deciles, rng) if 5000 <= sizes[i] <= ceiling]
    return set(fits[:max(1, round(n / 8))])


def _plan(config: SampleConfig) -> _Plan:
    rng = _rng(config, 0)
    n, months, n_pcns = config.practices, config.months, min(config.pcns, config.practices)
    month_index = _month_index(config)
    pcn_of = np.arange(n) * n_pcns // n
    deciles = _deciles(n, pcn_of, rng)
    sizes = _spread_sizes(deciles, rng)
    numbers = np.sort(rng.choice(np.arange(81001, 99999), n, replace=False))
    codes = [f"Z{x:05d}" for x in numbers]
    stems = [PRACTICE_STEMS[i % len(PRACTICE_STEMS)] for i in rng.permutation(n)]
    names = [
        f"{s} {PRACTICE_SUFFIXES[int(rng.integers(len(PRACTICE_SUFFIXES)))]}"
        + (f" {i // len(PRACTICE_STEMS) + 1}" if i >= len(PRACTICE_STEMS) else "")
        for i, s in enumerate(stems)
    ]
    pcn_numbers = np.sort(rng.choice(np.arange(90001, 99999), n_pcns, replace=False))
    pcn_codes = [f"U{x:05d}" for x in pcn_numbers]
    pcn_names = [f"{PCN_AREAS[i % len(PCN_AREAS)]} PCN"
                 + (f" {i // len(PCN_AREAS) + 1}" if i >= len(PCN_AREAS) else "")
                 for i in range(n_pcns)]
    n_sub = min(len(SUB_ICB_CODES), max(1, -(-n_pcns // 3)))
    sub_icb = [SUB_ICB_CODES[i * n_sub // n_pcns] for i in range(n_pcns)]

    personal = _personal(sizes, deciles, rng)
    # practice random effects on loyalty, dealt like sizes so no quintile is lucky
    effects = np.empty(n)
    effects[_interleaved(deciles, rng)] = LOYALTY["practice_sd"] * ndtri((np.arange(n) + 0.5) / n)

    practices = [
        _Practice(index=i, code=codes[i], name=names[i], pcn=int(pcn_of[i]),
                  nominal_list=int(sizes[i]),
                  patients=max(1, round(sizes[i] * config.scale)),
                  imd_decile=int(deciles[i]), personal_lists=i in personal,
                  loyalty_effect=float(effects[i]),
                  end_month=months)
        for i in range(n)
    ]
    _plan_events(practices, months, rng)
    locum_pool = [f"LOC{k:04d}" for k in range(1, max(6, 2 * n) + 1)]
    for p in practices:
        _plan_staff(p, config, pcn_codes[p.pcn], locum_pool, _rng(config, 1, p.index))
    counts = np.array([p.patients for p in practices], np.int64)
    offset = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return _Plan(config, month_index, practices, pcn_codes, pcn_names, sub_icb, offset)


def _plan_events(practices: list[_Practice], months: int, rng: np.random.Generator) -> None:
    """Closures (~1 in 20), one merger (small into larger, same PCN if possible), one late join."""
    n = len(practices)
    free = [p for p in rng.permutation(n).tolist() if not practices[p].personal_lists]
    by_size = sorted(free, key=lambda i: practices[i].nominal_list)

    def month_at(fraction: float) -> int:
        return int(min(months - 1, max(1, round(fraction * months))))

    if n >= 3 and months >= 2 and len(by_size) >= 2:
        small = by_size[0]
        same_pcn = [i for i in range(n) if i != small and practices[i].pcn == practices[small].pcn
                    and practices[i].nominal_list > practices[small].nominal_list]
        others = [i for i in range(n) if i != small]
        target = (max(same_pcn, key=lambda i: practices[i].nominal_list) if same_pcn
                  else max(others, key=lambda i: practices[i].nominal_list))
        m = practices[small]
        m.merge_into, m.merge_month = target, month_at(0.55)
        free = [i for i in free if i not in (small, target)]
    if n >= 4 and months >= 2 and free:
        practices[free.pop(0)].first_month = month_at(0.2)
    for k in range(n // 20):
        if free:
            practices[free.pop(0)].end_month = month_at(0.45 + 0.25 * k)


def _plan_staff(p: _Practice, config: SampleConfig, pcn_code: str, locum_pool: list[str],
                rng: np.random.Generator) -> None:
    """Clinician ids and roles of one practice, and the GP pool of non-loyal contacts."""
    vocab: list[str] = []
    roles: list[int] = []
    role_id = {r: i for i, r in enumerate(ROLES)}

    def add(ids: list[str], role: str) -> np.ndarray:
        start = len(vocab)
        vocab.extend(ids)
        roles.extend([role_id[role]] * len(ids))
        return np.arange(start, len(vocab), dtype=np.int32)

    fewest = 3 if p.personal_lists else 2
    n_holders = max(fewest, round(p.nominal_list / 1800 * rng.uniform(0.85, 1.15)))
    holders = add([f"{p.code}-GP{j + 1:02d}" for j in range(n_holders)], "gp")
    sessions = rng.choice(np.array([4, 5, 6, 6, 7, 8, 8, 9]), n_holders) / 9.0
    periods = (config.months + 5) // 6  # registrars rotate every six months
    n_reg = 0 if p.nominal_list < 6000 or rng.random() < 0.4 else 1 + int(rng.random() < 0.4)
    registrars = [add([f"{p.code}-GR{q + 1:02d}{chr(65 + s)}" for q in range(periods)],
                      "gp_registrar") for s in range(n_reg)]
    n_loc = 1 if p.personal_lists else int(rng.integers(2, 7))
    locums = add([str(x) for x in rng.choice(locum_pool, n_loc, replace=False)], "locum_gp")

    # pool of a non-loyal GP contact: list-holders by sessions, registrars, locums
    locum_weight = (0.25 if p.personal_lists else rng.uniform(0.4, 1.1)) * n_holders / 6
    weights = np.concatenate([sessions, np.full(n_reg, 0.55),
                              np.full(n_loc, locum_weight / n_loc)])
    table = np.empty((periods, len(weights)), np.int32)
    table[:, :n_holders] = holders
    for s, ids in enumerate(registrars):
        table[:, n_holders + s] = ids
    table[:, n_holders + n_reg:] = locums

    offsets, counts = np.zeros(len(ROLES), np.int32), np.zeros(len(ROLES), np.int32)
    for role in OTHER_ROLES:
        owner = pcn_code if role in PCN_ROLES else p.code
        k = max(1, round(p.nominal_list / PATIENTS_PER_STAFF[role] * rng.uniform(0.8, 1.2)))
        ids = add([f"{owner}-{ROLE_PREFIX[role]}{j + 1:02d}" for j in range(k)], role)
        offsets[role_id[role]], counts[role_id[role]] = ids[0], len(ids)

    p.vocab, p.vocab_role = vocab, np.array(roles, np.int8)
    p.holders, p.sessions = holders, sessions
    p.pool_table, p.pool_cum = table, np.cumsum(weights) / weights.sum()
    p.role_offset, p.role_count = offsets, counts


def _age_probs(decile: int) -> np.ndarray:
    """Deprived practices are younger: the 65+ share scales from 0.7x (decile 1) to 1.24x."""
    probs = AGE_SHARE.copy()
    probs[4:] *= 0.7 + 0.06 * (decile - 1)
    return probs / probs.sum()


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


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")


def _write(frame: pl.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        frame.write_csv(path, time_format=CSV_TIME)
    else:
        frame.write_parquet(path)


def write_extract(tables: dict[str, pl.DataFrame], out_dir: Path, fmt: str = "csv"
                  ) -> dict[str, Path]:
    """Write appointments, patients and practices as <name>.csv or <name>.parquet."""
    _check_format(fmt)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in TABLES:
        paths[name] = out_dir / f"{name}.{fmt}"
        _write(tables[name], paths[name], fmt)
    return paths


class _ChunkWriter:
    """Appends frames of one schema to a single CSV or Parquet file."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self._file = None
        self._parquet = None

    def write(self, frame: pl.DataFrame) -> None:
        if self.fmt == "csv":
            first = self._file is None
            if first:
                self._file = open(self.path, "wb")  # noqa: SIM115 (closed in close())
            frame.write_csv(self._file, include_header=first, time_format=CSV_TIME)
        else:
            import pyarrow.parquet as pq

            table = frame.to_arrow()
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._parquet is not None:
            self._parquet.close()


def generate_to_dir(out_dir: Path, config: SampleConfig = SampleConfig(), fmt: str = "csv",
                    progress: Progress | None = None) -> dict[str, Path]:
    """Generate and write block by block, so memory stays bounded at any scale (same rows as
    `generate` then `write_extract`)."""
    _check_format(fmt)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = _plan(config)
    paths = {name: out_dir / f"{name}.{fmt}" for name in TABLES}
    writers = {name: _ChunkWriter(paths[name], fmt) for name in ("appointments", "patients")}
    try:
        for patients, appointments in _iter_blocks(plan, progress):
            writers["patients"].write(patients)
            writers["appointments"].write(appointments)
    finally:
        for w in writers.values():
            w.close()
    _write(_practices_frame(plan), paths["practices"], fmt)
    return paths


def write_sample_data(out_dir: Path = SAMPLE_DATA_DIR) -> dict[str, Path]:
    """Regenerate the shipped sample_data/ CSV files from SAMPLE_DATA_CONFIG, and the GPAD
    files of sample_data/gpad/ from the same extract (metrics.sample_gpad)."""
    from metrics.sample_gpad import sample_crosstab, write_crosstab

    tables = generate(SAMPLE_DATA_CONFIG)
    paths = write_extract(tables, out_dir, "csv")
    write_crosstab(sample_crosstab(tables), Path(out_dir) / "gpad")
    return paths
