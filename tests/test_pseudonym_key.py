"""The pseudonymisation key rule (core/data/pseudonyms.py): common key words, the project's
name and trivially patterned remainders (runs of digits, repeated characters, keyboard
rows, a piece given twice) do not count toward a key's strength, and the demand command
refuses such a key however it is given, saying why and how to make one, never the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLE_DIR

from community_safety.core.cli import main
from community_safety.core.data.pseudonyms import GUESSABLE, key_problem
from community_safety.core.demand.project import load_demand_project

SAMPLE = SAMPLE_DIR / "service_users"
PROJECT = SAMPLE / "service_users.toml"
BARNET = "Barnet frequent service users (SYNTHETIC)"  # a tester's demand project's name

# keys a tester ran demand with, or found key_problem passing
TESTER_KEYS = ["password1234567890", "Password123456789!", "Barnet frequent service users"]
GUESSABLE_KEYS = [
    "Password!Password!1",  # a common word, then punctuation
    "Barnet2024!Barnet2024!x",  # the project's name and a year, given twice
    "BarnetSafety12345678",  # the project's name, a common word, a run of digits
    "service users qwertyuiop 2024",  # the project's words and a keyboard row
    "frequent users aaaaaaaaaaaaaa!",  # the project's words and a repeated character
]
# common words written with the usual substitutions (a re-tester found them passing)
SUBSTITUTED_KEYS = ["P@ssw0rd1234567890", "Pa55word1234567890", "Pa$$word1234567890!",
                    "S3cr3t!S3cr3t!12345", "L3tM31n!2024Welc0me"]
GOOD_KEYS = ["Kx9#vQ2!mPz7@wL4rT8$", "7f3a9c01e4b25d86c0f1a7e39b4d2c58", "9fK2mQ7xLp4wZ8rT",
             "correct horse battery staple", "marmalade tortoise glacier umbrella",
             "the partnership's secret key, kept outside the project",
             "Barnet frequent service users: 7f3a9c01e4b25d86"]


@pytest.mark.parametrize("key", TESTER_KEYS + GUESSABLE_KEYS)
def test_guessable_keys_are_refused_saying_why(key):
    assert key_problem(key, (BARNET,)) == GUESSABLE
    assert key not in GUESSABLE


@pytest.mark.parametrize("key", ["password1234567890", "Password123456789!",
                                 "Password!Password!1"])
def test_common_words_with_patterned_rests_are_refused_whatever_the_project(key):
    assert key_problem(key) == GUESSABLE


@pytest.mark.parametrize("key", SUBSTITUTED_KEYS)
def test_common_words_written_with_substitutions_are_refused(key):
    assert key_problem(key) == GUESSABLE
    assert key_problem(key, (BARNET,)) == GUESSABLE


def test_the_project_name_written_with_substitutions_is_refused_for_its_project():
    key = "B4rn3t fr3qu3nt s3rv1c3 us3r5"
    assert key_problem(key) is None  # uncommon words, no project given
    assert key_problem(key, (BARNET,)) == GUESSABLE


def test_the_project_name_counts_only_for_its_own_project():
    assert key_problem("Barnet frequent service users") is None  # no name given
    assert key_problem("Barnet frequent service users", ("Camden fire review",)) is None
    assert key_problem("Barnet frequent service users", (BARNET,)) == GUESSABLE


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_good_keys_pass_with_the_project_name_given(key):
    assert key_problem(key, (BARNET,)) is None


def test_random_keys_are_never_taken_for_words_and_patterns():
    """2,000 random keys of 16 and of 32 characters, of hex digits, of letters and digits,
    and of letters, digits and shifted digits (a fixed seed): none is refused as guessable
    words and patterns, though their digits and symbols now stand for letters too
    (``7e57`` is "test"). (The older rules may refuse a rare one of them, e.g. 16 hex
    digits of only 5 different characters.)"""
    import random
    import string

    draw = random.Random(37)
    for alphabet in ("0123456789abcdef", string.ascii_letters + string.digits,
                     string.ascii_letters + string.digits + "!@#$%^&*"):
        for length in (16, 32):
            for _ in range(2000):
                key = "".join(draw.choice(alphabet) for _ in range(length))
                assert key_problem(key, (BARNET,)) != GUESSABLE, key


def test_demand_refuses_its_own_project_name_as_the_key(tmp_path, capsys, monkeypatch):
    name = load_demand_project(PROJECT).name
    assert name == "Camden frequent service users (SYNTHETIC)"
    for key in (name, "Camden frequent service users", "camden service users 1234567890"):
        monkeypatch.setenv("COMMUNITY_SAFETY_KEY", key)
        out = tmp_path / "env"
        assert main(["demand", str(PROJECT), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert ("$COMMUNITY_SAFETY_KEY: the key in the environment is mostly words and "
                "patterns anyone could guess") in err, err
        assert "the project's name" in err and "openssl rand -hex 32" in err, err
        assert key.lower() not in err.lower()  # the key itself is never echoed
        assert not out.exists()
    monkeypatch.delenv("COMMUNITY_SAFETY_KEY")
    key_file = tmp_path / "secret" / "demand.key"
    key_file.parent.mkdir()
    key_file.write_text("Camden frequent service users\n")
    out = tmp_path / "file"
    assert main(["demand", str(PROJECT), "--out", str(out), "--key-file", str(key_file)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{key_file}: the key file is mostly words and patterns" in err, err
    assert not out.exists()


def test_demand_refuses_the_testers_weak_key_from_the_environment(tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.setenv("COMMUNITY_SAFETY_KEY", "password1234567890")
    out = tmp_path / "out"
    assert main(["demand", str(PROJECT), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "password1234567890" not in err and "nothing was written" in err
    assert not Path(out).exists()


@pytest.fixture(scope="module")
def camden_segmentation(tmp_path_factory) -> Path:
    from conftest import saved_sample

    return saved_sample(tmp_path_factory.mktemp("seg"), n_init=2)[1]


def test_every_step_refuses_the_segmentations_own_name_as_the_key(
        camden_segmentation, tmp_path, capsys, monkeypatch):
    """The segmentation's name ("Camden output areas, 2011 Census") as the key: refused by
    incidents (which pseudonymises record IDs) and by demand given the segmentation, as
    demand refuses its own project's name; nothing is written or added."""
    from community_safety.core.segment.saved import saved_name

    gpkg = camden_segmentation / "segmentation.gpkg" if camden_segmentation.is_dir() \
        else camden_segmentation
    name = saved_name(gpkg)
    assert name == "Camden output areas, 2011 Census"
    before = gpkg.read_bytes()
    key = "Camden output areas 2011 Census"
    assert key_problem(key, (load_demand_project(PROJECT).name,)) is None  # only its name
    monkeypatch.setenv("COMMUNITY_SAFETY_KEY", key)
    runs = {
        "incidents": ["incidents", str(gpkg), str(SAMPLE_DIR / "street_crime_2019_07.csv"),
                      "--name", "asb", "--id", "ID", "--x", "Easting", "--y", "Northing",
                      "--out", str(tmp_path / "incidents")],
        "demand": ["demand", str(PROJECT), "--out", str(tmp_path / "demand"),
                   "--segmentation", str(gpkg)],
    }
    for step, argv in runs.items():
        assert main(argv) == 2, step
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert ("$COMMUNITY_SAFETY_KEY: the key in the environment is mostly words and "
                "patterns anyone could guess") in err, (step, err)
        assert key.lower() not in err.lower()
    assert not (tmp_path / "incidents").exists() and not (tmp_path / "demand").exists()
    assert gpkg.read_bytes() == before
    monkeypatch.setenv("COMMUNITY_SAFETY_KEY", "7f3a9c01e4b25d86c0f1a7e39b4d2c58")
    assert main(runs["incidents"]) == 0  # the same step with a good key
