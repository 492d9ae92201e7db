"""A hand-typed address the dashboard cannot show: answered on the dashboard's own error
page, in Vietnamese, naming the parameter by its key and by the label its form shows."""

from __future__ import annotations

# The label each query parameter has on its form (templates/*.html).
LABELS = {
    "week": "Tuần",
    "since": "Từ ngày",
    "until": "Đến ngày",
    "month": "Tháng",
    "q": "Tìm",
    "category": "Loại",
    "status": "Trạng thái",
}
TITLES = {400: "Địa chỉ trang không đúng", 404: "Không có trang này"}


class BadAddress(Exception):
    """Raised by a page's parameter parsing; `login_required` shows it (400 or 404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status

    @property
    def title(self) -> str:
        return TITLES[self.status]


def parameter(name: str) -> str:
    """“since” (Từ ngày): the key the address shows and the label the form shows."""
    return f"Tham số “{name}” ({LABELS[name]})" if name in LABELS else f"Tham số “{name}”"


def bad_parameter(name: str, value: str, expected: str) -> BadAddress:
    """`name` was given `value`; `expected` says what it should look like."""
    return BadAddress(f"{parameter(name)} có giá trị “{value}” không dùng được: {expected}.")
