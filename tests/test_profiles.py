"""Profiles: one frozen dataclass per chapter, the same fields in every profile, sizes that grow."""

import dataclasses

import pytest

import a3net
from a3net import config

CHAPTERS = sorted(config.PROFILES)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_profile_of_a_chapter_is_one_frozen_dataclass(chapter):
    profiles = config.PROFILES[chapter]
    assert tuple(profiles) == config.PROFILE_NAMES
    kinds = {type(p) for p in profiles.values()}
    assert len(kinds) == 1, f"chapter {chapter} mixes profile classes {kinds}"
    (kind,) = kinds
    assert issubclass(kind, config.ChapterProfile) and kind.chapter == chapter
    assert kind.__dataclass_params__.frozen
    for name, values in profiles.items():
        assert values.name == name
        with pytest.raises(dataclasses.FrozenInstanceError):
            values.name = "changed"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_field_is_commented(chapter):
    """Each field of a chapter's dataclass carries a comment saying what it is."""
    import inspect

    kind = type(config.PROFILES[chapter]["smoke"])
    source = "\n".join(inspect.getsource(c) for c in kind.__mro__ if dataclasses.is_dataclass(c))
    for field in dataclasses.fields(kind):
        line = next(
            (ln for ln in source.splitlines() if ln.strip().startswith(f"{field.name}:")), ""
        )
        assert "#" in line, f"field {field.name} of {kind.__name__} has no comment"


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


def test_a_profile_missing_a_field_cannot_be_built():
    with pytest.raises(TypeError, match="missing"):
        config.RingsProfile(name="smoke")
