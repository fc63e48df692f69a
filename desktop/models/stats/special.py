"""The special functions behind the confidence intervals and funnel limits, in plain Python (no scipy).

scipy served four functions here (ndtri, pdtr, gammaincinv, betainc) and brought ~34 MB into the installer
(issue 26). These are the classic algorithms, to about 1e-12 relative or better over the app's range;
tests/unit/test_stats_special.py holds them to scipy's values within 1e-10 over wide grids.

- The normal quantile is the standard library's `NormalDist.inv_cdf` (Wichura's AS 241, full double precision).
- Probability masses and the incomplete functions' prefactors x^a e^-x / Γ(a+1) and x^a y^b / B(a, b) follow
  C. Loader, "Fast and accurate computation of binomial probabilities" (2000), as R's nmath `dpois_raw` and
  `dbinom_raw` do: the saddle-point deviance `bd0` and the Stirling remainder `stirlerr` keep them accurate to a
  few ulps where exp(a·log x − x − lgamma(a)) would lose digits as a grows (1e-11 relative at a = 10,000).
- The regularised incomplete gamma function: its power series below x = a + 1, Legendre's continued fraction
  (modified Lentz) above; the regularised incomplete beta function: its continued fraction on the side of the
  mean where it converges fast, and I_x(a, b) = 1 − I_{1−x}(b, a) on the other. Press et al., Numerical Recipes,
  3rd ed., §6.2 (gser, gcf) and §6.4 (betacf). Each computes the smaller tail directly, so tails keep their
  relative accuracy.
- The inverse of P(a, ·): Numerical Recipes §6.2.1 (invgammp)'s starting point and Halley's steps, kept inside a
  bracket that every evaluation narrows, with bisection when a step would leave it.

They take and return floats one at a time: a funnel curve calls them a few hundred times, and a plain float call
costs less than building a numpy array for it.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_EPS = 2.2e-16  # a series or continued fraction stops when its next term changes the sum by less than this
_TINY = 1e-300  # the modified Lentz method's stand-in for a zero denominator
_MAX_TERMS = 100_000  # ~ 9·√a terms are needed near x = a: enough for a up to ~10⁸
_LN_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_STANDARD_NORMAL = NormalDist()


def ndtri(p: float) -> float:
    """Φ⁻¹(p), the standard normal quantile; −∞ at 0 and +∞ at 1, as scipy.special.ndtri."""
    if not 0 <= p <= 1:
        raise ValueError(f"a probability must be between 0 and 1, not {p!r}")
    if p == 0:
        return -math.inf
    if p == 1:
        return math.inf
    return _STANDARD_NORMAL.inv_cdf(p)


def gammainc(a: float, x: float) -> float:
    """The regularised lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a), for a > 0 and x ≥ 0."""
    return _gamma_pair(a, x)[0]


def gammaincc(a: float, x: float) -> float:
    """The regularised upper incomplete gamma function Q(a, x) = 1 − P(a, x), accurate where it is small."""
    return _gamma_pair(a, x)[1]


def pdtr(k: float, m: float) -> float:
    """P(K ≤ k) for K ~ Poisson(m), k a whole number ≥ 0: Q(k + 1, m). 1 at m = 0."""
    if k < 0:
        return 0.0
    if m == 0:
        return 1.0
    return gammaincc(math.floor(k) + 1, m)


def poisson_pmf(k: float, m: float) -> float:
    """m^k e^-m / Γ(k + 1), k ≥ 0 (a real k is allowed: the incomplete gamma function's prefactor)."""
    if m < 0 or k < 0:
        raise ValueError(f"poisson_pmf needs k ≥ 0 and m ≥ 0, not k={k!r}, m={m!r}")
    if m == 0:
        return 1.0 if k == 0 else 0.0
    if k == 0:
        return math.exp(-m)
    return math.exp(-_stirlerr(k) - _bd0(k, m)) / math.sqrt(2 * math.pi * k)


def binomial_pmf(k: float, n: float, p: float, q: float | None = None) -> float:
    """C(n, k) p^k q^(n−k), q = 1 − p, for 0 ≤ k ≤ n (real n and k allowed: Γ(n + 1) / (Γ(k + 1) Γ(n − k + 1))).

    q may be given when it is known more exactly than 1 − p (a p near 1)."""
    q = 1 - p if q is None else q
    if not (0 <= k <= n and 0 <= p <= 1):
        raise ValueError(f"binomial_pmf needs 0 ≤ k ≤ n and 0 ≤ p ≤ 1, not k={k!r}, n={n!r}, p={p!r}")
    if p == 0:
        return 1.0 if k == 0 else 0.0
    if q == 0:
        return 1.0 if k == n else 0.0
    if k == 0:
        return math.exp(-_bd0(n, n * q) - n * p if p < 0.1 else n * math.log(q))
    if k == n:
        return math.exp(-_bd0(n, n * p) - n * q if q < 0.1 else n * math.log(p))
    deviance = _stirlerr(n) - _stirlerr(k) - _stirlerr(n - k) - _bd0(k, n * p) - _bd0(n - k, n * q)
    return math.exp(deviance) / math.sqrt(2 * math.pi * k * (n - k) / n)  # not 1 − k/n: k near n would cancel


def betainc(a: float, b: float, x: float, y: float | None = None) -> float:
    """The regularised incomplete beta function I_x(a, b), for a, b > 0 and 0 ≤ x ≤ 1.

    y = 1 − x may be given when it is known more exactly than 1 − x (an x near 1)."""
    y = 1 - x if y is None else y
    if not (a > 0 and b > 0 and 0 <= x <= 1):
        raise ValueError(f"betainc needs a, b > 0 and 0 ≤ x ≤ 1, not a={a!r}, b={b!r}, x={x!r}")
    if x == 0:
        return 0.0
    if y == 0:
        return 1.0
    # x^a y^b / B(a, b) = a·b/(a + b) · C(a + b, a) x^a y^b (Loader's binomial term with a real "n").
    front = a * b / (a + b) * binomial_pmf(a, a + b, x, y)
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1 - front * _beta_fraction(b, a, y) / b


def gammaincinv(a: float, q: float) -> float:
    """The x with P(a, x) = q, for a > 0 and 0 ≤ q ≤ 1 (0 at q = 0, +∞ at q = 1); χ²_{q; 2a}/2."""
    if not (a > 0 and 0 <= q <= 1):
        raise ValueError(f"gammaincinv needs a > 0 and 0 ≤ q ≤ 1, not a={a!r}, q={q!r}")
    if q == 0:
        return 0.0
    if q == 1:
        return math.inf
    upper = q > 0.5  # then match Q(a, x) to 1 − q (exact for q ≥ ½), which keeps the upper tail's digits
    target = 1 - q if upper else q
    x = _inverse_start(a, q)
    low, high = 0.0, math.inf  # P(a, low) < q ≤ P(a, high), narrowed by each evaluation
    for _ in range(200):
        if x == 0:
            return 0.0  # the quantile underflows (a tiny a and q)
        p_x, q_x = _gamma_pair(a, x)
        miss = (target - q_x) if upper else (p_x - target)  # P(a, x) − q, from the smaller tail
        if miss == 0:
            return x
        if miss < 0:
            low = x
        else:
            high = x
        density = a * poisson_pmf(a, x) / x  # d/dx P(a, x) = x^(a−1) e^-x / Γ(a)
        if density > 0:
            u = miss / density
            # Halley's correction with the second derivative's ratio (a − 1)/x − 1, damped as Numerical Recipes does.
            step = u / (1 - 0.5 * min(1.0, u * ((a - 1) / x - 1)))
            if abs(step) <= 4 * _EPS * x:
                return x - step
            nxt = x - step
        else:
            nxt = math.nan
        if not low < nxt < high:
            nxt = 0.5 * (low + high) if high < math.inf else 2 * x + 1
            if nxt in (low, high):  # the bracket is as narrow as floats go
                return x
        x = nxt
    raise ArithmeticError(f"gammaincinv({a!r}, {q!r}) did not converge")


def _inverse_start(a: float, q: float) -> float:
    """A first guess at P⁻¹(a, q): Wilson–Hilferty's cube for a > 1, NR's small-a forms otherwise; near zero,
    P(a, x) ≈ x^a / Γ(a + 1) inverted."""
    if a > 1:
        cube = 1 - 1 / (9 * a) + ndtri(q) / (3 * math.sqrt(a))
        if cube > 0.1:
            return a * cube**3
        return math.exp((math.log(q) + math.lgamma(a + 1)) / a)
    t = 1 - a * (0.253 + a * 0.12)
    if q < t:
        return (q / t) ** (1 / a)
    return 1 - math.log1p(-(q - t) / (1 - t))


def _gamma_pair(a: float, x: float) -> tuple[float, float]:
    """(P(a, x), Q(a, x)), the smaller one computed directly and the other as its complement."""
    if not (a > 0 and x >= 0):
        raise ValueError(f"the incomplete gamma function needs a > 0 and x ≥ 0, not a={a!r}, x={x!r}")
    if x == 0:
        return 0.0, 1.0
    if x == math.inf:
        return 1.0, 0.0
    if x < a + 1:
        # P = x^a e^-x / Γ(a + 1) · Σ_n x^n / ((a + 1)…(a + n))   (NR gser)
        term = total = 1.0
        ap = a
        for _ in range(_MAX_TERMS):
            ap += 1
            term *= x / ap
            total += term
            if term < total * _EPS:
                p = poisson_pmf(a, x) * total
                return p, 1 - p
        raise ArithmeticError(f"the incomplete gamma series for ({a!r}, {x!r}) did not converge")
    # Q = x^a e^-x / Γ(a) · 1/(x + 1 − a − 1·(1 − a)/(x + 3 − a − 2·(2 − a)/(x + 5 − a − …)))   (NR gcf, Lentz)
    b = x + 1 - a
    c = 1 / _TINY
    d = 1 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        c = b + an / c
        if -_TINY < d < _TINY:
            d = _TINY
        if -_TINY < c < _TINY:
            c = _TINY
        d = 1 / d
        delta = d * c
        h *= delta
        if -_EPS <= delta - 1 <= _EPS:
            q = a * poisson_pmf(a, x) * h
            return 1 - q, q
    raise ArithmeticError(f"the incomplete gamma continued fraction for ({a!r}, {x!r}) did not converge")


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b), modified Lentz (NR betacf): fast for x < (a + 1)/(a + b + 2)."""
    qab, qap, qam = a + b, a + 1, a - 1
    c = 1.0
    d = 1 - qab * x / qap
    if abs(d) < _TINY:
        d = _TINY
    d = 1 / d
    h = d
    # The zero guards are chained comparisons rather than abs(): this loop is most of a funnel curve's time.
    for m in range(1, _MAX_TERMS):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        c = 1 + aa / c
        if -_TINY < d < _TINY:
            d = _TINY
        if -_TINY < c < _TINY:
            c = _TINY
        d = 1 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        c = 1 + aa / c
        if -_TINY < d < _TINY:
            d = _TINY
        if -_TINY < c < _TINY:
            c = _TINY
        d = 1 / d
        delta = d * c
        h *= delta
        if -_EPS <= delta - 1 <= _EPS:
            return h
    raise ArithmeticError(f"the incomplete beta continued fraction for ({a!r}, {b!r}, {x!r}) did not converge")


# Stirling's series for the remainder, 1/(12n) − 1/(360n³) + 1/(1260n⁵) − 1/(1680n⁷) + 1/(1188n⁹) (Loader §2).
_S0, _S1, _S2, _S3, _S4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188


def _stirlerr(n: float) -> float:
    """log(n!) − log(√(2πn) (n/e)^n), Stirling's formula's error; 0 at n = 0 by Loader's convention."""
    if n == 0:
        return 0.0
    if n <= 15:
        return math.lgamma(n + 1) - (n + 0.5) * math.log(n) + n - _LN_SQRT_2PI
    nn = n * n
    if n > 500:
        return (_S0 - _S1 / nn) / n
    if n > 80:
        return (_S0 - (_S1 - _S2 / nn) / nn) / n
    if n > 35:
        return (_S0 - (_S1 - (_S2 - _S3 / nn) / nn) / nn) / n
    return (_S0 - (_S1 - (_S2 - (_S3 - _S4 / nn) / nn) / nn) / nn) / n


def _bd0(x: float, np_: float) -> float:
    """x·log(x/np) + np − x without its cancellation near x = np (Loader's series in v = (x − np)/(x + np))."""
    if abs(x - np_) < 0.1 * (x + np_):
        v = (x - np_) / (x + np_)
        s = (x - np_) * v
        ej = 2 * x * v
        v *= v
        odd = 1
        while True:
            ej *= v
            odd += 2
            s1 = s + ej / odd
            if s1 == s:
                return s1
            s = s1
    return x * math.log(x / np_) + np_ - x
