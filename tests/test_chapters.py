"""The chapter registry a3net/chapters.py, and a throw-away ninth chapter that proves it.

The registry is the one list of chapters: :func:`a3net.chapters.problems` names every notebook,
``_toc.yml`` entry, intro link or profile without its row, and the reverse. The ninth-chapter
tests copy the repository into a temporary folder, add a chapter "I" in the places that the
instructors' page lists under "Adding a chapter", and check that those places are enough (nbval's
list in the Makefile, the contract test, the student generator and the release tool all see it),
that each of them is needed, and that their count is the one the page states.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from a3net import chapters

ROOT = Path(__file__).resolve().parents[1]
NUMBERS = {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}


# ------------------------------------------------------------------ the registry itself


def test_the_repository_agrees_with_the_registry():
    assert chapters.problems(ROOT) == []


def test_rows_are_well_formed():
    assert chapters.letters() == sorted(chapters.letters())
    assert len({c.title for c in chapters.CHAPTERS}) == len(chapters.CHAPTERS)
    for chapter in chapters.CHAPTERS:
        assert chapter.notebook == f"book/{chapter.letter}_{chapter.slug}.ipynb"
        assert (ROOT / chapter.notebook).is_file(), chapter.notebook
        assert chapter.profile_class().chapter == chapter.letter
        assert importlib.util.find_spec(f"a3net.data.{chapter.domain}"), chapter.domain


def test_by_letter_and_its_error():
    assert chapters.by_letter("f") is chapters.by_letter("F")
    assert chapters.by_letter("F").slug == "cherenkov_rings"
    with pytest.raises(ValueError, match=r"chapter 'Z' is not in the registry .* known chapters"):
        chapters.by_letter("Z")


@pytest.mark.parametrize(
    "row, message",
    [
        (("AB", "x", "T", "P", "rings"), "not one capital letter"),
        (("I", "Bad-Slug", "T", "P", "rings"), "not lower_snake_case"),
        (("I", "ok", "", "P", "rings"), "must be given"),
    ],
)
def test_a_malformed_row_fails_at_import(row, message):
    with pytest.raises(ValueError, match=message):
        chapters._validate((*chapters.CHAPTERS, chapters.Chapter(*row)))
    with pytest.raises(ValueError, match="unique and in order"):
        chapters._validate(chapters.CHAPTERS[::-1])


def test_a_missing_profile_class_is_named():
    row = chapters.Chapter("I", "ninth_chapter", "A ninth chapter", "NoSuchProfile", "rings")
    with pytest.raises(LookupError, match="no class NoSuchProfile, which chapter I names"):
        row.profile_class()


def test_command_line_needs_only_the_standard_library():
    """-S -I: no site-packages, so neither numpy nor an installed a3net can be imported."""

    def run(flag):
        cmd = [sys.executable, "-S", "-I", "a3net/chapters.py", flag]
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout

    expected = [c.notebook for c in chapters.CHAPTERS]
    assert run("--notebooks").split() == expected
    assert run("--letters").split() == chapters.letters()
    assert [row["notebook"] for row in json.loads(run("--json"))] == expected


def test_makefile_runs_the_registry_notebooks():
    if shutil.which("make") is None:
        pytest.skip("no make on PATH")
    out = _run(["make", "-s", "print-chapters", f"PYTHON={sys.executable}"], ROOT)
    assert out.split() == [c.notebook for c in chapters.CHAPTERS]


# ------------------------------------------------------------------ a ninth chapter

NINTH = chapters.Chapter("I", "ninth_chapter", "A ninth chapter", "NinthChapterProfile", "rings")
COPIED = (
    "a3net",
    "book",
    "tests/test_contract.py",
    "tests/conftest.py",
    "_toc.yml",
    "_config.yml",
    "Makefile",
    "README.md",
    "pyproject.toml",
    "requirements.txt",
    "constraints.txt",
)


def _add_row(root: Path) -> None:
    path = root / "a3net/chapters.py"
    text = path.read_text(encoding="utf-8")
    start = text.index("CHAPTERS: tuple[Chapter, ...] = (")
    end = text.index("\n)\n", start)
    row = "".join(
        f'        {key}="{getattr(NINTH, key)}",\n'
        for key in ("letter", "slug", "title", "profile", "domain")
    )
    path.write_text(text[:end] + f"\n    Chapter(\n{row}    ),{text[end:]}", encoding="utf-8")


def _add_notebook(root: Path) -> None:
    """Chapter F's notebook as chapter I: its title and its ledger's letter changed."""
    notebook = json.loads((root / chapters.by_letter("F").notebook).read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        source = source.replace('Ledger("F"', 'Ledger("I"').replace("# F. ", "# I. ")
        cell["source"] = source.splitlines(keepends=True)
    (root / NINTH.notebook).write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def _add_profile(root: Path) -> None:
    with open(root / "a3net/config.py", "a", encoding="utf-8") as config:
        config.write(
            "\n\n@chapter_profile\n"
            f"class {NINTH.profile}(ChapterProfile):\n"
            '    """Chapter I: the throw-away ninth chapter of tests/test_chapters.py."""\n\n'
            '    chapter: ClassVar[str] = "I"\n'
            "    n_images: int = by_profile(100, 1000, 10_000)  # images per experiment\n"
        )


def _add_toc_entry(root: Path) -> None:
    path = root / "_toc.yml"
    last = re.escape(chapters.CHAPTERS[-1].docname)
    text = re.sub(
        rf"^(\s*- file: ){last}\n",
        lambda m: f"{m.group(0)}{m.group(1)}{NINTH.docname}\n",
        path.read_text(encoding="utf-8"),
        count=1,
        flags=re.M,
    )
    path.write_text(text, encoding="utf-8")


def _add_intro_row(root: Path) -> None:
    path = root / "book/intro.md"
    last = Path(chapters.CHAPTERS[-1].docname).name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    (at,) = [i for i, line in enumerate(lines) if f"<{last}>`" in line]
    row = f"| I | {{doc}}`{NINTH.title} <{Path(NINTH.docname).name}>` | what it teaches |\n"
    path.write_text("".join(lines[: at + 1] + [row] + lines[at + 1 :]), encoding="utf-8")


# Every place the ninth chapter touches, by the path the instructors' page gives it.
PLACES = {
    "a3net/chapters.py": _add_row,
    "book/<Letter>_<slug>.ipynb": _add_notebook,
    "a3net/config.py": _add_profile,
    "_toc.yml": _add_toc_entry,
    "book/intro.md": _add_intro_row,
}


def _copy_repository(tmp: Path, skip: str | None = None) -> Path:
    """A copy of what the tools read, with chapter I added in every place but ``skip``."""
    root = tmp / f"repo-without-{skip or 'nothing'}".replace("/", "_").replace("<", "")
    for name in COPIED:
        source, target = ROOT / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "_build", ".ipynb_checkpoints")
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)
    for place, add in PLACES.items():
        if place != skip:
            add(root)
    return root


def _run(cmd: list[str], cwd: Path, check: bool = True) -> str:
    """Run ``cmd`` in ``cwd`` with that folder's a3net first on the path; stdout + stderr."""
    env = dict(os.environ, PYTHONPATH=str(cwd), A3NET_THREADS="1")
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def ninth(tmp_path_factory) -> Path:
    """The repository copy with chapter I added in all its places."""
    return _copy_repository(tmp_path_factory.mktemp("ninth"))


def test_the_ninth_chapter_is_complete_with_its_places(ninth):
    out = _run([sys.executable, "-m", "a3net.chapters", "--check"], ninth)
    assert "chapters A B C D E F G H I: " in out


def test_nbval_runs_the_ninth_chapter(ninth):
    if shutil.which("make") is None:
        pytest.skip("no make on PATH")
    listed = _run(["make", "-s", "print-chapters", f"PYTHON={sys.executable}"], ninth).split()
    assert listed == [c.notebook for c in chapters.CHAPTERS] + [NINTH.notebook]
    dry = _run(["make", "-n", "notebooks", f"PYTHON={sys.executable}"], ninth)
    nbval = [line for line in dry.splitlines() if "--nbval-lax" in line]
    assert len(nbval) == 2 and all(NINTH.notebook in line for line in nbval), dry


def test_the_contract_test_checks_the_ninth_chapter(ninth):
    test = "tests/test_contract.py::test_chapter_follows_the_contract[I_ninth_chapter]"
    out = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], ninth)
    assert "1 passed" in out, out


def test_the_student_generator_writes_the_ninth_chapter(ninth):
    _run([sys.executable, "-m", "a3net.exercises.student", "book", "--out", "student"], ninth)
    copy = json.loads((ninth / "student" / Path(NINTH.notebook).name).read_text())
    assert not any("claims" in c["metadata"].get("tags", []) for c in copy["cells"])


def test_the_release_tool_versions_the_ninth_chapter(tmp_path):
    ninth = _copy_repository(tmp_path)  # its own copy: --set rewrites the version
    code = "from a3net import _release; print(*_release.chapters(), sep='\\n')"
    listed = _run([sys.executable, "-c", code], ninth).split()
    assert listed[-1] == str(ninth / NINTH.notebook)
    _run([sys.executable, "-m", "a3net._release", "--set", "9.9.9"], ninth)
    cell = json.loads((ninth / NINTH.notebook).read_text())["cells"][0]
    assert 'ref, extras = "v9.9.9", "torch,keras"' in "".join(cell["source"])


@pytest.mark.parametrize("skip", list(PLACES))
def test_each_place_is_needed(skip, tmp_path):
    """Chapter I with one place left out: the registry check names what is missing."""
    root = _copy_repository(tmp_path, skip=skip)
    out = _run([sys.executable, "-m", "a3net.chapters", "--check"], root, check=False)
    assert "disagrees with the registry" in out or "has no such class" in out, out
    if skip == "a3net/chapters.py":  # a notebook without its row is not skipped silently
        cmd = [sys.executable, "-m", "a3net.exercises.student", "book", "--out", "student"]
        out = _run(cmd, root, check=False)
        assert "I_ninth_chapter.ipynb, named like a chapter but without a row" in out, out


def _instructors_places() -> tuple[int, list[str]]:
    """The count the instructors' page states, and the places its table lists."""
    text = (ROOT / "book/instructors.md").read_text(encoding="utf-8")
    section = text.split("## Adding a chapter", 1)[1].split("\n## ", 1)[0]
    stated = re.search(r"touches (\w+) places", section)
    assert stated, 'book/instructors.md, "Adding a chapter": say "touches N places"'
    table = section[stated.end() :].split("\n\n")[1]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    return NUMBERS[stated.group(1)], [re.match(r"\| `([^`]+)`", row).group(1) for row in rows]


def test_the_instructors_page_names_the_true_places():
    count, places = _instructors_places()
    assert places == list(PLACES), places
    assert count == len(PLACES) <= 5


def test_contributing_names_the_same_places():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## Adding a chapter", 1)[1].split("\n## ", 1)[0]
    count, _ = _instructors_places()
    assert re.search(rf"touches {[k for k, v in NUMBERS.items() if v == count][0]} places", section)
    listed = re.findall(r"^\d+\. `([^`]+)`", section, re.M)
    assert listed == list(PLACES), listed
