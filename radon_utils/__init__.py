"""Helpers shared by the chapters of *Hierarchical Radon*: data, model factory, sampling, plots."""
