"""Profiles: a table per chapter (a frozen dataclass, one line per setting); sizes that grow."""

import ast
import dataclasses
import inspect
import textwrap
import typing
from typing import ClassVar

import pytest

import a3net
from a3net import chapters, config
from a3net.config import ChapterProfile, by_profile, chapter_profile

CHAPTERS = list(config.PROFILES)


def _profile_class(chapter):
    return type(config.PROFILES[chapter]["smoke"])


def _settings_in_source(kind):
    """The class's own setting declarations: name -> (AnnAssign node, its source lines)."""
    source = textwrap.dedent(inspect.getsource(kind))
    (node,) = ast.parse(source).body
    lines = source.splitlines()
    found = {}
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and "ClassVar" not in ast.unparse(stmt.annotation):
            span = lines[stmt.lineno - 1 : stmt.end_lineno]
            found[stmt.target.id] = (stmt, span)
    return found


@pytest.fixture
def scratch_chapter():
    """Removes the chapter "Z" a test declares from PROFILES again."""
    yield "Z"
    config.PROFILES.pop("Z", None)


def test_chapters_are_declared_in_the_order_a_to_h():
    assert CHAPTERS == sorted(CHAPTERS)
    assert CHAPTERS == chapters.letters()  # the registry a3net/chapters.py


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_profile_of_a_chapter_is_one_frozen_dataclass(chapter):
    profiles = config.PROFILES[chapter]
    assert tuple(profiles) == config.PROFILE_NAMES
    kinds = {type(p) for p in profiles.values()}
    assert len(kinds) == 1, f"chapter {chapter} mixes profile classes {kinds}"
    (kind,) = kinds
    assert issubclass(kind, config.ChapterProfile) and kind.chapter == chapter
    assert kind.__dataclass_params__.frozen
    assert getattr(config, kind.__name__) is kind
    for name, values in profiles.items():
        assert values.name == name
        with pytest.raises(dataclasses.FrozenInstanceError):
            values.name = "changed"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_three_profiles_have_the_same_settings(chapter):
    keys = {name: tuple(dataclasses.asdict(p)) for name, p in config.PROFILES[chapter].items()}
    assert len(set(keys.values())) == 1, keys
    assert keys["smoke"][0] == "name" and len(keys["smoke"]) > 1


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_setting_is_one_line_of_three_values_and_a_comment(chapter):
    """The table in the source is what the profiles hold: a line per setting, with its comment."""
    kind = _profile_class(chapter)
    declared = _settings_in_source(kind)
    fields = [f.name for f in dataclasses.fields(kind) if f.name != "name"]
    assert list(declared) == fields
    for key, (stmt, span) in declared.items():
        where = f"{kind.__name__}.{key}"
        assert len(span) == 1, f"{where} spans {len(span)} lines; keep a setting on one line"
        assert "#" in span[0], f"{where} has no comment"
        call = stmt.value
        assert isinstance(call, ast.Call) and ast.unparse(call.func) == "by_profile", where
        assert len(call.args) == 3 and not call.keywords, f"{where} needs three positional values"
        values = tuple(ast.literal_eval(arg) for arg in call.args)
        held = tuple(getattr(config.PROFILES[chapter][n], key) for n in config.PROFILE_NAMES)
        assert values == held, where


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_values_are_of_the_declared_types(chapter):
    kind = _profile_class(chapter)
    hints = typing.get_type_hints(kind)
    for profile in config.PROFILES[chapter].values():
        for field in dataclasses.fields(kind):
            value, declared = getattr(profile, field.name), hints[field.name]
            declared = typing.get_origin(declared) or declared
            assert type(value) is declared, f"{chapter}.{field.name} = {value!r} ({profile.name})"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_sizes_and_epochs_grow_from_smoke_to_full(chapter):
    smoke, default, full = (config.PROFILES[chapter][n] for n in config.PROFILE_NAMES)
    for field in dataclasses.fields(smoke):
        values = [getattr(p, field.name) for p in (smoke, default, full)]
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            assert values[0] > 0, f"{chapter}.{field.name} must be positive"
            assert values[0] <= values[1], f"{chapter}.{field.name}: {values}"
            if field.name not in getattr(smoke, "hack_epochs", ()):
                assert values[1] <= values[2], f"{chapter}.{field.name}: {values}"


def test_profile_reads_the_environment(monkeypatch):
    monkeypatch.setenv("A3NET_PROFILE", "smoke")
    assert a3net.profile("f").name == "smoke" and a3net.profile("F").chapter == "F"
    assert a3net.profile("F") is config.PROFILES["F"]["smoke"]
    assert a3net.profile("F", "full").n_count == config.PROFILES["F"]["full"].n_count
    with pytest.raises(AttributeError, match="'n_epochs' does not exist for chapter F; known"):
        _ = a3net.profile("F").n_epochs
    with pytest.raises(ValueError, match="profile 'huge' is unknown"):
        a3net.profile("F", "huge")
    with pytest.raises(ValueError, match="chapter 'Q' has no profile settings"):
        config.settings("Q", "smoke")


def test_a_profile_missing_a_field_cannot_be_built():
    with pytest.raises(TypeError, match="missing"):
        config.RingsProfile(name="smoke")


def test_a_declared_chapter_gets_its_three_frozen_profiles(scratch_chapter):
    @chapter_profile
    class ScratchProfile(ChapterProfile):
        chapter: ClassVar[str] = "Z"
        hack_epochs: ClassVar[tuple] = ("epochs",)
        epochs: int = by_profile(1, 5, 3)  # epochs
        widths: tuple = by_profile((4,), (8,), (8, 16))  # widths
        rate: float = by_profile(1e-3, 1e-3, 1e-4)  # learning rate

    profiles = config.PROFILES["Z"]
    assert tuple(profiles) == config.PROFILE_NAMES
    assert profiles["default"] == ScratchProfile("default", epochs=5, widths=(8,), rate=1e-3)
    assert [f.name for f in dataclasses.fields(ScratchProfile)] == [
        "name",
        "epochs",
        "widths",
        "rate",
    ]
    assert ScratchProfile.hack_epochs == ("epochs",) and ScratchProfile.chapter == "Z"
    with pytest.raises(TypeError, match="missing"):
        ScratchProfile(name="smoke", epochs=1, widths=(4,))


@pytest.mark.parametrize(
    "values",
    [(1,), (1, 2), (1, 2, 3, 4)],
    ids=["one", "two", "four"],
)
def test_a_setting_without_exactly_three_values_fails(scratch_chapter, values):
    with pytest.raises(TypeError, match=r"^chapter Z's profile setting 'epochs' has \d values"):

        @chapter_profile
        class ScratchProfile(ChapterProfile):
            chapter: ClassVar[str] = "Z"
            epochs: int = by_profile(*values)  # epochs

    assert "Z" not in config.PROFILES


def test_a_setting_without_by_profile_fails(scratch_chapter):
    with pytest.raises(TypeError, match="setting 'epochs' needs its three values; declare it as"):

        @chapter_profile
        class ScratchProfile(ChapterProfile):
            chapter: ClassVar[str] = "Z"
            batch_size: int = by_profile(8, 8, 8)  # minibatch size
            epochs: int  # epochs

    with pytest.raises(TypeError, match="setting 'epochs' needs its three values"):

        @chapter_profile
        class DefaultedProfile(ChapterProfile):
            chapter: ClassVar[str] = "Z"
            epochs: int = 3  # one value for every profile


def test_a_value_of_another_type_than_declared_fails(scratch_chapter):
    with pytest.raises(TypeError, match="'rate' is declared float but its default value is 1 "):

        @chapter_profile
        class ScratchProfile(ChapterProfile):
            chapter: ClassVar[str] = "Z"
            rate: float = by_profile(1.0, 1, 0.5)  # learning rate

    with pytest.raises(TypeError, match="'epochs' is declared int but its full value is True"):

        @chapter_profile
        class BoolProfile(ChapterProfile):
            chapter: ClassVar[str] = "Z"
            epochs: int = by_profile(1, 2, True)  # epochs


def test_a_setting_without_a_type_fails(scratch_chapter):
    with pytest.raises(TypeError, match="setting 'epochs' has values but no type"):

        @chapter_profile
        class ScratchProfile(ChapterProfile):
            chapter: ClassVar[str] = "Z"
            epochs = by_profile(1, 2, 3)  # epochs


def test_a_profile_class_needs_a_new_chapter_letter(scratch_chapter):
    with pytest.raises(TypeError, match="must set its chapter letter"):

        @chapter_profile
        class NoLetterProfile(ChapterProfile):
            epochs: int = by_profile(1, 2, 3)  # epochs

    with pytest.raises(ValueError, match="chapter F already has a profile class, RingsProfile"):

        @chapter_profile
        class SecondRingsProfile(ChapterProfile):
            chapter: ClassVar[str] = "F"
            epochs: int = by_profile(1, 2, 3)  # epochs

    assert type(config.PROFILES["F"]["smoke"]) is config.RingsProfile
