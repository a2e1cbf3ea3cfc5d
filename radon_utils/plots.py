"""The book's figure style and the plots that more than one chapter draws."""

from __future__ import annotations

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

__all__ = [
    "COLORS",
    "LABELS",
    "set_style",
    "plot_funnel",
    "plot_log_sigma_b_histogram",
    "plot_exact_log_sigma_b",
    "plot_county_slopes",
]

#: One colour per role across the whole book (Okabe-Ito palette, safe for colour-blind readers).
COLORS = {
    "centered": "#D55E00",  # vermillion
    "noncentered": "#0072B2",  # blue
    "exact": "#000000",  # black: the exact posterior
    "divergent": "#009E73",  # bluish green: divergent transitions
    "data": "#777777",  # grey: observations
    "map": "#CC79A7",  # reddish purple: the MAP estimate
    "centered_other": "#E69F00",  # orange: a second centered fit, beside the first
    # The colour of divergences too: chapter 6, which draws mixed fits, marks no divergences.
    "mixed": "#009E73",  # bluish green: centered county by county
}

#: How each parameterization is named in legends.
LABELS = {
    "centered": "centered",
    "noncentered": "non-centered",
    "mixed": "mixed",
    "exact": "exact posterior",
}


def set_style() -> None:
    """Apply the book's plotting style (call once at the top of a chapter)."""
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 120,
            "figure.figsize": (7.0, 4.0),
            "figure.facecolor": "white",
            "axes.titleweight": "bold",
            "axes.titlesize": "medium",
        }
    )


def plot_funnel(
    idata: az.InferenceData,
    county: str,
    *,
    color: str,
    ax: plt.Axes | None = None,
    coordinate: str = "b",
    show_divergences: bool = True,
    label: str | None = None,
) -> plt.Axes:
    """Scatter one county's slope (``coordinate`` ``"b"``, or ``"z_b"`` when non-centered)
    against ``log(sigma_b)``, with divergent draws marked.

    The shape shows the funnel: a wide mouth for large ``sigma_b`` and a narrow neck near zero.
    """
    ax = ax or plt.gca()
    post = idata.posterior
    x = post[coordinate].sel(county=county).to_numpy().ravel()
    y = np.log(post["sigma_b"].to_numpy().ravel())
    ax.scatter(x, y, s=6, alpha=0.35, color=color, linewidths=0, label=label or "draws")
    n_div = 0
    if show_divergences:
        diverging = idata.sample_stats["diverging"].to_numpy().ravel().astype(bool)
        n_div = int(diverging.sum())
        if n_div:
            ax.scatter(
                x[diverging],
                y[diverging],
                s=18,
                marker="x",
                color=COLORS["divergent"],
                linewidths=1.2,
                label=f"divergent ({n_div})",
            )
    symbol = "b" if coordinate == "b" else "z_b"
    ax.set_xlabel(rf"${symbol}$ for {county.title()} County")
    ax.set_ylabel(r"$\log \sigma_b$")
    ax.legend(loc="lower right", frameon=True)
    return ax


def plot_log_sigma_b_histogram(
    draws: np.ndarray,
    edges: np.ndarray,
    *,
    color: str,
    label: str | None,
    ax: plt.Axes | None = None,
    **style,
) -> plt.Axes:
    """Step histogram of draws of ``sigma_b`` as a density of ``log10(sigma_b)``, on a log axis.

    ``edges`` are bin edges in ``sigma_b`` (use ``np.geomspace``, so bins are even on the log axis).
    A histogram, not a kernel density: a kernel's bandwidth, set by the long tail towards zero,
    would flatten the peak.
    """
    ax = ax or plt.gca()
    counts, _ = np.histogram(np.ravel(draws), bins=edges)
    heights = counts / (max(counts.sum(), 1) * np.diff(np.log10(edges)))
    ax.stairs(
        heights, edges, color=color, label=label, linewidth=style.pop("linewidth", 1.8), **style
    )
    ax.set_xscale("log")
    ax.set_xlabel(r"$\sigma_b$ (log scale)")
    ax.set_ylabel(r"posterior density of $\log_{10}\sigma_b$")
    return ax


def plot_exact_log_sigma_b(
    exact, grid: np.ndarray, *, ax: plt.Axes | None = None, **style
) -> plt.Axes:
    """The exact posterior of ``sigma_b`` (a ``radon_utils.exact.ExactPosterior``) as a density of
    ``log10(sigma_b)`` at the ``sigma_b`` values ``grid``, in the book's colour for the exact
    answer."""
    ax = ax or plt.gca()
    _, density = exact.density("sigma_b", at=grid)
    # A density in sigma_b becomes one in log10(sigma_b) when multiplied by sigma_b * ln(10).
    style = {
        "color": COLORS["exact"],
        "linestyle": "--",
        "linewidth": 1.5,
        "label": LABELS["exact"],
    } | style
    ax.plot(grid, density * grid * np.log(10), **style)
    ax.set_xscale("log")
    return ax


def plot_county_slopes(
    intervals: dict[str, pd.DataFrame],
    counties: dict[str, str],
    *,
    colors: list[str],
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Posterior mean (dot) and central interval (bar) of chosen counties' slopes, one row per
    county and one bar per source.

    ``intervals`` maps each source's legend label to a table with columns ``mean`` and two
    quantiles, indexed by county (``ExactPosterior.county_effects`` or
    ``diagnostics.county_intervals``); ``colors`` gives one colour per source, in the same order.
    ``counties`` maps each county to the label of its row.
    """
    ax = ax or plt.gca()
    offsets = np.linspace(-0.22, 0.22, len(intervals)) if len(intervals) > 1 else [0.0]
    for offset, color, (label, table) in zip(offsets, colors, intervals.items(), strict=True):
        rows = table.loc[list(counties)]
        low, high = [c for c in rows.columns if c.startswith("q")][:2]
        y = np.arange(len(rows)) + offset
        ax.hlines(y, rows[low], rows[high], color=color, lw=2.2, label=label)
        ax.plot(rows["mean"], y, "o", color=color, ms=5)
    ax.set_yticks(np.arange(len(counties)), list(counties.values()))
    ax.invert_yaxis()
    ax.set_xlabel("floor slope $b_j$ (mean and 90% interval)")
    # Below the axis, where it cannot cover a bar.
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        ncol=len(intervals),
        frameon=False,
        fontsize="small",
    )
    return ax
