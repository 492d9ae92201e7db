"""The park switch in the header (several parks): a coordinator of several parks, or the
province's staff, chooses whose pages the dashboard shows; the session remembers it."""

from __future__ import annotations

import re

from aiohttp import web

from bot.dashboard.auth import PROVINCE, User, choose_park, login_required, safe_next
from bot.dashboard.views import error_page, read_form, see_other

NOT_YOURS = "Anh/chị không điều phối KCN này."
# A page of one record (/dashboard/members/12, /dashboard/incidents/3...) is its park's: after
# a switch the same section's list is shown instead.
ONE_RECORD = re.compile(r"/\d+(?:[/?#].*)?$")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/dashboard/park", switch_park)


@login_required(every_park=True)
async def switch_park(request: web.Request, user: User) -> web.Response:
    """POST council=<id> (the province's staff: empty for their overview), next=<page>."""
    form = await read_form(request)
    council = str(form.get("council", ""))[:40]
    if not council and user.role == PROVINCE:
        await choose_park(request, user, None)
        return see_other("/dashboard/province")
    if council not in {park_id for park_id, _name in user.parks}:
        return error_page(request, 403, "Không đủ quyền", NOT_YOURS, user)
    await choose_park(request, user, council)
    target = safe_next(str(form.get("next", "")))
    if target.startswith("/dashboard/province") or target == "/dashboard/park":
        target = "/dashboard/"
    return see_other(ONE_RECORD.sub("", target) or "/dashboard/")
