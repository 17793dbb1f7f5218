"""The book's configuration: table of contents, _config.yml, launch links and bibliography agree."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
import yaml

from a3net import chapters

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")

# A toc entry named like a chapter (the registry a3net/chapters.py lists the chapters).
CHAPTER = re.compile(r"^book/[A-Z]_[A-Za-z0-9_]+$")
# {cite}`a,b`, {cite:p}`a`, {cite:t}`a`, {cite:ps}`a`, ... (sphinxcontrib-bibtex roles)
CITE = re.compile(r"\{(?:cite|footcite)(?::[a-z]+)?\}`([\w.:/+-]+(?:\s*,\s*[\w.:/+-]+)*)`")
# Code blocks are not parsed by MyST and cannot cite; directive fences (```{note}) are and can.
FENCED = re.compile(r"^(`{3,}|~{3,})(?![ \t]*\{)[^\n]*\n.*?^\1[ \t]*$", re.S | re.M)


def _toc_files(node) -> list[str]:
    """Every `file:` entry of the toc, root first, in reading order."""
    found: list[str] = []
    if isinstance(node, dict):
        if "root" in node:
            found.append(node["root"])
        if "file" in node:
            found.append(node["file"])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key) or []:
                found.extend(_toc_files(child))
    elif isinstance(node, list):
        for child in node:
            found.extend(_toc_files(child))
    return found


def _source(docname: str) -> Path | None:
    for suffix in (".md", ".ipynb"):
        path = ROOT / (docname + suffix)
        if path.is_file():
            return path
    return None


def _repo() -> tuple[str, str]:
    """owner/name and branch, from the one place of truth: _config.yml repository."""
    url = CONFIG["repository"]["url"].rstrip("/")
    parsed = urlparse(url)
    assert parsed.scheme == "https" and parsed.netloc == "github.com", url
    owner_name = parsed.path.strip("/")
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", owner_name), url
    return owner_name, CONFIG["repository"]["branch"]


# ------------------------------------------------------------------ table of contents


def test_toc_format_and_root() -> None:
    assert TOC["format"] == "jb-book"
    assert TOC["root"] == "book/intro"


def test_every_toc_entry_exists() -> None:
    files = _toc_files(TOC)
    assert len(files) == len(set(files)), f"duplicate toc entries: {files}"
    missing = [f for f in files if _source(f) is None]
    assert not missing, f"_toc.yml lists files that do not exist (.md or .ipynb): {missing}"
    for required in ("book/intro", "book/instructors", "book/references"):
        assert required in files, f"{required} is not in _toc.yml"


def test_toc_lists_every_chapter_in_order() -> None:
    registered = [chapter.docname for chapter in chapters.CHAPTERS]
    listed = [f for f in _toc_files(TOC) if CHAPTER.match(f)]
    assert listed == registered, (
        f"_toc.yml chapters {listed} differ from the registry a3net/chapters.py {registered} "
        "(same chapters, same order)"
    )
    for f in listed:
        assert (ROOT / f"{f}.ipynb").is_file(), f"chapter {f} must be a notebook"


# ------------------------------------------------------------------ _config.yml


def test_config_builds_only_the_book() -> None:
    assert CONFIG["title"] == "Machine Learning for Astrophysics: eight hacks"
    assert CONFIG["only_build_toc_files"] is True
    excluded = set(CONFIG["exclude_patterns"])
    for pattern in (
        ".venv",
        "_build",
        "student",
        "tests",
        "a3net",
        "benchmarks",
        ".github",
        "README.md",
    ):
        assert pattern in excluded, f"{pattern} missing from exclude_patterns"


def test_config_execution() -> None:
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "cache", "make book re-executes only what changed"
    assert CONFIG["sphinx"]["local_extensions"]["a3net_cache"] == "book/_ext"
    assert execute["timeout"] >= 900, "per-cell timeout must allow a default-profile training cell"
    assert execute["stderr_output"] == "remove"
    assert execute["allow_errors"] is False
    assert (
        execute.get("raise_on_error") is True
        or CONFIG["sphinx"]["config"].get("nb_execution_raise_on_error") is True
    )


def test_config_extensions_and_bibliography() -> None:
    extensions = CONFIG["sphinx"]["extra_extensions"]
    assert "sphinx_exercise" in extensions
    assert len(extensions) == len(set(extensions))
    assert CONFIG["bibtex_bibfiles"] == ["book/references.bib"]
    assert CONFIG["sphinx"]["config"]["bibtex_reference_style"] == "author_year"
    myst = set(CONFIG["parse"]["myst_enable_extensions"])
    assert {"colon_fence", "dollarmath", "amsmath"} <= myst


def test_config_launch_buttons_and_repository() -> None:
    launch = CONFIG["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert launch.get("notebook_interface") in ("classic", "jupyterlab")
    repo = CONFIG["repository"]
    assert repo["path_to_book"] == "", "the book lives at the repository root"
    _repo()
    html = CONFIG["html"]
    for button in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
        assert html[button] is True


# ------------------------------------------------------------------ MathJax, served from the build

MATHJAX_DIST = "sphinx-mathjax-offline"


def _mathjax_extension():
    """book/_ext/a3net_mathjax.py, loaded from the path _config.yml gives for it."""
    local = CONFIG["sphinx"].get("local_extensions") or {}
    assert "a3net_mathjax" in local, "_config.yml sphinx.local_extensions must load a3net_mathjax"
    path = ROOT / local["a3net_mathjax"] / "a3net_mathjax.py"
    assert path.is_file(), f"{path} does not exist"
    pytest.importorskip("sphinx")
    spec = importlib.util.spec_from_file_location("a3net_mathjax", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mathjax_is_local_and_its_package_pinned() -> None:
    mathjax_path = CONFIG["sphinx"]["config"]["mathjax_path"]
    assert (
        "http" not in mathjax_path
        and "://" not in mathjax_path
        and not mathjax_path.startswith("/")
    ), (
        f"mathjax_path {mathjax_path!r} must be a file of the build, not a CDN: "
        "the book is read offline"
    )
    assert mathjax_path.startswith("mathjax/") and mathjax_path.endswith(".js"), mathjax_path
    pins = re.findall(
        rf"^{re.escape(MATHJAX_DIST)}==(\S+)$",
        (ROOT / "requirements.txt").read_text(encoding="utf-8"),
        re.M,
    )
    assert len(pins) == 1, f"requirements.txt must pin {MATHJAX_DIST} exactly once"
    try:
        installed = importlib.metadata.version(MATHJAX_DIST)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{MATHJAX_DIST} is not installed")
    assert installed == pins[0], f"{MATHJAX_DIST} {installed} installed, {pins[0]} pinned"


def _copy_mathjax(out: Path) -> Path:
    """What the build ships: the extension's builder-inited hook, run on a stand-in app."""
    ext = _mathjax_extension()
    try:
        ext.mathjax_source()
    except Exception as err:  # sphinx ExtensionError: the package is not installed
        pytest.skip(str(err))
    app = SimpleNamespace(
        builder=SimpleNamespace(format="html"),
        config=SimpleNamespace(mathjax_path=CONFIG["sphinx"]["config"]["mathjax_path"]),
        outdir=str(out),
    )
    ext.copy_mathjax(app)
    return out / "_static"


def test_the_build_ships_mathjax_and_only_what_it_needs(tmp_path: Path) -> None:
    static = _copy_mathjax(tmp_path)
    mathjax_path = CONFIG["sphinx"]["config"]["mathjax_path"]
    assert (static / mathjax_path).is_file(), f"the build does not ship _static/{mathjax_path}"
    mathjax = static / "mathjax"
    fonts = list((mathjax / "output/chtml/fonts/woff-v2").glob("MathJax_*.woff"))
    assert any(f.name == "MathJax_Main-Regular.woff" for f in fonts), "CommonHTML fonts missing"
    for extension in ("ams", "boldsymbol", "cancel", "color", "braket"):  # autoloaded on demand
        assert (mathjax / f"input/tex/extensions/{extension}.js").is_file(), extension
    size = sum(f.stat().st_size for f in mathjax.rglob("*") if f.is_file())
    assert 1_000_000 < size < 4_000_000, (
        f"_static/mathjax is {size / 1e6:.1f} MB (expected about 2 MB)"
    )


def test_mathjax_typesets_offline_in_headless_chromium(tmp_path: Path) -> None:
    """A page with the book's MathJax setup, opened with every host name unresolvable."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium on PATH")
    static = _copy_mathjax(tmp_path)
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><script>window.MathJax = {options: {processHtmlClass: 'math'}}</script>"
        f'<script defer src="_static/{CONFIG["sphinx"]["config"]["mathjax_path"]}"></script>'
        '</head><body class="mathjax_ignore">'
        '<span class="math">\\(\\cos\\theta_c = 1/(n\\beta)\\)</span>'
        '<div class="math">\\[\\begin{align}\\boldsymbol{x} &= \\cancel{y}\\end{align}\\]</div>'
        "</body></html>",
        encoding="utf-8",
    )
    assert static.is_dir()
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
        "--dump-dom",
    ]
    try:
        run = subprocess.run(
            [browser, *flags, page.as_uri()], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.skip("chromium did not finish in 120 s")
    if run.returncode != 0 or "<body" not in run.stdout:
        pytest.skip(f"chromium could not run here (rc {run.returncode})")
    dom = run.stdout
    assert dom.count("<mjx-container") == 2, "MathJax did not typeset the page offline"
    assert "<mjx-merror" not in dom and 'mathcolor="red"' not in dom, "MathJax reported an error"


# ------------------------------------------------------------------ README <-> _config.yml


def test_readme_badges_use_the_configured_repository() -> None:
    owner_name, branch = _repo()
    links = re.findall(r"\]\((https?://[^)\s]+)\)", README)
    binder = [u for u in links if u.startswith("https://mybinder.org/v2/")]
    colab = [u for u in links if u.startswith("https://colab.research.google.com/github/")]
    assert binder, "README needs a Binder badge"
    assert colab, "README needs a Colab badge"
    for url in binder:
        assert url.startswith(f"https://mybinder.org/v2/gh/{owner_name}/{branch}"), url
    for url in colab:
        prefix = f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/"
        assert url.startswith(prefix), url
        notebook = url[len(prefix) :].split("?")[0]
        assert notebook in [c.notebook for c in chapters.CHAPTERS], url
        assert (ROOT / notebook).is_file(), (
            f"the Colab badge opens {notebook}, which does not exist"
        )
    # No other GitHub repository is named anywhere in the README.
    for other in re.findall(r"github\.com/([\w.-]+/[\w.-]+)", README):
        assert other.removesuffix(".git") == owner_name, f"README points at github.com/{other}"
    assert "make test" in README and "make book" in README


# ------------------------------------------------------------------ bibliography


def _markdown_sources() -> list[tuple[str, str]]:
    texts = []
    for path in sorted(BOOK.glob("*.md")):
        texts.append((path.name, path.read_text(encoding="utf-8")))
    for path in sorted(BOOK.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb.get("cells", [])):
            if cell.get("cell_type") == "markdown":
                src = cell.get("source", "")
                texts.append(
                    (f"{path.name} cell {i}", "".join(src) if isinstance(src, list) else src)
                )
    return texts


def _bib_keys() -> set[str]:
    pybtex = pytest.importorskip("pybtex.database")
    data = pybtex.parse_file(str(BOOK / "references.bib"))  # raises on duplicate keys
    return set(data.entries.keys())


def test_bibliography_parses_and_has_the_fields_it_needs() -> None:
    pybtex = pytest.importorskip("pybtex.database")
    data = pybtex.parse_file(str(BOOK / "references.bib"))
    assert data.entries, "references.bib is empty"
    for key, entry in data.entries.items():
        assert entry.persons.get("author"), f"{key}: no author"
        assert entry.fields.get("title"), f"{key}: no title"
        assert re.fullmatch(r"1[89]\d\d|20\d\d", entry.fields.get("year", "")), f"{key}: bad year"
        if entry.type == "article":
            assert entry.fields.get("journal"), f"{key}: article without journal"
        if entry.type == "inproceedings":
            assert entry.fields.get("booktitle"), f"{key}: inproceedings without booktitle"


def test_every_cited_key_is_in_the_bibliography() -> None:
    keys = _bib_keys()
    cited: dict[str, list[str]] = {}
    for where, text in _markdown_sources():
        text = FENCED.sub("", text)
        for group in CITE.findall(text):
            for key in (k.strip() for k in group.split(",")):
                if key:
                    cited.setdefault(key, []).append(where)
    assert cited, "no {cite} role found in book/: the bibliography would be empty"
    missing = {key: places for key, places in cited.items() if key not in keys}
    assert not missing, f"cited keys missing from book/references.bib: {missing}"


def test_references_page_has_the_bibliography_directive() -> None:
    text = (BOOK / "references.md").read_text(encoding="utf-8")
    assert re.search(r"^```\{bibliography\}", text, re.M)


def test_execution_cache_is_kept_per_profile_framework_and_package(tmp_path) -> None:
    """jupyter-cache matches code cells only; what they read from outside goes into the key."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import a3net_cache
    finally:
        sys.path.pop(0)
    package = tmp_path / "a3net"
    package.mkdir()
    (package / "x.py").write_text("A = 1\n")
    key = a3net_cache.cache_key({"A3NET_PROFILE": "smoke"}, package)
    assert key.startswith("smoke-torch-") and len(key) == len("smoke-torch-") + 12
    assert a3net_cache.cache_key({}, package).startswith("default-torch-")
    assert a3net_cache.cache_key({"A3NET_FRAMEWORK": "keras"}, package).startswith("default-keras-")
    (package / "x.py").write_text("A = 2\n")
    assert a3net_cache.cache_key({"A3NET_PROFILE": "smoke"}, package) != key
    assert a3net_cache.PACKAGE == ROOT / "a3net"


MINI_CONFIG = """\
title: mini
only_build_toc_files: true
exclude_patterns: [_build]
execute:
  execute_notebooks: cache
  raise_on_error: true
sphinx:
  local_extensions:
    a3net_cache: book/_ext
"""
MINI_CELL = """\
import os
from pathlib import Path

log = Path(os.environ["MINI_LOG"])
log.write_text(log.read_text() + "{name} " + os.environ.get("A3NET_PROFILE", "") + "\\n")
print("profile", os.environ.get("A3NET_PROFILE"))
"""


def test_make_book_executes_only_what_changed(tmp_path) -> None:
    """A two-chapter book built as `make book` builds: a text edit executes nothing, a code edit
    executes that chapter only, another profile executes both once, then comes from its cache."""
    pytest.importorskip("jupyter_book")
    nbformat = pytest.importorskip("nbformat")
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    (tmp_path / "book" / "_ext").mkdir(parents=True)
    shutil.copy(ROOT / "book" / "_ext" / "a3net_cache.py", tmp_path / "book" / "_ext")
    (tmp_path / "a3net").mkdir()
    (tmp_path / "a3net" / "core.py").write_text("A = 1\n")
    (tmp_path / "_config.yml").write_text(MINI_CONFIG)
    toc = "format: jb-book\nroot: book/intro\nchapters:\n- file: book/one\n- file: book/two\n"
    (tmp_path / "_toc.yml").write_text(toc)
    (tmp_path / "book" / "intro.md").write_text("# Mini\n")
    for name in ("one", "two"):
        cells = [new_markdown_cell(f"# {name}"), new_code_cell(MINI_CELL.format(name=name))]
        nbformat.write(new_notebook(cells=cells), tmp_path / "book" / f"{name}.ipynb")
    log = tmp_path / "executed.log"
    log.write_text("")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")

    def build(profile: str) -> list[str]:
        before = log.read_text().splitlines()
        env = {**os.environ, "A3NET_PROFILE": profile, "MINI_LOG": str(log)}
        run = subprocess.run(
            [str(jupyter_book), "build", str(tmp_path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        return log.read_text().splitlines()[len(before) :]

    def edit(name: str, index: int, text: str) -> None:
        path = tmp_path / "book" / f"{name}.ipynb"
        notebook = nbformat.read(path, as_version=4)
        notebook.cells[index].source += text
        nbformat.write(notebook, path)

    assert sorted(build("smoke")) == ["one smoke", "two smoke"]
    assert build("smoke") == []
    edit("one", 0, "\n\nA one-word fix.")
    assert build("smoke") == [], "a text edit executes nothing"
    html = (tmp_path / "_build" / "html" / "book" / "one.html").read_text()
    assert "A one-word fix." in html and "profile smoke" in html
    edit("two", 1, "\n# a comment")
    assert build("smoke") == ["two smoke"], "a code edit executes that chapter only"
    assert sorted(build("default")) == ["one default", "two default"]
    assert "profile default" in (tmp_path / "_build" / "html" / "book" / "one.html").read_text()
    assert build("smoke") == [], "back to smoke: both chapters from the smoke cache"
    assert "profile smoke" in (tmp_path / "_build" / "html" / "book" / "one.html").read_text()
    (tmp_path / "a3net" / "core.py").write_text("A = 2\n")
    assert sorted(build("smoke")) == ["one smoke", "two smoke"], "a package edit runs all"
    caches = sorted(p.name for p in (tmp_path / "_build" / ".jupyter_cache").iterdir())
    assert len(caches) == 2 and caches[0].startswith("default-torch-"), caches
