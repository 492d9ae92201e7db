"""Several parks' councils in one configuration (issue 20): validation and the councils API."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handlers.config import ConfigError, load_settings
from handlers.councils import (
    DEFAULT_COUNCIL,
    UnknownCouncil,
    council_by_id,
    council_of_chat,
    councils,
    is_multi,
)

ROOT = Path(__file__).resolve().parents[1]
TWO_PARKS = ROOT / "examples" / "two_parks.yaml"


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, environ={})


def test_a_file_without_councils_is_the_one_default_council() -> None:
    settings = load_settings(ROOT / "config.yaml", environ={})
    assert not is_multi(settings)
    (only,) = councils(settings)
    assert only.id == DEFAULT_COUNCIL and only.settings is settings
    assert council_of_chat(settings, "any-chat") == DEFAULT_COUNCIL


def test_the_two_parks_example_has_two_councils_with_their_overrides() -> None:
    settings = load_settings(TWO_PARKS, environ={})
    bx, kq = councils(settings)
    assert (bx.id, kq.id) == ("binh-xuyen", "khai-quang")
    assert council_of_chat(settings, "g_kq_dienco") == "khai-quang"
    assert council_of_chat(settings, "g_unknown") is None
    # Khai Quang's digest day and quiet hours; everything it does not name is shared.
    assert kq.settings.digest.weekday == "tue" and kq.settings.digest.time == "08:00"
    assert kq.settings.engagement.quiet_hours == "22:00-06:00"
    assert kq.settings.engagement.monthly_message_budget == 3000
    assert bx.settings.digest.weekday == "mon"
    assert kq.settings.coordinators == ("u_kq_chu_tich",)
    assert [g.chat_id for g in kq.settings.groups] == ["g_kq_council", "g_kq_dienco"]
    # Code that handles any chat still sees every configured group.
    assert len(settings.groups) == 4
    assert settings.province.coordinators == ("u_ban_quan_ly",)
    assert settings.province.copy_urgent.categories == ("fire", "hazmat")


def test_an_unknown_council_names_the_known_ones() -> None:
    settings = load_settings(TWO_PARKS, environ={})
    with pytest.raises(UnknownCouncil) as info:
        council_by_id(settings, "kcn-x")
    assert "kcn-x" in str(info.value) and "binh-xuyen, khai-quang" in str(info.value)


PARK = "  - id: {id}\n    name: {name}\n    groups: [{{chat_id: {chat}, name: G}}]\n"


@pytest.mark.parametrize(
    "text, needle",
    [
        (
            "councils:\n" + PARK.format(id="a", name="A", chat="g1") + "    digestt: {}\n",
            "councils.0.digestt",
        ),
        (
            "councils:\n" + PARK.format(id="a", name="A", chat="g1") + "    digest: {day: tue}\n",
            "councils.0.digest.day",
        ),
        ("councils:\n" + PARK.format(id="KCN A", name="A", chat="g1"), "councils.0.id"),
        ("councils:\n" + PARK.format(id="default", name="A", chat="g1"), "'default' is reserved"),
        (
            "councils:\n"
            + PARK.format(id="a", name="A", chat="g1")
            + PARK.format(id="a", name="B", chat="g2"),
            "councils.1.id: 'a' is used twice",
        ),
        (
            "councils:\n"
            + PARK.format(id="a", name="A", chat="g1")
            + PARK.format(id="b", name="B", chat="g1"),
            "chat 'g1' is already in council 'a'",
        ),
        (
            "groups: [{chat_id: g0, name: G}]\ncouncils:\n"
            + PARK.format(id="a", name="A", chat="g1"),
            "groups: with councils, list groups under each council",
        ),
        (
            "province:\n  copy_urgent: {categories: [fyre]}\n",
            "province.copy_urgent.categories",
        ),
        ("province:\n  coordinatorz: [u1]\n", "province.coordinatorz"),
    ],
)
def test_bad_council_and_province_keys_are_named(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    "text, picked, bare",
    [
        ("2", "khai-quang", True),
        ("số 1", "binh-xuyen", True),
        ("Khai Quang", "khai-quang", True),
        ("kcn binh xuyen a", "binh-xuyen", True),
        ("KCN Khai Quang ạ.", "khai-quang", True),
        ("kho sơn KCN Khai Quang bị cháy", "khai-quang", False),
        ("3", None, None),
        ("cả hai", None, None),
        ("Bình Xuyên hay Khai Quang", None, None),
    ],
)
def test_the_park_answer_is_a_number_or_the_parks_name(
    text: str, picked: str | None, bare: bool | None
) -> None:
    from handlers.park_choice import is_bare_answer, picked_park

    options = list(councils(load_settings(TWO_PARKS, environ={})))
    found = picked_park(text, options)
    assert (found.id if found else None) == picked
    if found is not None:
        assert is_bare_answer(text, found) is bare


def test_settings_dumped_and_read_again_are_the_same_parks(tmp_path: Path) -> None:
    """The demo writes the settings back to a file for the command line."""
    settings = load_settings(TWO_PARKS, environ={})
    dumped = settings.model_dump(mode="json", exclude={"base_dir"})
    again = _load(tmp_path, yaml.safe_dump(dumped, allow_unicode=True))
    for a, b in zip(councils(settings), councils(again), strict=True):
        assert a.id == b.id and a.groups == b.groups
        assert a.settings.digest == b.settings.digest
        assert a.settings.engagement == b.settings.engagement
