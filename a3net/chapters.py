"""The chapter registry: the one list of the course's chapters, in the order A-H.

Everything that lists chapters reads it: the Makefile (nbval), the student generator, the release
tool, the benchmarks, the GPU workflow, the claims page and the tests. A chapter is a row here,
its notebook ``book/<letter>_<slug>.ipynb``, its profile class in :mod:`a3net.config`, its line in
``_toc.yml`` and its row in the chapter table of ``book/intro.md``; ``tests/test_chapters.py``
fails when any of them lacks the others.

This module imports only the standard library, so it also runs without the virtual environment::

    python3 a3net/chapters.py --notebooks   # book/A_spectra_gan.ipynb ... one per line
    python3 a3net/chapters.py --letters     # A B C D E F G H
    python -m a3net.chapters --json         # every row, for a workflow matrix
    python -m a3net.chapters --check        # what lacks its counterpart (imports a3net.config)
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "CHAPTERS",
    "ROOT",
    "Chapter",
    "by_letter",
    "letters",
    "main",
    "notebooks",
    "problems",
]

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Chapter:
    """One row of the registry."""

    letter: str  # one capital letter; chapters run A, B, C, ... in the book
    slug: str  # the notebook is book/<letter>_<slug>.ipynb
    title: str  # the short title the book's tables and the claims page show
    profile: str  # name of its profile class in a3net.config, e.g. "RingsProfile"
    domain: str  # the a3net.data module of its data: rings, clusters, cosmology, ...
    # the extras of a3net that its Colab cell (cell 0, written by a3net._release) installs
    extras: str = "torch,keras"

    @property
    def docname(self) -> str:
        """The name _toc.yml and Sphinx give it, e.g. ``book/F_cherenkov_rings``."""
        return f"book/{self.letter}_{self.slug}"

    @property
    def notebook(self) -> str:
        """Its notebook, relative to the repository root."""
        return f"{self.docname}.ipynb"

    def profile_class(self) -> type:
        """Its profile class, imported from :mod:`a3net.config` only when asked for."""
        config = importlib.import_module("a3net.config")
        try:
            return getattr(config, self.profile)
        except AttributeError:
            raise LookupError(
                f"a3net.config has no class {self.profile}, which chapter {self.letter} names "
                "in a3net/chapters.py."
            ) from None


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        letter="A",
        slug="spectra_gan",
        title="A generative model of galaxy spectra",
        profile="SpectraGANProfile",
        domain="spectra",
    ),
    Chapter(
        letter="B",
        slug="latent_space",
        title="What is in a GAN's latent space?",
        profile="LatentSpaceProfile",
        domain="spectra",
    ),
    Chapter(
        letter="C",
        slug="photometric_redshifts",
        title="Photometric redshifts",
        profile="PhotozProfile",
        domain="photometry",
    ),
    Chapter(
        letter="D",
        slug="cluster_masses",
        title="Cluster masses from X-ray images",
        profile="ClusterMassesProfile",
        domain="clusters",
    ),
    Chapter(
        letter="E",
        slug="cosmological_parameters",
        title="Cosmological parameters from maps of the cosmic web",
        profile="CosmologyParametersProfile",
        domain="cosmology",
    ),
    Chapter(
        letter="F",
        slug="cherenkov_rings",
        title="Cherenkov rings",
        profile="RingsProfile",
        domain="rings",
    ),
    Chapter(
        letter="G",
        slug="cluster_validation",
        title="Cluster masses, validated",
        profile="ClusterValidationProfile",
        domain="clusters",
        extras="torch,keras,e2cnn",  # e2cnn's C4 convolutions (a3net's own p4 layers without it)
    ),
    Chapter(
        letter="H",
        slug="cosmology_saliency",
        title="What a small CNN reads in a map of the cosmic web",
        profile="CosmologySaliencyProfile",
        domain="cosmology",
    ),
)


def _validate(rows: tuple[Chapter, ...]) -> None:
    """Refuse a malformed registry at import: one sentence naming the bad row."""
    for row in rows:
        if len(row.letter) != 1 or not ("A" <= row.letter <= "Z"):
            raise ValueError(f"chapter letter {row.letter!r} is not one capital letter A-Z.")
        if not row.slug.isidentifier() or row.slug != row.slug.lower():
            raise ValueError(f"chapter {row.letter}: slug {row.slug!r} is not lower_snake_case.")
        if not (row.title and row.profile.isidentifier() and row.domain.isidentifier()):
            raise ValueError(f"chapter {row.letter}: title, profile and domain must be given.")
        if not re.fullmatch(r"[a-z0-9]+(,[a-z0-9]+)*", row.extras):
            raise ValueError(
                f"chapter {row.letter}: extras {row.extras!r} are not comma-separated names of "
                "a3net's extras, such as 'torch,keras'."
            )
    found = [row.letter for row in rows]
    if found != sorted(set(found)):
        raise ValueError(f"chapter letters must be unique and in order, got {found}.")


_validate(CHAPTERS)


def letters() -> list[str]:
    """The chapters' letters in order: ``['A', 'B', ...]``."""
    return [chapter.letter for chapter in CHAPTERS]


def by_letter(letter: str) -> Chapter:
    """The chapter with this letter (either case); ValueError naming the known ones otherwise."""
    key = str(letter).strip().upper()
    for chapter in CHAPTERS:
        if chapter.letter == key:
            return chapter
    raise ValueError(
        f"chapter {letter!r} is not in the registry a3net/chapters.py; "
        f"known chapters: {', '.join(letters())}."
    )


def notebooks(root: str | Path | None = None) -> list[Path]:
    """The chapters' notebooks in order, under ``root`` (default: the repository root)."""
    base = ROOT if root is None else Path(root)
    return [base / chapter.notebook for chapter in CHAPTERS]


# A chapter as the other places name it: book/F_cherenkov_rings (toc) or F_cherenkov_rings (intro).
_TOC_CHAPTER = re.compile(r"^\s*-?\s*file:\s*(book/[A-Z]_\w+)\s*$", re.M)
_INTRO_CHAPTER = re.compile(r"\{doc\}`(?:[^`<]*<)?([A-Z]_\w+)>?`")


def _mismatch(place: str, found: list[str], expected: list[str]) -> list[str]:
    """One sentence if ``found`` is not ``expected`` (same items, same order)."""
    if found == expected:
        return []
    extra = [x for x in found if x not in expected]
    missing = [x for x in expected if x not in found]
    parts = [f"{extra} without a registry row"] if extra else []
    parts += [f"{missing} missing"] if missing else []
    detail = "; ".join(parts) or f"the chapters in another order, {found}"
    return [f"{place} disagrees with the registry a3net/chapters.py: {detail}."]


def problems(root: str | Path | None = None) -> list[str]:
    """Everything under ``root`` that disagrees with the registry, one sentence each.

    Checks the notebooks ``book/<Letter>_*.ipynb``, the chapter entries of ``_toc.yml``, the
    chapter links of ``book/intro.md`` and the profiles of :mod:`a3net.config` (imported here:
    run with the package importable).
    """
    base = ROOT if root is None else Path(root)
    found = []
    registered = [Path(c.notebook).name for c in CHAPTERS]
    on_disk = sorted(p.name for p in (base / "book").glob("[A-Z]_*.ipynb"))
    found += _mismatch("book/", on_disk, registered)
    toc = _TOC_CHAPTER.findall((base / "_toc.yml").read_text(encoding="utf-8"))
    found += _mismatch("_toc.yml", toc, [c.docname for c in CHAPTERS])
    intro = _INTRO_CHAPTER.findall((base / "book" / "intro.md").read_text(encoding="utf-8"))
    intro = list(dict.fromkeys(intro))  # a chapter linked again further down counts once
    found += _mismatch("book/intro.md", intro, [Path(c.docname).name for c in CHAPTERS])
    config = importlib.import_module("a3net.config")
    found += _mismatch("a3net.config.PROFILES", list(config.PROFILES), letters())
    for chapter in CHAPTERS:
        kind = getattr(config, chapter.profile, None)
        if kind is None or getattr(kind, "chapter", None) != chapter.letter:
            found.append(
                f"chapter {chapter.letter} names the profile class {chapter.profile}, but "
                f"a3net.config has no such class with chapter = {chapter.letter!r}."
            )
    return found


def main(argv: list[str] | None = None) -> int:
    """Command line: print the letters, the notebooks or every row (JSON)."""
    parser = argparse.ArgumentParser(
        prog="python a3net/chapters.py", description="The course's chapters, in order."
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--letters", action="store_true", help="the letters, on one line")
    group.add_argument("--notebooks", action="store_true", help="the notebooks, one a line")
    group.add_argument("--json", action="store_true", help="every row as a JSON list")
    group.add_argument(
        "--check", action="store_true", help="name what lacks its counterpart; exit status 1"
    )
    args = parser.parse_args(argv)
    if args.check:
        if str(ROOT) not in sys.path:  # run as a script: make a3net importable
            sys.path.insert(0, str(ROOT))
        found = problems()
        for problem in found:
            print(problem, file=sys.stderr)
        if not found:
            print(f"chapters {' '.join(letters())}: notebooks, toc, intro and profiles agree.")
        return int(bool(found))
    if args.letters:
        print(" ".join(letters()))
    elif args.notebooks:
        print("\n".join(chapter.notebook for chapter in CHAPTERS))
    else:
        rows = [{**asdict(c), "notebook": c.notebook} for c in CHAPTERS]
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
