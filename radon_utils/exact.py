"""The exact posterior of the radon model, by quadrature: ground truth for the samplers.

Given the three scales ``(sigma_a, sigma_b, eps)``, the county effects ``a, b`` and the
means ``(mu_a, mu_b)`` are jointly Gaussian with the data, so they integrate out in
closed form: :func:`log_marginal_likelihood` returns ``log p(y | sigma_a, sigma_b, eps)``
with nothing sampled. What remains is a three-dimensional integral over the scales,
which :func:`exact_posterior` does on a grid over a box chosen from the data so that the
cut-off tails carry a negligible share of the mass (below 1e-10). Each scale's grid
coordinate is ``log sigma`` near zero (mass of ``sigma_b`` piles up there: its grid
reaches down to ~1e-12), sigma itself across the bulk, and ``log sigma`` again in a
long upper tail; the Jacobian of that change of variables is part of the integrand.

The algebra, county by county. With ``W = [1, floor]`` (rows: the county's homes),
``D = diag(sigma_a^2, sigma_b^2)`` and ``G = W'W = [[n, n1], [n1, n1]]``, the county's
homes have covariance ``V = eps^2 I + W D W'`` given ``mu``. The push-through identity
``V^-1 W = W (eps^2 I + D G)^-1`` and the determinant lemma
``det V = eps^(2 (n - 2)) det(eps^2 I + D G)`` reduce everything to 2 x 2 matrices whose
entries need only the counts ``n0, n1`` and sums of ``y`` and ``y^2`` on each floor.
Written out, every term is a sum of non-negative products (no cancellation), and
counties with the same ``(n0, n1)`` share the 2 x 2 determinant, so the data reduce to
one set of sums per distinct ``(n0, n1)`` pair (46 of them for Minnesota).

Given the scales, the county effects are Gaussian as well (each county's ``(a_j, b_j)`` needs only
its own counts and sums, and ``mu``'s Gaussian conditional), so their exact posterior is a
mixture of Gaussians over the grid: :meth:`ExactPosterior.county_effects` summarises it.

What a grid cannot hold is refused with :class:`ExactPosteriorError`, which says why: a scale whose
posterior mean or variance does not exist (e.g. ``sigma_b`` under its HalfCauchy prior when no
home is on the first floor: the data say nothing about it, so its posterior is its prior), a
posterior that is improper (``log_radon`` constant within every county and floor), mass at the
grid's edge, or summaries that the grid's odd and even nodes do not agree on.

Layout: the public constants and :class:`ExactPosteriorError` first; then, mostly bottom-up,
the likelihood's helpers and :func:`log_marginal_likelihood`, the county effects' helpers,
:func:`_choose_grid` followed by its steps in the order it calls them, :class:`ExactPosterior`
and the two summary helpers it uses, :func:`exact_posterior`, and last the checks it runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import interpolate, optimize, special

from .data import MODEL_COLUMNS, county_index, validate_radon
from .priors import Prior, resolve_priors

__all__ = [
    "SCALES",
    "LOCATIONS",
    "TAIL_NATS",
    "EDGE_MASS",
    "RESOLUTION",
    "DROPPED_MASS",
    "ExactPosteriorError",
    "log_marginal_likelihood",
    "ExactPosterior",
    "exact_posterior",
]

#: The scale parameters, in the order of the grid's axes.
SCALES = ("sigma_a", "sigma_b", "eps")
#: The location parameters, integrated out analytically.
LOCATIONS = ("mu_a", "mu_b")
#: The grid's box ends where the log posterior density (in the grid coordinates) has
#: fallen this many nats below its peak on every face: e^-25 ~ 1e-11, so the tails the box cuts
#: off are far below every accuracy quoted for the summaries (~1e-7).
TAIL_NATS = 25.0
#: Largest share of a scale's mass allowed on the grid's first or last node. A box chosen by
#: :data:`TAIL_NATS` leaves ~1e-11 there, so only a box that failed to hold the posterior exceeds
#: 1e-6; and what it lets through moves no probability by more than 1e-6.
EDGE_MASS = 1e-6
#: Largest disagreement, in posterior sds, between the summaries of the grid's odd and of its
#: even nodes (each a grid of twice the spacing) before the grid is called too coarse. The full
#: grid converges much faster than its halves: on the radon data, subsets of it and synthetic
#: data, its own error was below 1/25 of this disagreement (so below ~2e-3 sds here).
RESOLUTION = 0.05
#: Largest share of the posterior mass that :meth:`ExactPosterior.county_effects` may leave out by
#: skipping the grid's lightest nodes (it changes no probability by more than this).
DROPPED_MASS = 1e-9

#: Prior families with a tail so heavy (density ~ sigma^-2) that the data must tame it for the
#: posterior's mean and variance to exist.
_HEAVY_TAILED = ("HalfCauchy",)
#: Grid points x county groups handled at once: 2^20 float64 elements bound each temporary array
#: to 8 MB whatever the grid's size, yet are thousands of grid points per step, so the loop's
#: Python overhead is negligible.
_CHUNK_ELEMENTS = 1 << 20


class ExactPosteriorError(ValueError):
    """The grid cannot hold this posterior (a moment that does not exist, an improper posterior,
    mass at the grid's edge, too coarse a grid); the message says why and what to change."""


@dataclass(frozen=True)
class _CountyStats:
    """Sufficient statistics of the data, summed over counties with the same ``(n0, n1)``.

    Each array has one entry per distinct pair of (basement, first-floor) counts.
    """

    n_obs: int
    n_counties: int
    n0: np.ndarray  # basement homes per county in the group
    n1: np.ndarray  # first-floor homes per county in the group
    count: np.ndarray  # counties in the group
    sum_y: np.ndarray  # sum of all y
    sum_y0: np.ndarray  # sum of basement y
    sum_y1: np.ndarray  # sum of first-floor y
    contrast: np.ndarray  # sum of n0 * Y1 - n1 * Y0 (floor contrast within counties)
    sum_sq: np.ndarray  # sum of y^2
    ss_a: np.ndarray  # sum of n * (squared deviations of y from the county mean)
    # sum of n1 * (basement y^2 + squared deviations of first-floor y from their mean):
    ss_b: np.ndarray
    ss_ab: np.ndarray  # sum of n0 * n1 * (squared deviations of y from its county-and-floor mean)


def _county_stats(data: pd.DataFrame, county: np.ndarray) -> _CountyStats:
    """Reduce the (validated) radon table, its homes numbered by ``county``
    (:func:`~radon_utils.data.county_index`), to the grouped sufficient statistics that the
    collapsed likelihood needs."""
    y = data["log_radon"].to_numpy(dtype=float)
    upstairs = data["floor"].to_numpy() == 1
    k = int(county.max()) + 1

    def per_county(values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        weights = values if mask is None else np.where(mask, values, 0.0)
        return np.bincount(county, weights=weights, minlength=k)

    ones = np.ones_like(y)
    n0 = per_county(ones, ~upstairs)
    n1 = per_county(ones, upstairs)
    n = n0 + n1
    y0 = per_county(y, ~upstairs)
    y1 = per_county(y, upstairs)
    mean_all = (y0 + y1) / n
    mean0 = np.divide(y0, n0, out=np.zeros(k), where=n0 > 0)
    mean1 = np.divide(y1, n1, out=np.zeros(k), where=n1 > 0)
    q0 = per_county(y**2, ~upstairs)
    q1 = per_county(y**2, upstairs)
    ss_all = per_county((y - mean_all[county]) ** 2)
    ss0 = per_county((y - mean0[county]) ** 2, ~upstairs)
    ss1 = per_county((y - mean1[county]) ** 2, upstairs)

    pairs, group = np.unique(np.column_stack([n0, n1]), axis=0, return_inverse=True)
    group = group.ravel()

    def per_group(values: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=values, minlength=len(pairs))

    return _CountyStats(
        n_obs=len(y),
        n_counties=k,
        n0=pairs[:, 0],
        n1=pairs[:, 1],
        count=per_group(np.ones(k)),
        sum_y=per_group(y0 + y1),
        sum_y0=per_group(y0),
        sum_y1=per_group(y1),
        contrast=per_group(n0 * y1 - n1 * y0),
        sum_sq=per_group(q0 + q1),
        ss_a=per_group(n * ss_all),
        ss_b=per_group(n1 * (q0 + ss1)),
        ss_ab=per_group(n0 * n1 * (ss0 + ss1)),
    )


@dataclass
class _Collapsed:
    """``log p(y | scales)`` and the Gaussian conditional posterior of ``(mu_a, mu_b)``: its means,
    its variances and the covariance of ``mu_a`` with ``mu_b``."""

    loglik: np.ndarray
    mu_mean: tuple[np.ndarray, np.ndarray]
    mu_var: tuple[np.ndarray, np.ndarray]
    mu_cov: np.ndarray


class _CollapsedSums(NamedTuple):
    """The twelve sums behind :func:`_collapse`, each named by the entry it builds and the product
    of squared scales it multiplies (``e2 = eps^2``, ``sa2 = sigma_a^2``, ``sb2 = sigma_b^2``,
    ``e4 = e2 e2``, ``ea = e2 sa2``, ``eb = e2 sb2``, ``sab = sa2 sb2``).

    Per county group, they are the coefficients of the numerators' polynomials; summed over the
    counties, each over its ``det(eps^2 I + D G)``, they are the same names at every grid node.
    """

    quad_e4: np.ndarray  # y'V^-1 y (times eps^2): its e4 term
    quad_ea: np.ndarray  # ... its ea term
    quad_eb: np.ndarray  # ... its eb term
    quad_sab: np.ndarray  # ... its sab term
    a11_e2: np.ndarray  # (W'V^-1 W)_11: its e2 term
    a11_sb2: np.ndarray  # ... its sb2 term
    a12_e2: np.ndarray  # (W'V^-1 W)_12, also the first part of (W'V^-1 W)_22: its e2 term
    a22_sa2: np.ndarray  # the rest of (W'V^-1 W)_22: its sa2 term
    b0_e2: np.ndarray  # (W'V^-1 y)_1: its e2 term
    b0_sb2: np.ndarray  # ... its sb2 term
    b1_e2: np.ndarray  # (W'V^-1 y)_2: its e2 term
    b1_sa2: np.ndarray  # ... its sa2 term


def _collapse(
    stats: _CountyStats,
    sigma_a: np.ndarray | float,
    sigma_b: np.ndarray | float,
    eps: np.ndarray | float,
    tau_a: float,
    tau_b: float,
) -> _Collapsed:
    """Integrate out county effects and ``(mu_a, mu_b) ~ N(0, diag(tau_a^2, tau_b^2))``.

    The scales broadcast against each other (pass axes shaped ``(n, 1, 1)`` etc. for a grid).
    """
    sa2, sb2, e2 = (np.square(np.asarray(v, dtype=float)) for v in (sigma_a, sigma_b, eps))
    shape = np.broadcast_shapes(sa2.shape, sb2.shape, e2.shape)
    sa2, sb2, e2 = (np.broadcast_to(v, shape).ravel() for v in (sa2, sb2, e2))
    e4, ea, eb, sab = e2 * e2, e2 * sa2, e2 * sb2, sa2 * sb2

    n0, n1, cnt = stats.n0, stats.n1, stats.count
    n, n01 = n0 + n1, n0 * n1
    # Each county contributes ratios (polynomial in the scales) / det(eps^2 I + D G); the
    # polynomials' coefficients, summed over the counties of a group, are these columns.
    coef = np.column_stack(
        _CollapsedSums(
            quad_e4=stats.sum_sq,
            quad_ea=stats.ss_a,
            quad_eb=stats.ss_b,
            quad_sab=stats.ss_ab,
            a11_e2=cnt * n,
            a11_sb2=cnt * n01,
            a12_e2=cnt * n1,
            a22_sa2=cnt * n01,
            b0_e2=stats.sum_y,
            b0_sb2=n1 * stats.sum_y0,
            b1_e2=stats.sum_y1,
            b1_sa2=stats.contrast,
        )
    )
    size = e2.size
    sums = np.empty((size, coef.shape[1]))
    sum_logdet = np.empty(size)
    chunk = max(1, _CHUNK_ELEMENTS // len(cnt))
    for start in range(0, size, chunk):
        part = slice(start, start + chunk)
        det = e4[part, None] + ea[part, None] * n + eb[part, None] * n1 + sab[part, None] * n01
        sum_logdet[part] = np.log(det) @ cnt
        np.reciprocal(det, out=det)
        sums[part] = det @ coef
    s = _CollapsedSums(*sums.T)
    sum_logdet += (stats.n_obs - 2 * stats.n_counties) * np.log(e2)
    quad = (s.quad_e4 * e4 + s.quad_ea * ea + s.quad_eb * eb + s.quad_sab * sab) / e2
    a11 = s.a11_e2 * e2 + s.a11_sb2 * sb2
    a12 = s.a12_e2 * e2
    a22 = a12 + s.a22_sa2 * sa2
    b0 = s.b0_e2 * e2 + s.b0_sb2 * sb2
    b1 = s.b1_e2 * e2 + s.b1_sa2 * sa2

    # Gaussian integral over mu with prior precision P = diag(1/tau_a^2, 1/tau_b^2).
    h11 = a11 + 1.0 / tau_a**2
    h22 = a22 + 1.0 / tau_b**2
    det_h = h11 * h22 - a12 * a12
    m0 = (h22 * b0 - a12 * b1) / det_h
    m1 = (h11 * b1 - a12 * b0) / det_h
    loglik = (
        -0.5 * stats.n_obs * math.log(2.0 * math.pi)
        - 0.5 * sum_logdet
        - 0.5 * quad
        + 0.5 * (b0 * m0 + b1 * m1)
        - math.log(tau_a * tau_b)
        - 0.5 * np.log(det_h)
    )
    return _Collapsed(
        loglik=loglik.reshape(shape),
        mu_mean=(m0.reshape(shape), m1.reshape(shape)),
        mu_var=((h22 / det_h).reshape(shape), (h11 / det_h).reshape(shape)),
        mu_cov=(-a12 / det_h).reshape(shape),
    )


def _location_scales(priors: Mapping[str, Prior]) -> tuple[float, float]:
    return float(priors["mu_a"].scale), float(priors["mu_b"].scale)


def log_marginal_likelihood(
    data: pd.DataFrame,
    sigma_a: float | np.ndarray,
    sigma_b: float | np.ndarray,
    eps: float | np.ndarray,
    priors: Mapping[str, Prior] | None = None,
) -> float | np.ndarray:
    """Return ``log p(log_radon | sigma_a, sigma_b, eps)``, with the county effects and
    ``mu_a, mu_b`` integrated out.

    Exact (closed form): the county intercepts and slopes and the means ``mu_a ~ N(0, tau_a)``,
    ``mu_b ~ N(0, tau_b)`` (their scales taken from ``priors``, the book's 100 by default) are
    Gaussian and integrated analytically. The scales broadcast like NumPy arrays; the result
    is a float for scalar input, else an array of the broadcast shape. ``sigma_a`` and
    ``sigma_b`` may be 0; ``eps`` must be positive.
    """
    sa, sb, e = (np.asarray(v, dtype=float) for v in (sigma_a, sigma_b, eps))
    if np.any(~np.isfinite(sa)) or np.any(sa < 0) or np.any(~np.isfinite(sb)) or np.any(sb < 0):
        raise ValueError("sigma_a and sigma_b must be finite and >= 0")
    if np.any(~np.isfinite(e)) or np.any(e <= 0):
        raise ValueError("eps must be finite and > 0")
    tau_a, tau_b = _location_scales(resolve_priors(priors))
    data = _validated(data)
    county, _ = county_index(data)
    out = _collapse(_county_stats(data, county), sa, sb, e, tau_a, tau_b).loglik
    return float(out) if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class _CountyTotals:
    """Each county's counts and sums of ``log_radon``: all that the posterior of its own intercept
    ``a_j`` and slope ``b_j`` needs from the data. Counties are in the order of ``build_model``'s
    ``county`` coordinate (county codes ascending)."""

    names: list  # county labels, as in the data's ``county`` column
    n: np.ndarray  # homes
    n1: np.ndarray  # first-floor homes
    sum_y0: np.ndarray  # sum of basement log_radon
    sum_y1: np.ndarray  # sum of first-floor log_radon


def _county_totals(data: pd.DataFrame, county: np.ndarray, names: pd.Index) -> _CountyTotals:
    """Per-county counts and sums of the (validated) radon table, in ``build_model``'s order
    (``county, names`` from :func:`~radon_utils.data.county_index`)."""
    y = data["log_radon"].to_numpy(dtype=float)
    upstairs = data["floor"].to_numpy() == 1
    k = len(names)
    return _CountyTotals(
        names=names.to_list(),
        n=np.bincount(county, minlength=k).astype(float),
        n1=np.bincount(county, weights=upstairs.astype(float), minlength=k),
        sum_y0=np.bincount(county, weights=np.where(upstairs, 0.0, y), minlength=k),
        sum_y1=np.bincount(county, weights=np.where(upstairs, y, 0.0), minlength=k),
    )


def _county_moments(
    stats: _CountyStats,
    totals: _CountyTotals,
    sigma_a: np.ndarray,
    sigma_b: np.ndarray,
    eps: np.ndarray,
    tau_a: float,
    tau_b: float,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Mean and variance of every ``a_j`` and ``b_j`` given the scales, ``mu`` integrated out.

    ``sigma_a, sigma_b, eps`` are 1-D arrays of grid nodes; the result maps ``"a"`` and ``"b"`` to
    ``(mean, variance)``, each shaped ``(nodes, counties)``.

    Given the scales and ``mu``, county ``j``'s ``(a_j, b_j)`` is Gaussian with precision
    ``G / eps^2 + D^-1`` (``G``, ``D`` and ``W`` as in the module docstring). With
    ``M = eps^2 I + D G`` its covariance is ``S = eps^2 M^-1 D`` and its mean ``c + K mu``, with
    ``c = M^-1 D W'y`` and ``K = eps^2 M^-1``. Written so, no ``1 / sigma`` appears (sigma_b may be
    ~1e-12 on the grid) and ``det M`` is the sum of non-negative terms used by :func:`_collapse`.
    Given the scales, ``mu`` is Gaussian with mean ``m`` and covariance ``C`` (from
    :func:`_collapse`), so ``(a_j, b_j)`` has mean ``c + K m`` and covariance ``S + K C K'``.
    """
    mu = _collapse(stats, sigma_a, sigma_b, eps, tau_a, tau_b)
    m_a, m_b = (m[:, None] for m in mu.mu_mean)
    v_a, v_b = (v[:, None] for v in mu.mu_var)
    v_ab = mu.mu_cov[:, None]
    sa2, sb2, e2 = (np.square(np.asarray(v, dtype=float))[:, None] for v in (sigma_a, sigma_b, eps))
    n, n1, y0, y1 = totals.n, totals.n1, totals.sum_y0, totals.sum_y1
    n0 = n - n1

    det = e2 * e2 + e2 * sa2 * n + e2 * sb2 * n1 + sa2 * sb2 * n0 * n1
    # K = eps^2 M^-1, with M^-1 = [[e2 + sb2 n1, -sa2 n1], [-sb2 n1, e2 + sa2 n]] / det.
    k_aa = e2 * (e2 + sb2 * n1) / det
    k_ab = -e2 * sa2 * n1 / det
    k_ba = -e2 * sb2 * n1 / det
    k_bb = e2 * (e2 + sa2 * n) / det
    # c = M^-1 D W'y, with W'y = (y0 + y1, y1); S = K D has diagonal (k_aa sa2, k_bb sb2).
    c_a = sa2 * (e2 * (y0 + y1) + sb2 * n1 * y0) / det
    c_b = sb2 * (e2 * y1 + sa2 * (n0 * y1 - n1 * y0)) / det

    def spread(k_1: np.ndarray, k_2: np.ndarray) -> np.ndarray:
        """Variance added by mu's uncertainty: ``k' C k`` for a row ``k = (k_1, k_2)`` of ``K``."""
        return k_1 * k_1 * v_a + 2.0 * k_1 * k_2 * v_ab + k_2 * k_2 * v_b

    return {
        "a": (c_a + k_aa * m_a + k_ab * m_b, k_aa * sa2 + spread(k_aa, k_ab)),
        "b": (c_b + k_ba * m_a + k_bb * m_b, k_bb * sb2 + spread(k_ba, k_bb)),
    }


@dataclass(frozen=True)
class _Coordinate:
    """The grid coordinate ``t`` of one scale, with ``sigma = top * expm1(softplus(t) * s / top)``.

    The grid is uniform in ``t``, which behaves like ``log(sigma / s)`` below ``s`` (a log grid,
    reaching sigma ~ 1e-10 in a few dozen nodes where mass piles up near zero), like
    ``sigma / s`` between ``s`` and ``top`` (an even grid over the bulk) and like
    ``(top / s) * log(sigma)`` above ``top`` (a log grid again, for a long upper tail).
    """

    s: float
    top: float

    def sigma(self, t: np.ndarray) -> np.ndarray:
        return self.top * np.expm1(np.logaddexp(0.0, t) * (self.s / self.top))

    def t(self, sigma: np.ndarray) -> np.ndarray:
        x = (self.top / self.s) * np.log1p(np.asarray(sigma, dtype=float) / self.top)
        return x + np.log(-np.expm1(-x))

    def log_jacobian(self, t: np.ndarray) -> np.ndarray:
        """``log(d sigma / d t)``."""
        return math.log(self.s) + np.logaddexp(0.0, t) * (self.s / self.top) - np.logaddexp(0.0, -t)


#: One grid coordinate per scale, in the order of :data:`SCALES`.
_Coordinates = tuple[_Coordinate, _Coordinate, _Coordinate]


def _log_posterior(
    stats: _CountyStats,
    priors: Mapping[str, Prior],
    coords: _Coordinates,
    t_axes: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, _Collapsed]:
    """Unnormalised log posterior density of the grid coordinates (Jacobians included), broadcast,
    and the collapsed likelihood it came from."""
    sigmas = [c.sigma(t) for c, t in zip(coords, t_axes, strict=True)]
    tau_a, tau_b = _location_scales(priors)
    collapsed = _collapse(stats, *sigmas, tau_a, tau_b)
    out = collapsed.loglik
    for name, c, t, sigma in zip(SCALES, coords, t_axes, sigmas, strict=True):
        out = out + (priors[name].logpdf(sigma) + c.log_jacobian(t))
    return out, collapsed


def _mesh(axes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return axes[0][:, None, None], axes[1][None, :, None], axes[2][None, None, :]


# --- Choosing the grid's box: the constants and steps of :func:`_choose_grid` ----------------

#: Points per axis of the coarse grid used to choose the box: enough for each axis's profile to
#: show where it falls :data:`TAIL_NATS` below the peak, at 25^3 evaluations a round.
_COARSE_POINTS = 25
#: No scale is looked for below e^-60 or above e^60 times the sd of the data: e^-60 ~ 1e-26 is far
#: below any mass the grid needs (sigma_b's lowest node on the radon data is ~1e-12, ~e^-28), and
#: both ends stay finite in floating point.
_LOG_RANGE_LIMIT = 60.0
#: The search for the mode starts every scale at this share of the data's sd: each scale accounts
#: for part of the spread of ``log_radon``, so it lies below that sd, and half of it is of the
#: right order for any scale the data inform.
_MODE_START_SHARE = 0.5
#: The mode is found to this many log units of sigma (0.1%) and nats: it only centres the first
#: box, which is then widened and trimmed to :data:`TAIL_NATS`, so no more precision is needed.
_MODE_XATOL = 1e-3
_MODE_FATOL = 1e-4
#: A cap on Nelder-Mead's iterations against a flat posterior; the radon data need about 60.
_MODE_MAXITER = 4000
#: Step, in log sigma, of the finite-difference Hessian at the mode: 1% of sigma is well inside a
#: Laplace width, yet large enough that the log posterior's rounding (~1e-13 of ~1e3 nats) stays a
#: negligible part of its second differences.
_HESSIAN_STEP = 1e-2
#: Laplace width, in log sigma, used when the Hessian gives no positive variance (a mode on a
#: boundary, e.g. sigma_b -> 0): a factor e either way, a guess the widening then corrects.
_FALLBACK_SD_LOG = 1.0
#: Laplace widths are clipped to this range, in log sigma: a thinner first box would miss the
#: shape of the peak on the coarse grid, a wider one (e^5 ~ 150 times per width) would spread its
#: 25 points too thinly over the bulk; the widening and trimming correct the box either way.
_SD_LOG_MIN = 1e-3
_SD_LOG_MAX = 5.0
#: Where each scale's coordinate (:class:`_Coordinate`) turns from log to even spacing: ``s`` is
#: this share of the scale's Laplace sd at the mode (``mode * sd_log``, at most the mode), so the
#: bulk is spaced evenly at that scale and the grid turns logarithmic only below it.
_S_IN_SDS = 0.25
#: Where it turns back to log spacing for a long upper tail: ``top`` is the mode times
#: e^(this * sd_log). Two names, not one, although both are 0.25: they set different ends of the
#: bulk, in different units (a share of the sd in sigma; log-sds above the mode), and each could
#: move without the other; 0.25 is where 48 nodes per axis gave summaries good to ~1e-7 on the
#: radon data.
_TOP_IN_LOG_SDS = 0.25
#: ``top`` is at least this multiple of ``s``, so that the even bulk between them never vanishes.
#: With both shares above at 0.25 the floor never binds (``2 s`` is at most half the mode, ``top``
#: at least the mode); it keeps ``top > s`` if they are changed.
_TOP_OVER_S_MIN = 2
#: The first box spans the mode +- this many Laplace widths: a Gaussian falls :data:`TAIL_NATS`
#: (25 nats) at sqrt(2 * 25) ~ 7.1 sds, so a near-Gaussian posterior needs no widening.
_FIRST_BOX_SDS = 8
#: A face still above the threshold moves out by this share of the box's width per round: the
#: box grows geometrically, so it reaches any extent within the search range in a few rounds.
_WIDEN_SHARE = 0.5
#: The low face moves by at most this, in the grid coordinate, per round: below ``s`` that
#: coordinate is ``log(sigma / s)``, so this is a factor e^10 ~ 2e4 in sigma; uncapped, a step
#: could leap to e^-60 and leave the 25 coarse points too sparse to see the bulk.
_WIDEN_LOW_STEP_MAX = 10.0
#: Widening rounds allowed: the geometric growth reaches the search range's ends in far fewer, so
#: running out means a pathological posterior.
_WIDEN_ROUNDS_MAX = 100


def _choose_grid(
    stats: _CountyStats, priors: Mapping[str, Prior], y_sd: float
) -> tuple[_Coordinates, np.ndarray, np.ndarray]:
    """Return the coordinate of each scale and a box ``(lo, hi)`` in those coordinates such that
    the log posterior density on every face of the box lies :data:`TAIL_NATS` below its peak.

    Finds the posterior mode and Laplace widths in log coordinates, places each coordinate's
    turning points ``s`` and ``top`` around that mode, starts from mode +- :data:`_FIRST_BOX_SDS`
    Laplace widths, widens any face of the box that is still too high, then trims each axis back
    to where its profile (the maximum over the other two axes) reaches the threshold.
    """
    neg_log_posterior = _neg_log_posterior_of_logs(stats, priors)
    mode = _find_mode(neg_log_posterior, y_sd)
    sd_log = _laplace_sd_log(neg_log_posterior, mode)
    sigma_mode = np.exp(mode)
    coords = _coordinates(sigma_mode, sd_log)
    t_min, t_max = _search_limits(coords, y_sd)
    lo, hi = _first_box(coords, sigma_mode, sd_log, t_min, t_max)
    axes, logpost, peak = _widen_box(stats, priors, coords, lo, hi, t_min, t_max)
    lo, hi = _trim_box(axes, logpost, peak)
    return coords, lo, hi


def _neg_log_posterior_of_logs(
    stats: _CountyStats, priors: Mapping[str, Prior]
) -> Callable[[np.ndarray], float]:
    """``u -> -log p(log sigma = u | y)`` for the three scales (``inf`` where not finite)."""
    tau_a, tau_b = _location_scales(priors)

    def neg_log_posterior(u: np.ndarray) -> float:
        sigmas = np.exp(u)
        out = _collapse(stats, *sigmas, tau_a, tau_b).loglik
        logprior = sum(priors[n].logpdf(s) for n, s in zip(SCALES, sigmas, strict=True))
        value = float(out + logprior + np.sum(u))
        return -value if math.isfinite(value) else math.inf

    return neg_log_posterior


def _find_mode(neg_log_posterior: Callable[[np.ndarray], float], y_sd: float) -> np.ndarray:
    """The posterior mode of ``log sigma`` for the three scales, by Nelder-Mead."""
    start = np.full(3, math.log(_MODE_START_SHARE * y_sd))
    fit = optimize.minimize(
        neg_log_posterior,
        start,
        method="Nelder-Mead",
        options={"xatol": _MODE_XATOL, "fatol": _MODE_FATOL, "maxiter": _MODE_MAXITER},
    )
    return fit.x


def _laplace_sd_log(
    neg_log_posterior: Callable[[np.ndarray], float], mode: np.ndarray
) -> np.ndarray:
    """Laplace widths of ``log sigma`` at the mode, from a finite-difference Hessian (clipped)."""
    step = _HESSIAN_STEP
    hess = np.zeros((3, 3))
    for i in range(3):
        for j in range(i, 3):
            di, dj = np.eye(3)[i] * step, np.eye(3)[j] * step
            hess[i, j] = hess[j, i] = (
                neg_log_posterior(mode + di + dj)
                - neg_log_posterior(mode + di - dj)
                - neg_log_posterior(mode - di + dj)
                + neg_log_posterior(mode - di - dj)
            ) / (4 * step * step)
    fallback = np.full(3, _FALLBACK_SD_LOG)
    try:
        var = np.diag(np.linalg.inv(hess))
        sd_log = np.sqrt(var) if np.all(var > 0) else fallback
    except np.linalg.LinAlgError:
        sd_log = fallback
    sd_log = np.nan_to_num(sd_log, nan=_FALLBACK_SD_LOG)
    return np.clip(sd_log, _SD_LOG_MIN, _SD_LOG_MAX)


def _coordinates(sigma_mode: np.ndarray, sd_log: np.ndarray) -> _Coordinates:
    """Each scale's grid coordinate, its turning points ``s`` and ``top`` placed around the mode."""
    coords = []
    for m, sd in zip(sigma_mode, sd_log, strict=True):
        s = _S_IN_SDS * m * min(1.0, sd)
        top = max(m * math.exp(_TOP_IN_LOG_SDS * sd), _TOP_OVER_S_MIN * s)
        coords.append(_Coordinate(s=float(s), top=float(top)))
    return tuple(coords)


def _search_limits(coords: _Coordinates, y_sd: float) -> tuple[np.ndarray, np.ndarray]:
    """The grid coordinates of e^-60 and e^60 times the data's sd: no box reaches beyond them."""
    low, high = y_sd * math.exp(-_LOG_RANGE_LIMIT), y_sd * math.exp(_LOG_RANGE_LIMIT)
    t_min = np.array([float(c.t(low)) for c in coords])
    t_max = np.array([float(c.t(high)) for c in coords])
    return t_min, t_max


def _first_box(
    coords: _Coordinates,
    sigma_mode: np.ndarray,
    sd_log: np.ndarray,
    t_min: np.ndarray,
    t_max: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The box of mode +- :data:`_FIRST_BOX_SDS` Laplace widths, in grid coordinates."""
    t_mode = np.array([c.t(m) for c, m in zip(coords, sigma_mode, strict=True)])
    # A width of sd_log in log sigma is m * sd_log in sigma, and that over d sigma / d t in t.
    sd_t = np.array(
        [
            m * s / math.exp(float(c.log_jacobian(t)))
            for c, m, s, t in zip(coords, sigma_mode, sd_log, t_mode, strict=True)
        ]
    )
    lo = np.maximum(t_mode - _FIRST_BOX_SDS * sd_t, t_min)
    hi = np.minimum(t_mode + _FIRST_BOX_SDS * sd_t, t_max)
    return lo, hi


def _widen_box(
    stats: _CountyStats,
    priors: Mapping[str, Prior],
    coords: _Coordinates,
    lo: np.ndarray,
    hi: np.ndarray,
    t_min: np.ndarray,
    t_max: np.ndarray,
) -> tuple[list[np.ndarray], np.ndarray, float]:
    """Widen faces still above the threshold; return the coarse axes, log posterior and peak."""
    lo, hi = lo.copy(), hi.copy()
    peak = -math.inf
    for _ in range(_WIDEN_ROUNDS_MAX):
        axes = [np.linspace(lo[k], hi[k], _COARSE_POINTS) for k in range(3)]
        logpost, _ = _log_posterior(stats, priors, coords, _mesh(axes))
        peak = max(peak, float(np.max(logpost)))
        widened = stuck = False
        for k in range(3):
            faces = np.moveaxis(logpost, k, 0)
            step = _WIDEN_SHARE * (hi[k] - lo[k])
            if np.max(faces[0]) > peak - TAIL_NATS:
                stuck |= lo[k] <= t_min[k]
                lo[k] = max(lo[k] - min(step, _WIDEN_LOW_STEP_MAX), t_min[k])
                widened = True
            if np.max(faces[-1]) > peak - TAIL_NATS:
                stuck |= hi[k] >= t_max[k]
                hi[k] = min(hi[k] + step, t_max[k])
                widened = True
        if stuck:
            raise ExactPosteriorError(
                "the posterior of the scales does not fall off within e^-60 to e^60 times the "
                "data's sd; it may be improper (or too heavy-tailed) under these priors; give the "
                "scales priors with lighter tails (HalfNormal or Exponential)"
            )
        if not widened:
            break
    else:  # pragma: no cover - the widening is geometric, so this needs a pathological posterior
        raise ExactPosteriorError("could not find a box holding the posterior of the scales")
    if not math.isfinite(peak):
        raise ExactPosteriorError(
            "the log posterior of the scales is not finite anywhere on the grid's box, so no grid "
            "can hold it; check the data (log_radon) and the priors"
        )
    return axes, logpost, peak


def _trim_box(
    axes: list[np.ndarray], logpost: np.ndarray, peak: float
) -> tuple[np.ndarray, np.ndarray]:
    """Trim each axis to one coarse node beyond where its profile is above the threshold."""
    lo, hi = np.empty(3), np.empty(3)
    for k in range(3):
        profile = np.max(logpost, axis=tuple(i for i in range(3) if i != k))
        inside = np.flatnonzero(profile > peak - TAIL_NATS)
        lo[k] = axes[k][max(inside[0] - 1, 0)]
        hi[k] = axes[k][min(inside[-1] + 1, len(axes[k]) - 1)]
    return lo, hi


@dataclass(frozen=True)
class ExactPosterior:
    """The exact posterior of the radon model's top-level parameters.

    ``mean`` and ``sd`` hold the posterior means and standard deviations of ``mu_a, mu_b,
    sigma_a, sigma_b, eps``; ``prob_below``, ``quantile``, ``density`` and ``marginal_mode``
    describe the scales' marginals, and ``county_effects`` the counties' intercepts ``a`` and
    floor slopes ``b``.
    The scales' joint posterior is held on a grid (``axes`` gives each axis's nodes in sigma
    units, ``weights`` the normalised 3-D cell masses, axes in the order of :data:`SCALES`);
    ``mu_a, mu_b`` are mixed over the grid from their exact Gaussian conditionals.
    ``log_evidence`` is ``log p(y)`` under ``priors``.
    """

    priors: dict[str, Prior]
    axes: dict[str, np.ndarray] = field(repr=False)
    weights: np.ndarray = field(repr=False)
    mean: dict[str, float]
    sd: dict[str, float]
    log_evidence: float
    _coords: dict[str, _Coordinate] = field(repr=False)
    _t_axes: dict[str, np.ndarray] = field(repr=False)
    _stats: _CountyStats = field(repr=False)
    _totals: _CountyTotals = field(repr=False)

    def _check_scale(self, name: str) -> int:
        if name not in SCALES:
            raise ValueError(
                f"unknown scale {name!r}: the exact posterior's marginals are for "
                f"{', '.join(SCALES)}"
                + (" (mu_a and mu_b are summarised by .mean and .sd)" if name in LOCATIONS else "")
            )
        return SCALES.index(name)

    def marginal_weights(self, name: str) -> np.ndarray:
        """Posterior mass of each node of ``name``'s axis (the entries sum to 1)."""
        k = self._check_scale(name)
        return self.weights.sum(axis=tuple(i for i in range(3) if i != k))

    def density(self, name: str, at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(sigma, density)``: the marginal posterior density of scale ``name`` with
        respect to sigma itself (it integrates to 1 over sigma).

        Without ``at``, on the grid's own nodes (log-spaced near 0, even in the bulk). With
        ``at`` (sigma values, e.g. ``np.linspace(0, 1, 200)`` for a plot), interpolated
        smoothly; below the grid's lowest node the density is held at its value there (it
        tends to a constant as sigma -> 0) and above the grid it is 0. To overlay it on a
        density drawn on a log10 axis (as seaborn's ``log_scale=True`` does), multiply it
        by ``sigma * ln(10)``.
        """
        self._check_scale(name)
        t = self._t_axes[name]
        coord = self._coords[name]
        h = float(t[1] - t[0])
        dens = self.marginal_weights(name) / (h * np.exp(coord.log_jacobian(t)))
        if at is None:
            return self.axes[name].copy(), dens
        at = np.asarray(at, dtype=float)
        spline = interpolate.CubicSpline(t, np.log(np.maximum(dens, np.finfo(float).tiny)))
        t_at = coord.t(np.where(at > 0, at, self.axes[name][0]))
        out = np.exp(spline(np.clip(t_at, t[0], t[-1])))
        return at, np.where(t_at > t[-1], 0.0, out)

    def prob_below(self, name: str, threshold: float) -> float:
        """Return the posterior probability that scale ``name`` is below ``threshold``.

        The marginal on the (uniform) grid coordinate is integrated with its band-limited
        (sinc) interpolant, as accurate as the grid sums behind ``mean`` and ``sd``.
        """
        self._check_scale(name)
        if not threshold > 0:
            return 0.0
        p = float(self._cdf_t(name, self._coords[name].t(threshold)))
        return min(max(p, 0.0), 1.0)

    def _cdf_t(self, name: str, t: np.ndarray | float) -> np.ndarray:
        """The marginal CDF of scale ``name`` at grid coordinates ``t`` (not clipped to [0, 1]):
        the node masses spread over the uniform grid coordinate by their sinc interpolant,
        integrated."""
        nodes = self._t_axes[name]
        h = float(nodes[1] - nodes[0])
        si, _ = special.sici(np.pi * (np.asarray(t, dtype=float)[..., None] - nodes) / h)
        return np.sum(self.marginal_weights(name) * (0.5 + si / np.pi), axis=-1)

    def quantile(self, name: str, q: float | np.ndarray) -> float | np.ndarray:
        """Return the ``q``-quantile of scale ``name``'s marginal posterior (``q`` float or array).

        The inverse of :meth:`prob_below`: the sigma at which that marginal CDF (the node masses on
        the uniform grid coordinate, spread by their sinc interpolant) reaches ``q``, bracketed on a
        grid eight times finer than the nodes and then found with Brent's method in the grid
        coordinate. So ``prob_below(name, quantile(name, q))`` returns ``q`` (to ~1e-12) and the
        quantile is as accurate as the grid (on Minnesota's data the scales' 0.1% to 99.9% quantiles
        move by less than 1e-6 from a 48-node to a 96-node grid).

        ``q = 0`` gives 0.0 and ``q = 1`` gives ``inf`` (a scale's posterior has no upper end); a
        ``q`` closer to 0 or 1 than the mass the grid's box leaves out (~1e-10) is clipped to the
        box. Raises ``ValueError`` for an unknown name or a ``q`` outside [0, 1].
        """
        self._check_scale(name)
        probs = np.asarray(q, dtype=float)
        if not np.all((probs >= 0) & (probs <= 1)):  # NaN fails both comparisons
            raise ValueError(f"q must be a probability, between 0 and 1 inclusive; got {q!r}")
        nodes = self._t_axes[name]
        coord = self._coords[name]
        h = float(nodes[1] - nodes[0])
        fine = np.linspace(nodes[0] - h, nodes[-1] + h, 8 * (len(nodes) + 1) + 1)
        cdf = self._cdf_t(name, fine)

        def solve(p: float) -> float:
            if p == 0.0:
                return 0.0
            if p == 1.0:
                return math.inf
            reached = np.flatnonzero(cdf >= p)
            if len(reached) == 0 or reached[0] == 0:  # in a tail the box leaves out
                return float(coord.sigma(fine[-1 if len(reached) == 0 else 0]))
            j = int(reached[0])
            t_q = optimize.brentq(
                lambda t: float(self._cdf_t(name, t)) - p, fine[j - 1], fine[j], xtol=1e-10 * h
            )
            return float(coord.sigma(t_q))

        out = np.vectorize(solve, otypes=[float])(probs)
        return float(out) if out.ndim == 0 else out

    def marginal_mode(self, name: str = "sigma_b") -> float:
        """Return the mode of scale ``name``'s marginal posterior density, with respect to sigma.

        "Integrate, then maximize": the other two scales, ``mu_a, mu_b`` and the county effects
        are integrated out and the one-dimensional density that is left is maximized. That is
        the spirit of REML and lme4's ``lmer``, which integrate out ``mu`` and the county effects
        and then maximize (the likelihood, over all scales jointly). It differs from the joint
        MAP (``pm.find_MAP``), which sends sigma_b to 0 because the density of all parameters
        together grows without bound there: the marginal density stays finite at 0. Like every
        mode it depends on the coordinate (the density of log sigma peaks elsewhere); a mean
        does not.

        The grid node of highest :meth:`density` is refined by a bounded one-dimensional optimizer
        (Brent's) between its two neighbours, on the marginal density evaluated as on the nodes:
        the other two scales integrated by the grid's own quadrature. So the mode is as accurate
        as the grid: on Minnesota's data the three modes move by less than 1e-7 from a 48-node to
        a 96-node grid.

        Returns 0.0 when the density is highest at sigma = 0, the boundary: when its largest
        value on the grid's nodes is at the lowest node, or exceeds the value there by less than
        a relative 1e-9. (The density depends on sigma^2 only, so near 0 it is flat, and for a
        scale whose mass reaches 0 the lowest node is ~1e-11 of the bulk.) That happens, for
        example, to sigma_b under a HalfNormal prior when no home is on the first floor.
        """
        self._check_scale(name)
        nodes, dens = self.density(name)
        best = int(np.argmax(dens))
        if dens[best] <= dens[0] * (1.0 + 1e-9):
            return 0.0
        bounds = (float(nodes[best - 1]), float(nodes[min(best + 1, len(nodes) - 1)]))
        fit = optimize.minimize_scalar(
            lambda sigma: -float(self._log_density(name, np.array([sigma]))[0]),
            bounds=bounds,
            method="bounded",
            options={"xatol": 1e-9 * float(nodes[best])},
        )
        return float(fit.x)

    def _log_density(self, name: str, sigma: np.ndarray) -> np.ndarray:
        """``log p(name = sigma | y)`` at each value of the 1-D array ``sigma``, the other two
        scales integrated out by the grid's quadrature (on a node: the log of :meth:`density`)."""
        k = SCALES.index(name)
        points = [self.axes[n] for n in SCALES]
        points[k] = np.asarray(sigma, dtype=float)
        # log(d sigma / d t) + log(step) of the two axes summed over; 0 for the one held fixed.
        cells = []
        for n in SCALES:
            t = self._t_axes[n]
            cells.append(self._coords[n].log_jacobian(t) + math.log(t[1] - t[0]))
        cells[k] = np.zeros(len(points[k]))
        mesh = _mesh(points)
        tau_a, tau_b = _location_scales(self.priors)
        log_joint = _collapse(self._stats, *mesh, tau_a, tau_b).loglik + sum(_mesh(cells))
        for n, s in zip(SCALES, mesh, strict=True):
            log_joint = log_joint + self.priors[n].logpdf(s)
        others = tuple(i for i in range(3) if i != k)
        return special.logsumexp(log_joint, axis=others) - self.log_evidence

    def county_effects(
        self, effect: str = "b", probs: Sequence[float] = (0.05, 0.95)
    ) -> pd.DataFrame:
        """Return the exact posterior of each county's floor slope ``b`` (or intercept, ``"a"``).

        One row per county, indexed by county in the order of ``build_model``'s ``county``
        coordinate (county codes ascending), with columns ``mean``, ``sd`` and one per entry of
        ``probs``, named by its percentage: ``q05`` for 0.05, ``q95`` for 0.95, ``q2.5`` for 0.025.

        Given the three scales, each county's effect is Gaussian with ``mu_a, mu_b`` and the other
        counties integrated out (:func:`_county_moments`), so its exact posterior is a mixture of
        Gaussians, one per grid node, weighted by the node's posterior mass (Jacobians included,
        as for every summary here). The mean is the weighted mean of the conditional means, the
        sd follows from the law of total variance, and each quantile solves mixture CDF = q by
        Brent's method. The lightest nodes, which together carry at most :data:`DROPPED_MASS` of
        the mass, are left out (the rest renormalised): that moves each mixture CDF by at most
        that much. The results are as accurate as the grid (on Minnesota's data they move by less
        than 1e-9 from a 48-node to a 96-node grid); the 85 Minnesota counties take about two
        seconds (36,000 of the 110,592 nodes are kept).
        """
        if effect not in ("a", "b"):
            raise ValueError(
                f"unknown effect {effect!r}: use 'a' (county intercepts) or 'b' (floor slopes)"
            )
        probs = tuple(float(p) for p in np.atleast_1d(probs))
        if not all(0.0 < p < 1.0 for p in probs):
            raise ValueError(
                f"probs must lie strictly between 0 and 1 (a county effect is unbounded), "
                f"got {probs!r}"
            )
        labels = [_quantile_label(p) for p in probs]
        if len(set(labels)) < len(labels):
            raise ValueError(f"probs must differ from each other, got {probs!r}")
        weights, means, variances = self._county_mixtures(effect)
        rows = [
            _mixture_summary(weights, m, v, probs) for m, v in zip(means, variances, strict=True)
        ]
        index = pd.Index(self._totals.names, name="county")
        return pd.DataFrame(rows, index=index, columns=["mean", "sd", *labels])

    def _county_mixtures(self, effect: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The weights of the grid nodes that hold all but :data:`DROPPED_MASS` of the mass
        (renormalised), and each county effect's conditional mean and variance at those nodes
        (arrays shaped ``(counties, nodes)``: one row per county's mixture)."""
        flat = self.weights.ravel()
        lightest = np.argsort(flat)
        kept = np.ones(flat.size, dtype=bool)
        kept[lightest[np.cumsum(flat[lightest]) <= DROPPED_MASS]] = False
        where = np.unravel_index(np.flatnonzero(kept), self.weights.shape)
        sigmas = [self.axes[n][i] for n, i in zip(SCALES, where, strict=True)]
        tau_a, tau_b = _location_scales(self.priors)
        chunk = max(1, _CHUNK_ELEMENTS // len(self._totals.names))
        parts = [
            _county_moments(
                self._stats, self._totals, *(s[start : start + chunk] for s in sigmas), tau_a, tau_b
            )[effect]
            for start in range(0, len(sigmas[0]), chunk)
        ]
        weights = flat[kept]
        return (
            weights / weights.sum(),
            np.ascontiguousarray(np.concatenate([mean for mean, _ in parts]).T),
            np.ascontiguousarray(np.concatenate([var for _, var in parts]).T),
        )

    def summary(self) -> pd.DataFrame:
        """Posterior mean and sd of the five top-level parameters, one row each."""
        names = LOCATIONS + SCALES
        return pd.DataFrame(
            {"mean": [self.mean[n] for n in names], "sd": [self.sd[n] for n in names]},
            index=list(names),
        )


def _quantile_label(p: float) -> str:
    """Column name of the ``p``-quantile: ``q05`` for 0.05, ``q95`` for 0.95, ``q2.5`` for 0.025."""
    percent = 100.0 * p
    return f"q{round(percent):02d}" if abs(percent - round(percent)) < 1e-9 else f"q{percent:g}"


def _mixture_summary(
    weights: np.ndarray, means: np.ndarray, variances: np.ndarray, probs: Sequence[float]
) -> list[float]:
    """``[mean, sd, quantile at each of probs]`` of the Gaussian mixture
    ``sum_k weights[k] N(means[k], variances[k])`` (the weights sum to 1).

    Sums are ``np.sum(weights * x)``, not ``weights @ x``: on a busy machine a multithreaded BLAS
    dot product of this size took 8 ms instead of 0.02 ms, and the quantiles need thousands.
    """
    mean = float(np.sum(weights * means))
    # The law of total variance: the mean of the variances plus the variance of the means.
    sd = math.sqrt(float(np.sum(weights * (variances + (means - mean) ** 2))))
    sds = np.sqrt(variances)

    def excess(x: float, p: float) -> float:
        return float(np.sum(weights * special.ndtr((x - means) / sds))) - p

    quantiles = []
    for p in probs:
        # The mixture's p-quantile lies between the smallest and largest of its components'.
        own = means + sds * special.ndtri(p)
        lo, hi = float(own.min()), float(own.max())
        if excess(lo, p) >= 0.0:
            quantiles.append(lo)
        elif excess(hi, p) <= 0.0:
            quantiles.append(hi)
        else:
            quantiles.append(optimize.brentq(excess, lo, hi, args=(p,), xtol=1e-10 * sd))
    return [mean, sd, *quantiles]


def exact_posterior(
    data: pd.DataFrame,
    priors: Mapping[str, Prior] | None = None,
    grid_size: int | tuple[int, int, int] = 48,
) -> ExactPosterior:
    """Return the exact posterior of ``mu_a, mu_b, sigma_a, sigma_b, eps`` given ``data``.

    ``priors`` override the book's defaults (:func:`radon_utils.priors.resolve_priors`).
    ``grid_size`` is the number of grid nodes along each scale's axis (or a triple for
    ``sigma_a, sigma_b, eps``). The grid's box is chosen from the data so that the density on
    its faces is below e^-25 of the peak (on the radon data sigma_b's lowest node is ~1e-12),
    and its coordinate is log sigma near zero and sigma itself in the bulk (see
    :class:`_Coordinate`). The defaults take about a second and are accurate to ~1e-7 on the
    radon data. Only the columns the model reads are checked (``log_uranium`` may have gaps).

    Raises :class:`ExactPosteriorError`, saying why, rather than return numbers the grid cannot
    vouch for: a scale whose posterior mean or variance does not exist (e.g. ``sigma_b`` under a
    HalfCauchy prior with no first-floor home), an improper posterior, more than
    :data:`EDGE_MASS` of a scale's mass on an edge node, or summaries that move by more than
    :data:`RESOLUTION` sds between the grid's odd and even nodes (then pass a larger ``grid_size``).
    """
    prior = resolve_priors(priors)
    sizes = (grid_size,) * 3 if np.ndim(grid_size) == 0 else tuple(grid_size)
    if len(sizes) != 3 or any(int(s) != s or s < 8 for s in sizes):
        raise ValueError(
            f"grid_size must be a whole number >= 8, or three of them, got {grid_size!r}"
        )
    data = _validated(data)
    county, names = county_index(data)
    stats = _county_stats(data, county)
    _check_proper(data)
    _check_moments_exist(stats, prior, data)
    y_sd = float(np.std(data["log_radon"].to_numpy())) or 1.0

    coords, lo, hi = _choose_grid(stats, prior, y_sd)
    t_axes = [np.linspace(lo[k], hi[k], int(sizes[k])) for k in range(3)]
    logpost, collapsed = _log_posterior(stats, prior, coords, _mesh(t_axes))
    top = float(np.max(logpost))
    weights = np.exp(logpost - top)
    total = float(weights.sum())
    weights /= total
    log_evidence = top + math.log(total) + sum(math.log(t[1] - t[0]) for t in t_axes)
    axes = {name: c.sigma(t) for name, c, t in zip(SCALES, coords, t_axes, strict=True)}

    mean, sd = _moments(weights, axes, collapsed)
    _check_edges(weights, axes)
    _check_resolution(weights, axes, collapsed, mean, sd)

    return ExactPosterior(
        priors=prior,
        axes=axes,
        weights=weights,
        mean=mean,
        sd=sd,
        log_evidence=log_evidence,
        _coords=dict(zip(SCALES, coords, strict=True)),
        _t_axes=dict(zip(SCALES, t_axes, strict=True)),
        _stats=stats,
        _totals=_county_totals(data, county, names),
    )


def _validated(data: pd.DataFrame) -> pd.DataFrame:
    """The table checked for the columns the exact posterior reads (those of the model)."""
    return validate_radon(
        data,
        source="the data passed to the exact posterior",
        required=MODEL_COLUMNS,
        hint="pass a table like load_radon() returns (see data/README.md for the columns)",
    )


def _informing(stats: _CountyStats) -> dict[str, tuple[int, str, str]]:
    """For each scale: how many independent pieces of data bound its upper tail, what one piece
    is, and what data would give it two.

    As a scale grows, each piece's likelihood falls like 1/scale: each county for ``sigma_a``
    (its intercept), each county with a first-floor home for ``sigma_b`` (its floor effect) and
    each home for ``eps``. The posterior density's tail is then the prior's times scale^-m.
    """
    return {
        "sigma_a": (stats.n_counties, "county", "homes in at least two counties"),
        "sigma_b": (
            int(stats.count[stats.n1 > 0].sum()),
            "county with a first-floor home",
            "first-floor homes in at least two counties",
        ),
        "eps": (stats.n_obs, "home", "at least two homes"),
    }


def _check_moments_exist(
    stats: _CountyStats, priors: Mapping[str, Prior], data: pd.DataFrame
) -> None:
    """Refuse a scale whose posterior mean or variance does not exist: a grid, however wide, would
    report a finite and wrong number for it.

    A HalfCauchy prior's density falls like sigma^-2, so its mean is infinite; with ``m`` pieces of
    data bounding the tail (:func:`_informing`) the posterior's falls like sigma^-(2 + m): its mean
    exists from ``m = 1`` and its variance from ``m = 2``. Lighter priors have every moment.
    """
    for name, (m, piece, enough) in _informing(stats).items():
        if priors[name].family not in _HEAVY_TAILED or m >= 2:
            continue
        if m == 0:  # only sigma_b can have no data at all: every county has a home
            why = (
                "no home has floor = 1, so the data say nothing about how the floor effect varies "
                f"between counties and the posterior of {name} is its {priors[name]} prior, "
                "whose mean and variance do not exist"
            )
            wrong = "mean"
        else:
            why = (
                f"the data hold only one {piece}{_which(name, data)}, so the posterior of {name} "
                f"keeps a tail like its {priors[name]} prior's times 1/{name}, whose variance "
                "does not exist"
            )
            wrong = "sd"
        raise ExactPosteriorError(
            f"{name} is not identified by these data: {why}. A grid would report a finite and "
            f"wrong posterior {wrong}. Give {name} a prior with a finite mean and variance (e.g. "
            f"priors={{'{name}': Prior('HalfNormal', 1.0)}}), or use data with {enough}."
        )


def _which(name: str, data: pd.DataFrame) -> str:
    """`` (COUNTY)`` naming the one county that informs ``name``, for messages."""
    if name == "eps":
        return ""
    rows = data if name == "sigma_a" else data[data["floor"] == 1]
    return f" ({rows['county'].iloc[0]})"


def _check_proper(data: pd.DataFrame) -> None:
    """Refuse data under which the posterior is improper: when ``log_radon`` does not vary within
    any county and floor, yet some county and floor holds two homes, the model fits the data
    exactly as eps -> 0, where the likelihood then grows without bound and cannot be normalised."""
    cells = data.groupby(["county_code", "floor"])["log_radon"]
    if (cells.size() > 1).any() and float((cells.max() - cells.min()).max()) == 0.0:
        y = data["log_radon"].to_numpy()
        same = (
            f"the same value ({y[0]:g}) in every row"
            if np.all(y == y[0])
            else "one value within every county and floor"
        )
        raise ExactPosteriorError(
            f"log_radon takes {same}, so the model fits it exactly as eps -> 0: the likelihood "
            "grows without bound there and the posterior is improper (it has no finite total "
            "mass). Use data whose readings vary within some county and floor."
        )


def _moments(
    weights: np.ndarray, axes: dict[str, np.ndarray], collapsed: _Collapsed
) -> tuple[dict[str, float], dict[str, float]]:
    """Posterior means and sds: ``mu_a, mu_b`` mixed over the grid from their Gaussian
    conditionals, the scales from their marginals on the grid."""
    mean: dict[str, float] = {}
    sd: dict[str, float] = {}
    for name, m, v in zip(LOCATIONS, collapsed.mu_mean, collapsed.mu_var, strict=True):
        mean[name] = float(np.sum(weights * m))
        sd[name] = math.sqrt(max(float(np.sum(weights * (v + (m - mean[name]) ** 2))), 0.0))
    for k, name in enumerate(SCALES):
        marginal = weights.sum(axis=tuple(i for i in range(3) if i != k))
        mean[name] = float(np.sum(marginal * axes[name]))
        sd[name] = math.sqrt(max(float(np.sum(marginal * (axes[name] - mean[name]) ** 2)), 0.0))
    return mean, sd


def _check_edges(weights: np.ndarray, axes: dict[str, np.ndarray]) -> None:
    """Refuse a grid that cuts off more than :data:`EDGE_MASS` of a scale's mass at an edge."""
    for k, name in enumerate(SCALES):
        marginal = weights.sum(axis=tuple(i for i in range(3) if i != k))
        edge = float(max(marginal[0], marginal[-1]))
        if edge > EDGE_MASS:
            where = "lowest" if marginal[0] >= marginal[-1] else "highest"
            raise ExactPosteriorError(
                f"the exact posterior's grid holds {edge:.1e} of the mass of {name} on its {where} "
                f"node ({axes[name][0 if where == 'lowest' else -1]:.3g}), so mass lies beyond it "
                "and every summary would be cut short; the posterior may be improper or too "
                "heavy-tailed under these priors"
            )


def _check_resolution(
    weights: np.ndarray,
    axes: dict[str, np.ndarray],
    collapsed: _Collapsed,
    mean: Mapping[str, float],
    sd: Mapping[str, float],
) -> None:
    """Refuse a grid too coarse for the posterior: its even nodes and its odd nodes (two grids of
    twice the spacing) must give means and sds within :data:`RESOLUTION` posterior sds of each
    other. The full grid converges much faster than its halves, so their difference bounds its
    error."""
    halves = []
    for start in (0, 1):
        part = (slice(start, None, 2),) * 3
        sub = weights[part] / weights[part].sum()
        sub_axes = {name: axes[name][start::2] for name in SCALES}
        sub_collapsed = _Collapsed(
            loglik=collapsed.loglik[part],
            mu_mean=tuple(m[part] for m in collapsed.mu_mean),
            mu_var=tuple(v[part] for v in collapsed.mu_var),
            mu_cov=collapsed.mu_cov[part],
        )
        halves.append(_moments(sub, sub_axes, sub_collapsed))
    (mean0, sd0), (mean1, sd1) = halves
    for name in LOCATIONS + SCALES:
        moved = max(abs(mean0[name] - mean1[name]), abs(sd0[name] - sd1[name])) / sd[name]
        if moved > RESOLUTION:
            nodes = max(len(axis) for axis in axes.values())
            raise ExactPosteriorError(
                "the exact posterior's grid is too coarse for this posterior: its odd and even "
                f"nodes give {name} means {mean0[name]:.6g} and {mean1[name]:.6g}, sds "
                f"{sd0[name]:.4g} and {sd1[name]:.4g}: {moved:.1e} posterior sds apart (a long "
                f"tail spreads the nodes thin). Pass a larger grid_size (e.g. {2 * nodes}), or "
                "give the scales lighter-tailed priors."
            )
