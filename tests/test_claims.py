"""The claims ledger (a3net.claims) and the book page that shows it (book/_ext/a3net_claims.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from a3net.claims import SCHEMA, Ledger, claims_dir, format_claim, read_claims

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ledger(tmp_path):
    return Ledger("F", profile="smoke", framework="torch", seed=3, directory=tmp_path)


def _record(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    ("value", "op", "threshold", "error", "sigmas", "expected"),
    [
        (0.07, ">", 0.0, 0.01, 3, True),  # 0.07 - 0.03 > 0
        (0.07, ">", 0.0, 0.03, 3, False),  # 0.07 - 0.09 < 0: inside the noise
        (0.5, "<", 0.7, None, 0, True),
        (0.7, "<", 0.7, None, 0, False),
        (0.7, "<=", 0.7, None, 0, True),
        (0.7, ">=", 0.7, None, 0, True),
        (0.6, "<", 0.7, 0.05, 2, False),  # 0.6 + 0.1 is not below 0.7
        ([0.3, 0.5], "<", 0.7, None, 0, True),
        ([0.3, 0.9], "<", 0.7, None, 0, False),  # every element must hold
        ([0.3, 0.5], "<", [0.4, 0.4], None, 0, False),
        (float("nan"), "<", 0.7, None, 0, False),  # NaN never passes
        (0.1, ">", 0.0, float("nan"), 1, False),
    ],
)
def test_check_decides_by_value_error_and_threshold(
    ledger, value, op, threshold, error, sigmas, expected
):
    assert ledger.check("c", value, op, threshold, error=error, sigmas=sigmas, source="s") is (
        expected
    )
    assert ledger.claims[0]["status"] == ("pass" if expected else "fail")


def test_every_check_rewrites_the_file_with_the_schema(ledger, tmp_path):
    path = tmp_path / "F-smoke-torch.json"
    assert ledger.path == path
    assert _record(path)["claims"] == []
    ledger.check("lead", np.float32(0.07), ">", 0, error=0.01, sigmas=3, source="zero: no lead")
    record = _record(path)
    assert record["schema"] == SCHEMA
    assert (record["chapter"], record["profile"], record["framework"]) == ("F", "smoke", "torch")
    assert record["seed"] == 3 and record["data_source"] == "simulator"
    assert record["finished"] is False
    (claim,) = record["claims"]
    assert claim == {
        "name": "lead",
        "value": pytest.approx(0.07),
        "error": 0.01,
        "op": ">",
        "threshold": 0.0,
        "sigmas": 3.0,
        "source": "zero: no lead",
        "text": "",
        "profiles": None,
        "status": "pass",
    }
    ledger.finish()
    assert _record(path)["finished"] is True


def test_a_new_ledger_replaces_an_earlier_runs_file(tmp_path):
    first = Ledger("F", profile="smoke", framework="keras", directory=tmp_path)
    first.check("old", 1.0, ">", 0.0, source="s")
    Ledger("F", profile="smoke", framework="keras", directory=tmp_path)
    assert _record(tmp_path / "F-smoke-keras.json")["claims"] == []


def test_finish_raises_naming_every_failed_claim(ledger, capsys):
    ledger.check("good", 1.0, ">", 0.0, source="s")
    ledger.check("bad one", 1.0, "<", 0.0, source="s")
    ledger.check("bad two", [1.0, np.nan], "<", 2.0, source="s")
    with pytest.raises(AssertionError, match=r"2 of 3 claims failed: bad one: 1 < 0; bad two"):
        ledger.finish()
    printed = capsys.readouterr().out
    assert "pass" in printed and "bad one" in printed
    assert _record(ledger.path)["finished"] is True


def test_a_claim_outside_its_profiles_is_recorded_not_checked(ledger):
    held = ledger.check("big only", 2.0, "<", 1.0, source="s", profiles=("default", "full"))
    assert held is False  # what the test gave, though it is not asserted on smoke
    assert ledger.claims[0]["status"] == "not checked"
    assert ledger.claims[0]["profiles"] == ["default", "full"]
    ledger.finish()  # a claim not checked cannot fail the run


def test_values_are_stored_as_json_numbers(ledger):
    ledger.check("arr", np.array([[1, 2], [3, np.inf]]), "<", 9, source="s")
    assert ledger.claims[0]["value"] == [[1.0, 2.0], [3.0, None]]
    assert format_claim(ledger.claims[0]) == "[[1, 2], [3, nan]] < 9"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "claim name must be a non-empty string"),
        ({"op": "=="}, "op must be one of"),
        ({"source": " "}, "source must say where the threshold comes from"),
        ({"sigmas": 3}, "sigmas=3.0 needs an error"),
        ({"sigmas": -1, "error": 0.1}, "sigmas must be a finite number"),
        ({"value": "high"}, "value must be a number or an array of numbers"),
        ({"value": [1, 2, 3], "threshold": [1, 2]}, "do not broadcast together"),
    ],
)
def test_bad_claims_get_one_clear_sentence(ledger, kwargs, message):
    args = {"name": "c", "value": 1.0, "op": ">", "threshold": 0.0, "source": "s"} | kwargs
    name, value, op, threshold = (args.pop(k) for k in ("name", "value", "op", "threshold"))
    with pytest.raises((ValueError, TypeError), match=message):
        ledger.check(name, value, op, threshold, **args)


def test_a_claim_name_is_recorded_once(ledger):
    ledger.check("c", 1.0, ">", 0.0, source="s")
    with pytest.raises(ValueError, match="recorded twice"):
        ledger.check("c", 2.0, ">", 0.0, source="s")


def test_chapter_profile_and_framework_are_checked(tmp_path):
    with pytest.raises(ValueError, match="one capital letter"):
        Ledger("f", directory=tmp_path)
    with pytest.raises(ValueError, match="chapter 'Z' is not in the registry"):
        Ledger("Z", directory=tmp_path)
    with pytest.raises(ValueError, match="profile 'tiny' is unknown"):
        Ledger("F", profile="tiny", directory=tmp_path)
    with pytest.raises(ValueError, match="framework 'jax' is unknown"):
        Ledger("F", framework="jax", directory=tmp_path)


def test_the_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("A3NET_CLAIMS_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("A3NET_PROFILE", "default")
    monkeypatch.setenv("A3NET_FRAMEWORK", "keras")
    assert claims_dir() == tmp_path / "elsewhere"
    ledger = Ledger("C")
    assert ledger.path == tmp_path / "elsewhere" / "C-default-keras.json"
    monkeypatch.delenv("A3NET_CLAIMS_DIR")
    assert claims_dir() == ROOT / "_build" / "claims"  # in a clone: the repository's _build


def test_read_claims_refuses_foreign_files(tmp_path):
    Ledger("F", profile="smoke", framework="torch", directory=tmp_path)
    assert [r["chapter"] for r in read_claims(tmp_path)] == ["F"]
    (tmp_path / "x.json").write_text('{"schema": "other"}')
    with pytest.raises(ValueError, match="has schema 'other'"):
        read_claims(tmp_path)
    (tmp_path / "x.json").write_text("{")
    with pytest.raises(ValueError, match="not readable JSON"):
        read_claims(tmp_path)


# -- the page -------------------------------------------------------------------------------


def _write_runs(folder: Path) -> None:
    for framework, lead in (("torch", 0.07), ("keras", 0.01)):
        ledger = Ledger("F", profile="smoke", framework=framework, directory=folder)
        ledger.check(
            "CNN lead over PCA+SVM", lead, ">", 0, error=0.01, sigmas=3, source="zero: no lead"
        )
        mean = {"torch": 0.5, "keras": 0.6}[framework]  # a control measured in each run
        ledger.check("thickness RMSE", 0.1, "<", mean, source="mean predictor of this run")
    Ledger("C", profile="default", framework="torch", directory=folder).check(
        "sigma_NMAD", 0.04, "<", 0.05, source="the hack's slides"
    )


def test_the_claims_page_renders_both_frameworks_side_by_side(tmp_path):
    """A real Sphinx build of a page holding the directive, over claims files of two runs."""
    claims = tmp_path / "claims"
    _write_runs(claims)
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['a3net_claims']\n"
    )
    (src / "index.rst").write_text("Claims\n======\n\n.. claims-ledger::\n")
    env = {"A3NET_CLAIMS_DIR": str(claims), "A3NET_PROFILE": "smoke", "PATH": ""}
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(src), str(tmp_path / "out")],
        env=env | {"HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    assert (
        "Profile smoke: 1 of 8 chapters ran, 4 claims recorded over the frameworks that ran: "
        "3 passed, 1 failed, 0 not checked on this profile." in html
    )
    assert "F. Cherenkov" in html or "F. " in html
    assert html.index("PyTorch") < html.index("Keras")  # side by side, torch first
    assert "0.07 ± 0.01" in html and "claim-pass" in html
    assert "0.01 ± 0.01" in html and "claim-fail" in html  # Keras's lead is inside its noise
    assert "&gt; 0 by 3 σ" in html and "zero: no lead" in html
    assert "&lt; 0.5 / 0.6" in html  # a threshold measured in each run, per framework
    assert "No run of chapter A on the smoke profile in this build." in html
    assert "Claims files of other profiles in the folder, not shown: 1 of default." in html
    assert "sigma_NMAD" not in html  # chapter C ran only on the default profile
