"""Understanding real chat (issue 14): floors on the development corpus and its folded twin,
the learned second opinion's limits, and the behaviours the corpus was written to show."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bench.understanding import SETS, Score, evaluate, load, with_model
from handlers.parse import _analyse_text, learned, parse
from handlers.parse.scanning import _tokens
from handlers.parse.vocabulary import _lexicon

SENT = datetime.fromisoformat("2026-11-27T16:00:00+07:00")
FLOORS = {"type": 0.95, "category": 0.93}


@pytest.fixture(scope="module")
def scores() -> dict[str, Score]:
    with_model(True)
    return {name: evaluate(load(SETS[name])) for name in ("corpus", "corpus folded")}


@pytest.mark.parametrize("name", ["corpus", "corpus folded"])
def test_floors_on_the_corpus(scores: dict[str, Score], name: str) -> None:
    s = scores[name]
    assert s.rows >= 1400
    assert s.type_accuracy >= FLOORS["type"], f"{name}: type {s.type_accuracy:.3f}"
    assert s.category_accuracy >= FLOORS["category"], f"{name}: category {s.category_accuracy:.3f}"
    assert s.false_fire == 0, f"{name}: {[u for u in s.false_urgent if 'fire' in u[1]]}"


def test_the_model_is_small_and_shipped() -> None:
    assert learned.MODEL_PATH.stat().st_size < 400_000
    data = json.loads(learned.MODEL_PATH.read_text(encoding="utf-8"))
    assert "incident:fire" in data["labels"] and "ack" in data["labels"]


def _rules_then(model_says: str, text: str) -> tuple[str, str | None]:
    """The reading of `text` when a model that always answers `model_says` is consulted."""
    labels = ("incident:fire", "incident:theft", "all_clear", "other")
    fake = learned.Model(labels, {f"r:{lab}": () for lab in labels})
    weights = {"r:" + r: ((labels.index(model_says), 100.0),) for r in ("other", "incident:theft")}
    weights["r:incident:fire"] = ((labels.index(model_says), 100.0),)
    model = learned.Model(labels, {**fake.weights, **weights})
    saved = learned._model
    learned._model = lambda: model  # type: ignore[assignment]
    try:
        p, _ = _analyse_text(text)
    finally:
        learned._model = saved
    return p.type, p.category


def test_the_model_never_makes_a_fire_nor_unmakes_a_strong_one() -> None:
    # A model sure of "fire" cannot turn a theft into a fire alert.
    assert _rules_then("incident:fire", "mất trộm 2 cuộn cáp ở kho 3") == ("incident", "theft")
    # Nor can it talk a clear fire report out of being one.
    assert _rules_then("other", "cháy lớn ở xưởng 2, lửa lan sang kho") == ("incident", "fire")
    # It may revise what the rules read weakly.
    assert _rules_then("incident:theft", "em thấy lạ lắm, anh em ra xem thử") == (
        "incident",
        "theft",
    )


def _row(text: str) -> dict[str, Any]:
    return parse(text, SENT).to_dict()


@pytest.mark.parametrize(
    ("text", "category", "severity", "reasons"),
    [
        ("2 cn danh nhau o nha an, 1 nguoi chay mau dau", "fight", "high", ["injury"]),
        ("hai nhóm thanh niên hỗn chiến trước cổng, có người cầm dao", "fight", "high", ["weapon"]),
        ("Hỏa hoạn tại kho 3, lửa cháy lan sang xưởng bên cạnh", "fire", "high", ["spreading"]),
        ("cháy thùng rác sau nhà ăn, bảo vệ đã dập tắt, không ai bị thương", "fire", "low", None),
        ("công nhân bị điện giật ở xưởng 4, đã đưa đi cấp cứu", "accident", "high", ["injury"]),
        ("khoảng 30 công nhân nghi ngộ độc sau bữa trưa", "poisoning", "high", ["injury"]),
        ("rò rỉ hóa chất ở kho 7", "hazmat", "high", ["toxic"]),
        ("mưa lớn làm ngập bãi xe cổng 2", "disaster", "medium", []),
        ("khoảng 2h sáng có người lạ trèo tường vào kho 5", "suspicious", "high", ["night"]),
        (
            "Diễn tập PCCC ở xưởng 2, giả định cháy, 2 người bị thương",
            "inspection",
            "low",
            ["drill"],
        ),
    ],
)
def test_categories_severity_and_reasons(
    text: str, category: str, severity: str, reasons: list[str] | None
) -> None:
    got = _row(text)
    assert (got["type"], got["category"], got["severity"]) == ("incident", category, severity), got
    if reasons is not None:
        assert got["reasons"] == reasons
    else:
        assert "put_out" in got["reasons"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("có mùi khét ở tủ điện, anh em kiểm tra rồi, không sao", "all_clear"),
        ("báo nhầm anh em ơi, khói là do lò hơi, không phải cháy", "all_clear"),
        ("Tuần này không để xảy ra cháy nổ, tình hình ổn định", "all_clear"),
        ("nhắc anh em khóa xe cẩn thận tránh mất trộm dịp Tết", "other"),
        ("Lịch cúp điện khu B: thứ 3 từ 8h đến 16h", "other"),
        ("em đến muộn 15p vì hỏng xe giữa đường", "absent"),
        ("Văn bản đính kèm bị lỗi, không mở được, đề nghị gửi lại", "not_ack"),
        ("cảm ơn bot nhiều nhé", "other"),
        ("co matj", "check_in"),
        ("comat", "check_in"),
        ("co mawtj", "check_in"),
        ("chays kho 3", "incident"),
        ("ca 2 tuan tra binh thuogn", "all_clear"),
        ("chap hanhhh a", "ack"),
        # A firm acknowledgement with a promise to be there answers the notice...
        ("đã nhận thông báo, 7h em có mặt", "ack"),
        ("da nhan, mai 6h em co mat", "ack"),
        # ...a shift reporting in ("tiếp nhận vị trí", "nhận ca") checks in.
        ("Báo cáo: ca 2 đã tiếp nhận vị trí, quân số đủ", "check_in"),
        ("đã nhận ca, có mặt", "check_in"),
    ],
)
def test_what_members_write(text: str, kind: str) -> None:
    assert _row(text)["type"] == kind, _row(text)


@pytest.mark.parametrize(
    ("text", "category", "severity", "reasons"),
    [
        # A crowd is whom an inspection or a drug test covers, not a danger.
        ("Thanh tra lao động kiểm tra cty Hải Long, 120 công nhân làm thêm quá giờ", "inspection",
         "low", []),
        ("Công an KCN test nhanh ma túy 200 công nhân cty Tân Phú, 2 người dương tính", "drugs",
         "medium", []),
        # A strike is grave from a hundred people, or with violence.
        ("khoang 70 cn tu tap truoc cong 2 doi tang luong", "strike", "medium", []),
        ("Khoảng 150 công nhân ngừng việc, tụ tập trước cổng 1", "strike", "high",
         ["many_people"]),
        ("cn ngừng việc, có người lạ kích động, ném chai vào xe ra vào", "strike", "high",
         ["violence"]),
        # A repair asked for "gấp" is not an emergency.
        ("bom chua chay xuong 2 ko chay dc, nho ky thuat sua gap", "equipment", "medium", []),
        ("Hàng rào lô C2 bị sập một đoạn, đề nghị kiểm tra gấp", "equipment", "medium", []),
        # A light injury is neither grave nor minor.
        ("chị công nhân xưởng 3 bị bỏng nhẹ ở tay, y tế băng bó rồi", "accident", "medium", []),
        ("cn bi may dam kim xuyen ngon tay, da bang bo, ko sao lam", "accident", "medium", []),
        # Homographs of danger words, typed bare.
        ("2 nhom xo xat o ktx, 1 thang bi dam chay mau tay", "fight", "high", ["injury"]),
        ("dau bao khoi phong may xuong 1 bi hu, e tam ngat zone do", "equipment", "medium", []),
        ("nuoc ngap duong vao cong 3, nhieu xe may chet may", "disaster", "medium", []),
    ],
)  # fmt: skip
def test_reasons_that_say_nothing_of_danger(
    text: str, category: str, severity: str, reasons: list[str]
) -> None:
    got = _row(text)
    assert (got["type"], got["category"], got["severity"]) == ("incident", category, severity), got
    assert got["reasons"] == reasons, got


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("nghe tieng no lon o cong 2, ra kiem tra la xe tai no lop ngoai duong, ben minh ko sao",
         "all_clear"),
        ("Nghị định mới về phòng cháy, chữa cháy có hiệu lực từ tháng sau, các đơn vị rà soát",
         "other"),
        ("6 tháng đầu năm các KCN xảy ra 10 vụ cháy, giảm 2 vụ so với cùng kỳ", "other"),
        ("Cảm ơn anh em cty Minh Phát đã qua hỗ trợ dập lửa hôm qua 🙏", "other"),
        ("Trời nắng như đổ lửa, anh em trực cổng nhớ uống nước", "other"),
    ],
)  # fmt: skip
def test_what_is_not_an_alert(text: str, kind: str) -> None:
    got = _row(text)
    assert got["type"] == kind, got


def test_met_is_not_urgent() -> None:
    # "gap" typed bare near "vụ tai nạn" is gặp (met), not gấp (urgent).
    got = _row("sang nay di lam gap vu tai nan o nga tu, ket xe qua")
    assert got["severity"] != "high" and "urgent" not in got["reasons"], got


def test_a_long_report_is_read_from_its_incident_sentence() -> None:
    text = (
        "Ca trực đêm 2/11 quân số đủ, đầu ca bàn giao đầy đủ. Lúc 23h15 phát hiện 2 đối tượng "
        "cạy cửa kho 5 lấy trộm cuộn đồng, bảo vệ đã báo công an. Cuối ca tình hình ổn định."
    )
    got = _row(text)
    assert (got["type"], got["category"]) == ("incident", "theft")
    assert got["time"] == {"at": "2026-11-26T23:15"}
    assert ["warehouse", "5"] in [[p["kind"], p["code"]] for p in got["places"]]


def test_unaccented_fire_is_ambiguous_unless_corroborated() -> None:
    bare = _row("chay kho 3 roi")
    assert (bare["category"], bare["ambiguous"], bare["reasons"]) == ("fire", True, [])
    loud = _row("chay kho 3 roi, lua bung len mai, goi 114 gap")
    assert loud["category"] == "fire" and loud["ambiguous"] and loud["reasons"]
    assert not _row("cháy kho 3 rồi")["ambiguous"]


def test_the_corpus_files_are_twins() -> None:
    plain = {r["id"] for r in load(SETS["corpus"])}
    folded = {r["id"] for r in load(SETS["corpus folded"])}
    assert folded <= plain and len(folded) >= 0.9 * len(plain)


def test_dev_set_is_a_copy_of_the_shared_one() -> None:
    path = Path(__file__).parent / "data" / "understanding_dev.jsonl"
    assert len(load(path)) == 450


def test_packed_scores_are_the_votes_summed() -> None:
    # The shipped model's packed scores equal its votes added one by one over its features
    # (words, word pairs not across punctuation, the rules' label), in hundredths.
    model = learned._model()
    assert model is not None
    texts = ["Cháy kho 3 rồi, gọi 114 gấp!!!", "ko co mat dc, xin nghi ca chieu 🙏", "Đã nhận. Ok"]
    for text in texts:
        ftoks = _tokens(_lexicon(), text, text.lower())[1]
        for rules in ("other", "incident:fire", "absent"):
            want = [0] * len(model.labels)
            for feature in learned.features(ftoks, rules):
                for k, w in model.weights.get(feature, ()):
                    want[k] += round(w * 100)
            got = [s - (1 << 31) for s in model.scores_of(ftoks, rules)]
            assert got == want, (text, rules)
    # Negative votes never borrow from the next label's field.
    small = learned.Model(("a", "b", "c"), {"x": ((0, -3.5), (1, 2.0)), "x y": ((1, -1.25),)})
    assert [s - (1 << 31) for s in small.scores_of(["x", "y", ".", "x"], "a")] == [-700, 275, 0]


def test_any_beats_reads_the_packed_scores_as_unpacking_would() -> None:
    # The learned opinion's usual answer ("the rules stand") is read off the packed scores;
    # it must agree with comparing the unpacked scores, at the margin and with negative votes.
    small = learned.Model(("a", "b", "c"), {"x": ((0, -3.5), (1, 2.0)), "y": ((2, 5.0),)})
    for words in (["x"], ["y"], ["x", "y"], ["x", "x", "y"], []):
        packed = small.packed_scores(words, "a")
        scores = small.scores_of(words, "a")
        for mine in range(3):
            for by in (0, 199, 200, 500, 549, 550, 551, 850):
                want = any(s - scores[mine] > by for s in scores)
                assert small.any_beats(packed, mine, by) == want, (words, mine, by)
