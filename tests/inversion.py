"""What an attacker does with a shared figure: turn its interval back into counts.

Wilson limits L and U are the roots of (n + z^2) p^2 - (2k + z^2) p + k^2 / n = 0, so their sum
S and product P give back k and n: with m = n + z^2,
(4P - S^2) m^2 + (2S - 4P) z^2 m - z^4 = 0, and k = (S m - z^2) / 2.
A t interval's half-width over its SD is t(n - 1) / sqrt(n), which falls with n: the n is found
by search.
"""

from __future__ import annotations

import math

from scipy import stats

Z = 1.959963984540054


def wilson(k: float, n: float, z: float = Z) -> tuple[float, float]:
    """Newcombe (1998) method 3, written out independently of metrics.stats."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def invert_wilson(lower: float, upper: float, z: float = Z) -> tuple[float, float]:
    """(k, n) whose Wilson limits are (lower, upper)."""
    s, p, z2 = lower + upper, lower * upper, z * z
    a, b, c = 4 * p - s * s, (2 * s - 4 * p) * z2, -z2 * z2
    if abs(a) < 1e-15:
        m = -c / b
    else:
        roots = [(-b + sign * math.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a)
                 for sign in (1, -1)]
        m = max(r for r in roots if r > 0)
    return (s * m - z2) / 2, m - z2


def invert_t(lower: float, upper: float, sd: float, largest: int = 100_000) -> int:
    """The number of patients n whose t interval of a mean with this SD has this width."""
    target = (upper - lower) / 2 / sd
    lo, hi = 2, largest
    while lo < hi:  # t(n - 1) / sqrt(n) falls as n grows
        mid = (lo + hi) // 2
        if stats.t.ppf(0.975, mid - 1) / math.sqrt(mid) > target:
            lo = mid + 1
        else:
            hi = mid
    def gap(n: int) -> float:
        return abs(stats.t.ppf(0.975, n - 1) / math.sqrt(n) - target)

    return min((n for n in (lo - 1, lo) if n >= 2), key=gap)  # the nearer of the two
