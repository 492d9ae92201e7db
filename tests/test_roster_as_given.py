"""The roster as a council hands it to the IT officer: an Excel sheet, or a CSV saved from it,
with Vietnamese headers ("Họ tên", "Số điện thoại", "Đơn vị", "Vai trò") and roles written in
Vietnamese ("thành viên", "điều phối viên"), phones that lost their leading 0. Imported by
`antt-bot members import` as the English-headed CSV is."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook

from models.roster import parse_roster_csv
from tests.test_cli import run, write_config

VIETNAMESE_CSV = (
    "STT;Họ và tên;Số điện thoại;Đơn vị;Vai trò;Nhóm Zalo;Danh xưng;Chức vụ\n"
    "1;Nguyễn Văn An;0901234567;Cty May Việt;thành viên;gcouncil;anh;Tổ trưởng bảo vệ\n"
    "2;Trần Thị Bình;0912 345 678;Ban quản lý KCN;Điều phối viên;gcouncil;chị;Phó ban\n"
    "3;Lê Văn Cường;;Công an KCN;quan tri;gcouncil;đồng chí;Đội trưởng\n"
)


def test_vietnamese_headers_and_roles_are_read_as_the_english_ones() -> None:
    rows, errors = parse_roster_csv(VIETNAMESE_CSV)
    assert [(r.name, r.phone, r.enterprise, r.role, r.groups, r.title) for r in rows] == [
        ("Nguyễn Văn An", "0901234567", "Cty May Việt", "member", ("gcouncil",), "anh"),
        ("Trần Thị Bình", "0912345678", "Ban quản lý KCN", "coordinator", ("gcouncil",), "chị"),
        ("Lê Văn Cường", None, "Công an KCN", "admin", ("gcouncil",), "đồng chí"),
    ]
    # The job title and the row number are not the bot's: said once, not refused.
    assert errors == ["header: unknown column(s) stt, chức vụ ignored"]


def test_headers_typed_without_marks_and_an_unknown_role_named() -> None:
    text = "ho ten,sdt,don vi,vai tro\nPham Van Dung,901234567,Hansol,truong ban\n"
    rows, errors = parse_roster_csv(text)
    assert rows == []
    assert errors[-1] == (
        "line 2: role 'truong ban' must be one of member, coordinator, admin "
        "(thành viên, điều phối viên, quản trị); not imported"
    )


def test_an_excel_roster_is_imported_by_the_cli(tmp_path: Path) -> None:
    write_config(tmp_path)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Họ tên", "Số điện thoại", "Đơn vị", "Vai trò", "Nhóm"])
    sheet.append(["Nguyễn Văn An", 901234567, "Cty May Việt", "Thành viên", "gcouncil"])
    sheet.append(["Trần Thị Bình", "0912345678", "Ban quản lý KCN", "điều phối viên", "gcouncil"])
    sheet.append([None, None, None, None, None])  # Excel's trailing empty row
    book.save(tmp_path / "danh sach.xlsx")
    proc = run("members", "import", "danh sach.xlsx", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2 created, 0 updated, 0 unchanged, 0 rejected" in proc.stdout
    # The number Excel kept without its 0 is read back, and said so.
    assert "line 2: phone '901234567' read as 0901234567" in proc.stderr
    rows = [json.loads(x) for x in run("export", "members", cwd=tmp_path).stdout.splitlines()]
    assert {(r["name"], r["phone"], r["role"]) for r in rows} == {
        ("Nguyễn Văn An", "0901234567", "member"),
        ("Trần Thị Bình", "0912345678", "coordinator"),
    }
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    bad = run("members", "import", "broken.xlsx", cwd=tmp_path)
    assert bad.returncode == 2 and "broken.xlsx: not an Excel workbook" in bad.stderr
