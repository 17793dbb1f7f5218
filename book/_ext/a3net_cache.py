"""Execute the chapters through jupyter-cache, one cache per profile, framework and package.

`_config.yml` sets ``execute_notebooks: cache``: myst-nb then executes a notebook only when its
code cells differ from those of the notebook cached, and otherwise takes the cached outputs. The
cache does not know what the code cells read from outside the notebook, so this extension keeps
one cache per

- profile (``A3NET_PROFILE``) and framework (``A3NET_FRAMEWORK``), which the notebooks read from
  the environment, and
- version of the package: a hash of the ``.py`` files of ``a3net/``, which every chapter imports,

in ``_build/.jupyter_cache/<profile>-<framework>-<hash>`` (the caches of older package versions of
the same profile and framework are removed). The same key is a Sphinx configuration value that
rebuilds the environment when it changes, so that switching the profile or editing the package
re-reads every chapter (each then comes from its own cache, or runs), while an edit to one chapter
re-reads and, if its code changed, re-executes that chapter only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parents[2] / "a3net"


def package_hash(package: Path = PACKAGE) -> str:
    """The first 12 hex digits of the sha256 of the package's ``.py`` files and their paths."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def cache_key(environ=None, package: Path = PACKAGE) -> str:
    """``<profile>-<framework>-<package hash>`` of this build."""
    environ = os.environ if environ is None else environ
    profile = environ.get("A3NET_PROFILE", "").strip() or "default"
    framework = environ.get("A3NET_FRAMEWORK", "").strip() or "torch"
    return f"{profile}-{framework}-{package_hash(package)}"


def on_config_inited(app: Sphinx, config: Config) -> None:
    key = cache_key()
    config.a3net_execution_key = key
    if config.nb_execution_mode != "cache" or config.nb_execution_cache_path:
        return
    base = Path(app.srcdir) / "_build" / ".jupyter_cache"
    stem = key.rsplit("-", 1)[0] + "-"
    for old in base.glob(stem + "*"):
        if old.name != key and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
            logger.info(f"a3net: removed the cache of an older package, {old.name}")
    config.nb_execution_cache_path = str(base / key)
    logger.info(f"a3net: notebooks execute through jupyter-cache {base / key}")


def setup(app: Sphinx) -> dict:
    app.add_config_value("a3net_execution_key", "", "env")
    app.connect("config-inited", on_config_inited)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
