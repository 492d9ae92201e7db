"""The roster: who is expected to take part (SPEC.md 4). Import updates, never duplicates."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.text import fold
from models.people import ensure_membership, fold_name, get_or_create_group
from models.tables import CouncilMember, Member

ROLES = ("member", "coordinator", "admin")
COLUMNS = ("member_id", "name", "phone", "enterprise", "role", "groups")
OPTIONAL = ("lead", "title")
TITLE_MAX = 30  # members.title

# A council hands its list over as people write it: Vietnamese headers, with or without marks,
# taken as the columns above (keys folded and lower-cased). "Chức vụ" (a job title such as
# "Tổ trưởng") is not a role and stays an unknown column.
HEADER_ALIASES = {
    "ho ten": "name",
    "ho va ten": "name",
    "ten": "name",
    "so dien thoai": "phone",
    "dien thoai": "phone",
    "sdt": "phone",
    "so dt": "phone",
    "don vi": "enterprise",
    "doanh nghiep": "enterprise",
    "cong ty": "enterprise",
    "co quan": "enterprise",
    "vai tro": "role",
    "nhom": "groups",
    "nhom zalo": "groups",
    "zalo id": "member_id",
    "id zalo": "member_id",
    "ma zalo": "member_id",
    "danh xung": "title",
    "xung ho": "title",
    "truong nhom": "lead",
}
ROLE_ALIASES = {
    "thanh vien": "member",
    "dieu phoi vien": "coordinator",
    "dieu phoi": "coordinator",
    "quan tri": "admin",
    "quan tri vien": "admin",
}
ROLE_NAMES_VI = "thành viên, điều phối viên, quản trị"


def _key(text: str) -> str:
    """A header or a role as typed, as a key: folded, lower case, single spaces."""
    return " ".join(fold(unicodedata.normalize("NFC", text)).lower().replace("_", " ").split())


def _column(header: str) -> str:
    """The roster column a header names ("Số điện thoại" is `phone`), or the header itself."""
    plain = " ".join(header.strip().lower().split())
    return HEADER_ALIASES.get(_key(header), plain)


def _role(value: str) -> str:
    """The role a cell names: `member`, or "Điều phối viên" as `coordinator`."""
    key = _key(value) or "member"
    return ROLE_ALIASES.get(key, key)


def normalize_phone(raw: str) -> str | None:
    """Vietnamese numbers as 0xxxxxxxxx; +84/84 prefixes, spaces and dots removed."""
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if re.fullmatch(r"0\d{9,10}", digits):
        return digits
    return None


def _lost_leading_zero(raw: str) -> str | None:
    """A roster cell Excel saved as a number (901000001 for 0901000001): a mobile of 9 digits
    from 3, 5, 7, 8 or 9, or a landline of 10 from 2. Only for the roster: in chat, such
    digits may be anything."""
    digits = raw.strip()
    if re.fullmatch(r"[35789]\d{8}|2\d{9}", digits):
        return "0" + digits
    return None


@dataclass(frozen=True)
class RosterRow:
    line: int
    member_id: str | None
    name: str
    phone: str | None
    enterprise: str | None
    role: str
    groups: tuple[str, ...]
    lead: bool = False
    title: str | None = None  # how to address the person: anh, chị, đồng chí ...


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0  # rows not imported; each has its line in `errors`
    errors: list[str] = field(default_factory=list)


def parse_roster_csv(text: str) -> tuple[list[RosterRow], list[str]]:
    """Rows and per-line errors; UTF-8 with or without BOM, comma or semicolon separated."""
    rows, errors, _rejected = _parse(text)
    return rows, errors


def _parse(text: str) -> tuple[list[RosterRow], list[str], int]:
    """Rows, per-line errors, and how many rows were rejected."""
    text = text.lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [_column(h) for h in (reader.fieldnames or [])]
    missing = [c for c in ("name",) if c not in header]
    if missing:
        data_rows = sum(1 for raw in reader if any((v or "").strip() for v in raw.values()))
        return (
            [],
            [f"header: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"],
            data_rows,
        )
    unknown = [h for h in header if h not in (*COLUMNS, *OPTIONAL)]
    errors = [f"header: unknown column(s) {', '.join(unknown)} ignored"] if unknown else []
    rows: list[RosterRow] = []
    rejected = 0
    for raw in reader:
        n = reader.line_num  # the file's line (blank lines and quoted newlines counted)
        rec = {_column(k): (v or "").strip() for k, v in raw.items() if k}
        name = unicodedata.normalize("NFC", rec.get("name", ""))
        if not name:
            if any(rec.values()):
                errors.append(f"line {n}: name is empty; not imported")
                rejected += 1
            continue
        role = _role(rec.get("role") or "")
        if role not in ROLES:
            errors.append(
                f"line {n}: role {role!r} must be one of {', '.join(ROLES)} ({ROLE_NAMES_VI});"
                " not imported"
            )
            rejected += 1
            continue
        phone = None
        if rec.get("phone"):
            phone = normalize_phone(rec["phone"])
            if phone is None and (phone := _lost_leading_zero(rec["phone"])):
                errors.append(
                    f"line {n}: phone {rec['phone']!r} read as {phone} (the leading 0 was lost, "
                    "as Excel does with numbers: format the column as Text)"
                )
            elif phone is None:
                errors.append(
                    f"line {n}: phone {rec['phone']!r} is not a Vietnamese number; kept empty"
                )
        groups = tuple(g.strip() for g in rec.get("groups", "").split(";") if g.strip())
        title = " ".join(unicodedata.normalize("NFC", rec.get("title", "")).lower().split()) or None
        if title is not None and len(title) > TITLE_MAX:
            errors.append(f"line {n}: title {title!r} is longer than {TITLE_MAX}; kept empty")
            title = None
        rows.append(
            RosterRow(
                line=n,
                member_id=rec.get("member_id") or None,
                name=name,
                phone=phone,
                enterprise=unicodedata.normalize("NFC", rec.get("enterprise", "")) or None,
                role=role,
                groups=groups,
                lead=rec.get("lead", "").lower() in ("1", "yes", "x", "có", "true"),
                title=title,
            )
        )
    return rows, errors, rejected


async def _find(session: AsyncSession, row: RosterRow) -> Member | None:
    """The same person: by platform id, else by phone, else by name within the enterprise.

    A row with a platform id never takes over someone known by another id: namesakes and
    people sharing a phone are different people."""
    others = Member.member_id.is_(None) if row.member_id else true()
    if row.member_id:
        m = (
            await session.execute(select(Member).where(Member.member_id == row.member_id))
        ).scalar_one_or_none()
        if m is not None:
            return m
    if row.phone:
        m = (
            (await session.execute(select(Member).where(Member.phone == row.phone, others)))
            .scalars()
            .first()
        )
        if m is not None:
            return m
    stmt = select(Member).where(
        Member.name_folded == fold_name(row.name), Member.status == "member", others
    )
    if row.enterprise:
        stmt = stmt.where(Member.enterprise == row.enterprise)
    found = list((await session.execute(stmt)).scalars())
    return found[0] if len(found) == 1 else None


# One key for every roster import (pg_advisory_xact_lock takes a bigint).
IMPORT_LOCK = 0x616E7474  # "antt"


async def _one_import_at_a_time(session: AsyncSession) -> None:
    """Two instances starting at once both import the rosters: on PostgreSQL the second
    waits until the first's import is committed, then finds its people (rather than adding
    them twice, or stopping on a duplicate member id). SQLite has one writer anyway."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": IMPORT_LOCK})


async def import_rows(
    session: AsyncSession, rows: list[RosterRow], now: datetime, council_id: str | None = None
) -> ImportResult:
    """Create or update members and their group memberships. Caller commits.

    With `council_id` (one park's roster), each row's person is in that council with the
    row's role (council_members); the same person may be on several parks' rosters."""
    result = ImportResult()
    await _one_import_at_a_time(session)
    seen: dict[int, int] = {}  # member pk -> the line that set it
    for row in rows:
        member = await _find(session, row)
        if member is not None and member.id in seen:
            # A second line for one person would overwrite the first: name it instead.
            result.errors.append(
                f"line {row.line}: the same person as line {seen[member.id]} (same member_id, "
                "phone, or name and enterprise); not imported"
            )
            result.rejected += 1
            continue
        values = {
            "name": row.name,
            "name_folded": fold_name(row.name),
            "phone": row.phone,
            "enterprise": row.enterprise,
            "role": row.role,
            "is_lead": row.lead,
            "title": row.title,
        }
        if member is None:
            member = Member(
                member_id=row.member_id,
                status="member",
                created_at=now,
                expected_since=now,
                display_name="",
                active=True,
                **values,
            )
            session.add(member)
            await session.flush()
            result.created += 1
        else:
            changed = any(getattr(member, k) != v for k, v in values.items())
            changed |= member.status != "member" or not member.active
            changed |= bool(row.member_id and member.member_id != row.member_id)
            for k, v in values.items():
                setattr(member, k, v)
            if row.member_id:
                member.member_id = row.member_id
            if member.status != "member":
                # A guest confirmed by the roster is expected from now on, not from first sight.
                member.status = "member"
                member.expected_since = now
            member.active = True
            result.updated += int(changed)
            result.unchanged += int(not changed)
        for chat_id in row.groups:
            group = await get_or_create_group(session, chat_id, now=now, name=chat_id)
            await ensure_membership(session, member, group, now=now, from_roster=True)
        if council_id is not None:
            await _in_council(session, member, council_id, row.role, now)
        seen[member.id] = row.line
    return result


async def _in_council(
    session: AsyncSession, member: Member, council_id: str, role: str, now: datetime
) -> None:
    stmt = select(CouncilMember).where(
        CouncilMember.member_pk == member.id, CouncilMember.council_id == council_id
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        session.add(
            CouncilMember(member_pk=member.id, council_id=council_id, role=role, created_at=now)
        )
    elif row.role != role:
        row.role = role


async def import_roster_csv(
    session: AsyncSession, text: str, now: datetime, council_id: str | None = None
) -> ImportResult:
    """Parse and apply a roster CSV; bad lines are reported, good ones applied. Caller commits."""
    rows, errors, rejected = _parse(text)
    result = await import_rows(session, rows, now, council_id)
    result.errors = errors + result.errors
    result.rejected += rejected
    return result
