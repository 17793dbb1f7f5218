"""Serve MathJax from the built book, so that its mathematics is typeset offline.

Sphinx loads MathJax from a CDN by default; a book read offline would then show raw LaTeX. The
MathJax 3 files come from the PyPI package `sphinx-mathjax-offline` (pinned in requirements.txt),
which ships all of MathJax (about 24 MB). Only what the `tex-chtml` component needs is copied,
into `_build/html/_static/mathjax/` (about 2 MB):

- the combined component named by `mathjax_path` (e.g. `mathjax/tex-chtml.js`: loader, TeX input
  with the ams/newcommand/autoload extensions, CommonHTML output, menu, assistive MathML);
- `input/tex/extensions/`, which the autoload extension fetches on demand (\\boldsymbol, \\cancel,
  \\color, mathtools, physics, ...);
- `output/chtml/fonts/woff-v2/`, the TeX fonts of the CommonHTML output.

Left out: the SVG output, MathML/AsciiMath inputs and the speech-rule engine (a11y/, sre/), which
only the menu's accessibility/renderer options would load. `_config.yml` sets `mathjax_path`; this
extension is listed there under `sphinx: local_extensions:`.
"""

from __future__ import annotations

import importlib.metadata
import posixpath
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.fileutil import copy_asset

logger = logging.getLogger(__name__)

DISTRIBUTION = "sphinx-mathjax-offline"
PACKAGE_DIR = "sphinx-mathjax-offline/static/mathjax"  # inside the distribution (a MathJax 3 tree)
STATIC_PREFIX = "mathjax/"  # mathjax_path is relative to _static/
# Besides the component itself, the folders that a TeX + CommonHTML component loads at run time.
FOLDERS = ("input/tex/extensions", "output/chtml/fonts/woff-v2")


def mathjax_source() -> Path:
    """The installed MathJax tree of `sphinx-mathjax-offline`."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as err:
        raise ExtensionError(
            f"a3net_mathjax: the PyPI package {DISTRIBUTION!r} is not installed; "
            "install the pinned stack: pip install -r requirements.txt -c constraints.txt"
        ) from err
    source = Path(dist.locate_file(PACKAGE_DIR))
    if not source.is_dir():
        raise ExtensionError(f"a3net_mathjax: {source} is missing from {DISTRIBUTION}")
    return source


def local_component(mathjax_path: str) -> str | None:
    """`tex-chtml.js` for mathjax_path `mathjax/tex-chtml.js`; None for a URL."""
    if "://" in mathjax_path or mathjax_path.startswith("/"):
        return None
    if not mathjax_path.startswith(STATIC_PREFIX):
        raise ExtensionError(
            f"a3net_mathjax: mathjax_path {mathjax_path!r} must name a file under "
            f"{STATIC_PREFIX!r} (relative to _static/), e.g. 'mathjax/tex-chtml.js'"
        )
    return mathjax_path[len(STATIC_PREFIX) :]


def copy_mathjax(app: Sphinx) -> None:
    """Copy the component and what it loads into <outdir>/_static/mathjax (HTML builders)."""
    if app.builder.format != "html":
        return
    component = local_component(app.config.mathjax_path)
    if component is None:
        logger.warning(
            "a3net_mathjax: mathjax_path is a URL (%s): the book needs the network to typeset math",
            app.config.mathjax_path,
        )
        return
    source = mathjax_source()
    if not (source / component).is_file():
        raise ExtensionError(
            f"a3net_mathjax: {DISTRIBUTION} has no MathJax component {component!r}"
        )
    target = Path(app.outdir) / "_static" / "mathjax"
    copy_asset(source / component, target / posixpath.dirname(component))
    for folder in FOLDERS:
        if not (source / folder).is_dir():
            raise ExtensionError(f"a3net_mathjax: {DISTRIBUTION} has no folder {folder!r}")
        copy_asset(source / folder, target / folder)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")
    # builder-inited: before the pages are written, so that Sphinx adds its ?v=checksum to the URL.
    app.connect("builder-inited", copy_mathjax)
    return {
        "version": "1.0",
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
