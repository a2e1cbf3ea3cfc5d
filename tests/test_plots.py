"""The shared plots draw densities that integrate to one, in the book's colours."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from radon_utils.plots import COLORS, plot_exact_log_sigma_b, plot_log_sigma_b_histogram


def test_the_histogram_is_a_density_of_log10_sigma_b():
    draws = np.random.default_rng(0).lognormal(mean=-1.5, sigma=0.8, size=4000)
    edges = np.geomspace(draws.min(), draws.max() * 1.001, 40)
    fig, ax = plt.subplots()
    plot_log_sigma_b_histogram(draws, edges, color=COLORS["noncentered"], label="draws", ax=ax)
    heights = ax.patches[0].get_data().values
    assert np.sum(heights * np.diff(np.log10(edges))) == pytest.approx(1.0)
    assert ax.get_xscale() == "log"
    plt.close(fig)


def test_the_exact_curve_is_a_density_of_log10_sigma_b(radon):
    from radon_utils.exact import exact_posterior

    exact = exact_posterior(radon)
    grid = np.geomspace(1e-6, 3.0, 2000)
    fig, ax = plt.subplots()
    plot_exact_log_sigma_b(exact, grid, ax=ax)
    line = ax.get_lines()[0]
    assert line.get_color() == COLORS["exact"]
    assert np.trapezoid(line.get_ydata(), np.log10(grid)) == pytest.approx(1.0, abs=2e-3)
    plt.close(fig)
