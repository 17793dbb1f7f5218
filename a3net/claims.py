"""The claims ledger: every finding a chapter asserts, recorded with its noise and its yardstick.

A chapter's claims cell opens a :class:`Ledger`, records each claim with :meth:`Ledger.check`
(name, value, error, threshold, where the threshold comes from) and closes with
:meth:`Ledger.finish`, which prints the table and raises ``AssertionError`` naming every claim
that failed. Every check rewrites ``<letter>-<profile>-<framework>.json`` in the claims folder
(``A3NET_CLAIMS_DIR``, default ``_build/claims`` of the repository), so that a run that stops
half-way still leaves what it checked; the book's page "What this course claims" reads these
files. A claim passes when

- ``op=">"``: ``value - sigmas * error > threshold`` (``">="`` likewise),
- ``op="<"``: ``value + sigmas * error < threshold`` (``"<="`` likewise),

element by element when ``value`` (and ``threshold`` or ``error``) are arrays: every element must
hold. A claim checked only on some profiles (``profiles=("default", "full")``) is recorded on the
others as ``"not checked"`` with its value, so a reader sees what a smaller run measured.

>>> ledger = Ledger("F", profile="smoke", framework="torch", directory=None)  # doctest: +SKIP
>>> ledger.check("CNN beats PCA+SVM", value=0.07, error=0.01, op=">", threshold=0.0,
...              sigmas=3, source="a difference: zero is no lead")  # doctest: +SKIP
>>> ledger.finish()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

SCHEMA = "a3net-claims/1"
CLAIMS_DIR_ENV = "A3NET_CLAIMS_DIR"
OPERATORS = (">", ">=", "<", "<=")
STATUSES = ("pass", "fail", "not checked")


def claims_dir() -> Path:
    """The folder of the claims files: ``A3NET_CLAIMS_DIR``, else ``_build/claims`` of the repo.

    The repository is the folder above the package when it holds ``_config.yml`` (a clone);
    elsewhere (an installed package) the folder is ``_build/claims`` under the working directory.
    """
    chosen = os.environ.get(CLAIMS_DIR_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    repo = Path(__file__).resolve().parent.parent
    base = repo if (repo / "_config.yml").is_file() else Path.cwd()
    return base / "_build" / "claims"


def claims_file(chapter: str, profile: str, framework: str, directory=None) -> Path:
    """The path ``<directory>/<chapter>-<profile>-<framework>.json``."""
    folder = Path(directory) if directory is not None else claims_dir()
    return folder / f"{chapter}-{profile}-{framework}.json"


def _as_json_number(x):
    """A float, a nested list of floats, or None; NaN and infinities become None."""
    if x is None:
        return None
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        v = float(arr)
        return v if math.isfinite(v) else None
    return [_as_json_number(v) for v in arr]


def _numeric(argument: str, x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"claim {name!r}: {argument} must be a number or an array of numbers, got {x!r}."
        ) from None
    return arr


class Ledger:
    """The claims of one run of one chapter (one profile, one framework).

    ``chapter`` is the letter; ``profile`` and ``framework`` default to the active ones
    (``A3NET_PROFILE``, ``A3NET_FRAMEWORK``); ``data_source`` and ``seed`` are recorded as given;
    ``directory`` overrides the claims folder (``None``: :func:`claims_dir`). Creating a ledger
    rewrites the run's file with no claims, so a stale file of an earlier run never survives.
    """

    def __init__(
        self,
        chapter: str,
        *,
        profile: str | None = None,
        framework: str | None = None,
        data_source: str = "simulator",
        seed: int | None = None,
        directory=None,
    ):
        import a3net
        from a3net.chapters import by_letter

        if not isinstance(chapter, str) or len(chapter) != 1 or not chapter.isupper():
            raise ValueError(f"chapter must be one capital letter such as 'F', got {chapter!r}.")
        self.chapter = by_letter(chapter).letter
        self.profile = a3net.profile_name(profile)
        self.framework = a3net.framework_name(framework)
        self.data_source = str(data_source)
        self.seed = None if seed is None else int(seed)
        self.path = claims_file(chapter, self.profile, self.framework, directory)
        self.claims: list[dict] = []
        self.finished = False
        self._write()

    # -- recording -------------------------------------------------------------------------
    def check(
        self,
        name: str,
        value,
        op: str,
        threshold,
        *,
        source: str,
        error=None,
        sigmas: float = 0.0,
        profiles: Iterable[str] | None = None,
        text: str = "",
    ) -> bool:
        """Record one claim and return whether its test held (asserted by :meth:`finish`).

        ``value`` is the measured number (or array); ``error`` its standard error (bootstrap
        over test objects, spread over seeds); the claim holds when ``value`` beats
        ``threshold`` by ``sigmas`` errors in the direction ``op`` (module docstring).
        ``source`` says where the threshold comes from (the hack's slides, a paper, a control
        of this run such as the mean predictor or shuffled labels); ``text`` is the claim in
        words. A NaN anywhere fails the claim.
        """
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"claim name must be a non-empty string, got {name!r}.")
        if any(c["name"] == name for c in self.claims):
            raise ValueError(f"claim {name!r} is recorded twice in chapter {self.chapter}.")
        if op not in OPERATORS:
            raise ValueError(f"claim {name!r}: op must be one of {OPERATORS}, got {op!r}.")
        if not isinstance(source, str) or not source.strip():
            raise ValueError(
                f"claim {name!r}: source must say where the threshold comes from "
                "(the hack's slides, a paper, a control of this run)."
            )
        sigmas = float(sigmas)
        if not math.isfinite(sigmas) or sigmas < 0:
            raise ValueError(f"claim {name!r}: sigmas must be a finite number >= 0.")
        if sigmas > 0 and error is None:
            raise ValueError(f"claim {name!r}: sigmas={sigmas} needs an error.")
        v = _numeric("value", value, name)
        t = _numeric("threshold", threshold, name)
        e = _numeric("error", 0.0 if error is None else error, name)
        try:
            v_b, t_b, e_b = np.broadcast_arrays(v, t, e)
        except ValueError:
            raise ValueError(
                f"claim {name!r}: value {v.shape}, threshold {t.shape} and error {e.shape} "
                "do not broadcast together."
            ) from None
        if op.startswith(">"):
            lhs = v_b - sigmas * e_b
            held = lhs > t_b if op == ">" else lhs >= t_b
        else:
            lhs = v_b + sigmas * e_b
            held = lhs < t_b if op == "<" else lhs <= t_b
        finite = np.isfinite(v_b) & np.isfinite(t_b) & np.isfinite(e_b)
        passed = bool(np.all(held & finite))
        checked = True
        if profiles is not None:
            profiles = tuple(profiles)
            checked = self.profile in profiles
        self.claims.append(
            {
                "name": name,
                "value": _as_json_number(value),
                "error": _as_json_number(error),
                "op": op,
                "threshold": _as_json_number(threshold),
                "sigmas": sigmas,
                "source": source.strip(),
                "text": str(text),
                "profiles": list(profiles) if profiles is not None else None,
                "status": ("pass" if passed else "fail") if checked else "not checked",
            }
        )
        self._write()
        return passed

    # -- closing ---------------------------------------------------------------------------
    def failed(self) -> list[dict]:
        """The claims that were checked and failed."""
        return [c for c in self.claims if c["status"] == "fail"]

    def summary(self) -> str:
        """The claims as aligned text: status, name, value ± error, op, threshold."""
        lines = []
        width = max((len(c["name"]) for c in self.claims), default=10)
        for c in self.claims:
            lines.append(f"{c['status']:11s} {c['name']:{width}s}  {format_claim(c)}")
        return "\n".join(lines)

    def finish(self) -> None:
        """Write the file, print the claims, and raise ``AssertionError`` if any failed."""
        self.finished = True
        self._write()
        print(self.summary())
        bad = self.failed()
        if bad:
            listing = "; ".join(f"{c['name']}: {format_claim(c)}" for c in bad)
            raise AssertionError(
                f"chapter {self.chapter} ({self.profile}, {self.framework}): "
                f"{len(bad)} of {len(self.claims)} claims failed: {listing}"
            )

    def _write(self) -> None:
        record = {
            "schema": SCHEMA,
            "chapter": self.chapter,
            "profile": self.profile,
            "framework": self.framework,
            "data_source": self.data_source,
            "seed": self.seed,
            "finished": self.finished,
            "written": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "claims": self.claims,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, indent=1, allow_nan=False) + "\n")
        os.replace(tmp, self.path)


def format_number(x) -> str:
    """A number to 4 significant digits; a list element by element; None as nan."""
    if x is None:
        return "nan"
    if isinstance(x, list):
        return "[" + ", ".join(format_number(v) for v in x) + "]"
    return f"{x:.4g}"


def format_claim(claim: dict) -> str:
    """``value ± error > threshold (by 3σ)`` for one recorded claim."""
    text = format_number(claim["value"])
    if claim["error"] is not None:
        text += f" ± {format_number(claim['error'])}"
    text += f" {claim['op']} {format_number(claim['threshold'])}"
    if claim["sigmas"]:
        text += f" (by {claim['sigmas']:g}σ)"
    return text


def read_claims(directory=None) -> list[dict]:
    """Every claims file in the folder (:func:`claims_dir` by default), sorted by name."""
    folder = Path(directory) if directory is not None else claims_dir()
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"claims file {path} is not readable JSON ({err}).") from None
        if record.get("schema") != SCHEMA:
            raise ValueError(
                f"claims file {path} has schema {record.get('schema')!r}, not {SCHEMA}."
            )
        records.append(record)
    return records


__all__ = [
    "CLAIMS_DIR_ENV",
    "Ledger",
    "OPERATORS",
    "SCHEMA",
    "STATUSES",
    "claims_dir",
    "claims_file",
    "format_claim",
    "format_number",
    "read_claims",
]
