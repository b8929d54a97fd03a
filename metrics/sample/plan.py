"""The plan fixed before any patient is generated: practices, PCNs, staff and events (late
joins, mergers), each from its own random stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from metrics.sample.config import (
    AGE_SHARE,
    LOYALTY,
    OTHER_ROLES,
    PATIENTS_PER_STAFF,
    PCN_AREAS,
    PCN_ROLES,
    PRACTICE_STEMS,
    PRACTICE_SUFFIXES,
    ROLE_PREFIX,
    SUB_ICB_CODES,
    SampleConfig,
)
from metrics.schema import IMD_QUINTILE_OF_DECILE, ROLES


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
