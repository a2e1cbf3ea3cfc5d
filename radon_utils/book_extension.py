"""A Sphinx extension for the book build: numbers in the text, parallel chapters, honest rebuilds.

With myst-nb's inline execution a code cell runs when the page reaches it, but a cell tagged
``remove-cell`` is never reached: it runs only when the next *shown* code cell does. A number
recorded in a removed cell (see :mod:`radon_utils.numbers`) would then be missing from the text
right below it. This extension runs, before each markdown cell, every code cell above it, which
is what Run All does in JupyterLab; the order in which cells run does not change.

It also lets Sphinx read (and so run) two chapters at a time (``sphinx-build -j 2``). Three
extensions that Jupyter Book loads do not say whether they are safe for that, which makes Sphinx
read serially with a warning. All three are: ``sphinx_multitoc_numbering`` only replaces how
section numbers are assigned, which Sphinx does once, in the main process, after every document
has been read; ``sphinx-mathjax-offline`` only copies MathJax into the finished site;
``sphinx_jupyterbook_latex`` keeps no state outside each page's own tree except for LaTeX builds.

With ``-j 2`` Sphinx reads the first half of the changed pages in one process and the second half
in the other, in the order it is given. ``radon_read_order`` (in ``_config.yml``) lists pages to
read first, in that order, so that the two halves take about as long (``bench/RESULTS.md`` has each
chapter's time); pages it does not list follow in Sphinx's order.

Finally, every page depends on the shared code and data (``radon_utils/*.py``, ``data/*.csv``):
change one of them and the next build runs every chapter again, so that the site never shows
numbers that the code would no longer give.

``_config.yml`` loads it (``sphinx.extra_extensions``).
"""

from __future__ import annotations

from pathlib import Path

from myst_nb.core.execute.inline import NotebookClientInline
from myst_nb.sphinx_ import SphinxNbRenderer
from sphinx.application import Sphinx

__all__ = ["SHARED_FILES", "UNDECLARED_PARALLEL_SAFE", "setup"]

#: Files every page depends on, relative to the book's root.
SHARED_FILES = ("radon_utils/*.py", "data/*.csv")

#: Extensions that are safe to read in parallel though they do not declare it (see above).
UNDECLARED_PARALLEL_SAFE = (
    "sphinx_multitoc_numbering",
    "sphinx-mathjax-offline",
    "sphinx_jupyterbook_latex",
)


def setup(app: Sphinx) -> dict[str, bool]:
    app.add_config_value("radon_read_order", [], "")
    app.connect("builder-inited", _declare_parallel_safe)
    app.connect("env-before-read-docs", _read_in_order)
    app.connect("source-read", _depend_on_shared_files)
    render_markdown = SphinxNbRenderer.render_nb_cell_markdown
    if not getattr(render_markdown, "runs_cells_above", False):

        def render_nb_cell_markdown(self, token) -> None:
            index = token.meta["index"]
            if index > 0 and isinstance(self.nb_client, NotebookClientInline):
                self.nb_client.code_cell_outputs(index - 1)  # runs every cell up to this one
            render_markdown(self, token)

        render_nb_cell_markdown.runs_cells_above = True
        SphinxNbRenderer.render_nb_cell_markdown = render_nb_cell_markdown
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _declare_parallel_safe(app: Sphinx) -> None:
    for name in UNDECLARED_PARALLEL_SAFE:
        extension = app.extensions.get(name)
        if extension is not None and extension.parallel_read_safe is None:
            extension.parallel_read_safe = True


def _read_in_order(app: Sphinx, env, docnames: list[str]) -> None:
    first = [name for name in app.config.radon_read_order if name in docnames]
    docnames[:] = first + [name for name in docnames if name not in first]


def _depend_on_shared_files(app: Sphinx, docname: str, source: list[str]) -> None:
    root = Path(app.srcdir)
    for pattern in SHARED_FILES:
        for path in sorted(root.glob(pattern)):
            app.env.note_dependency(str(path))
