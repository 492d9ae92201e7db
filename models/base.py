"""Declarative base and column types shared by every table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.event import registry as _event_registry
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm.attributes import ScalarAttributeImpl, instance_state
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.types import TypeDecorator

# Constraint names are fixed so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAIVE_DATETIME = "naive datetime given to the database; use the clock (UTC)"
# SQLAlchemy's SQLite DATETIME storage format (its default), as `fast_sqlite_*` write it.
_SQLITE_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; always returns aware UTC (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(NAIVE_DATETIME)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Texts of UTC datetimes already converted: most values bound are bound again soon (the
# same `now` in several columns, a slice's look-up bounds), and the text costs ~1 us to make.
_UTC_TEXTS: dict[datetime, str] = {}
_UTC_TEXTS_KEPT = 512


def utc_to_sqlite(value: datetime | None) -> str | None:
    """UTCDateTime's bind processor and SQLite DATETIME's in one step: the same text
    ("2026-01-02 03:04:05.000006", UTC) and the same error for a naive datetime."""
    if value is None:
        return None
    tz = value.tzinfo
    if tz is UTC and type(value) is datetime:
        # Only plain UTC values are kept: equal ones are the same instant, fold aside.
        text = _UTC_TEXTS.get(value)
        if text is None:
            if len(_UTC_TEXTS) >= _UTC_TEXTS_KEPT:
                _UTC_TEXTS.clear()
            text = _UTC_TEXTS[value] = _utc_text(value)
        return text
    if tz is None:
        raise ValueError(NAIVE_DATETIME)
    return _utc_text(value if tz is UTC else value.astimezone(UTC))


def _utc_text(value: datetime) -> str:
    """SQLAlchemy's SQLite text of an aware UTC datetime."""
    # With UTC, isoformat ends in "+00:00"; the rest is SQLAlchemy's format exactly.
    return value.isoformat(" ", "microseconds")[:26]


def utc_from_sqlite(value: str | None) -> datetime | None:
    """SQLite DATETIME's result processor and UTCDateTime's in one step."""
    if value is None:
        return None
    if type(value) is str:
        # The app stores times without an offset: parsed with UTC's, a tenth of the cost
        # of `replace(tzinfo=UTC)` after. A text with an offset of its own does not parse
        # so (nor a date alone as a UTC time): the general way takes it, or says why not.
        try:
            read = datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass
        else:
            if read.tzinfo is UTC:
                return read
    read = datetime.fromisoformat(value)
    return read.replace(tzinfo=UTC) if read.tzinfo is None else read.astimezone(UTC)


def fused_processors(
    type_: Any, dialect: Dialect
) -> tuple[Callable[[Any], Any], Callable[[Any], Any]] | None:
    """(bind, result) converters in one step for a UTCDateTime column on SQLite with
    SQLAlchemy's default storage format; None for any other type or dialect."""
    if not isinstance(type_, UTCDateTime) or dialect.name != "sqlite":
        return None
    impl = dialect.type_descriptor(type_.impl)
    if getattr(impl, "_storage_format", None) != _SQLITE_FORMAT or getattr(impl, "_reg", 1):
        return None
    return utc_to_sqlite, utc_from_sqlite


# Per mapped class: its column attributes' implementations by key, and the keys of those
# no `set` listener watches, as of a count of every listener registered (see _plain_keys).
_COLUMN_IMPLS: dict[type, dict[str, ScalarAttributeImpl]] = {}
_PLAIN_KEYS: dict[type, tuple[int, frozenset[str]]] = {}


def _column_impls(cls: type) -> dict[str, ScalarAttributeImpl]:
    impls = _COLUMN_IMPLS.get(cls)
    if impls is None:
        mapper: Any = cls.__mapper__  # type: ignore[attr-defined]
        impls = {}
        for attr in mapper.column_attrs:
            impl = mapper.class_manager[attr.key].impl
            if type(impl) is ScalarAttributeImpl:
                impls[attr.key] = impl
        _COLUMN_IMPLS[cls] = impls
    return impls


def _plain_keys(cls: type) -> frozenset[str]:
    """The class's columns with no `set` listener. Looked at again whenever a listener is
    added or removed anywhere (SQLAlchemy's registry of them changes size), not per row."""
    generation = len(_event_registry._key_to_collection)
    known = _PLAIN_KEYS.get(cls)
    if known is None or known[0] != generation:
        plain = frozenset(k for k, impl in _column_impls(cls).items() if not impl.dispatch.set)
        known = _PLAIN_KEYS[cls] = (generation, plain)
    return known[1]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    def __init__(self, **kwargs: Any) -> None:
        """Set each keyword's attribute, as SQLAlchemy's default constructor does. Plain
        columns (nothing listens to them) go straight into the row's dict with the history
        their `set` would record: about a tenth of the cost of the set events (a dozen
        columns a row, several rows an event)."""
        state = instance_state(self)
        loaded = state.dict
        committed = state.committed_state
        if len(loaded) == 1 and not committed and kwargs.keys() <= _plain_keys(type(self)):
            # A new row (only its state in its dict): each set would record NO_VALUE.
            committed.update(dict.fromkeys(kwargs, NO_VALUE))
            loaded.update(kwargs)
        else:
            self._set_each(kwargs)
        if kwargs:
            state._modified_event(loaded, None, NO_VALUE)  # marks the row modified, as a set

    def _set_each(self, kwargs: dict[str, Any]) -> None:
        """The general way: plain columns into the dict one by one, the rest by setattr."""
        cls = type(self)
        plain = _plain_keys(cls)
        state = instance_state(self)
        loaded = state.dict
        committed = state.committed_state
        for key, value in kwargs.items():
            if key not in plain:
                # A listened column, a name that is not a column: as SQLAlchemy's
                # constructor, its error for an unknown name included.
                if not hasattr(cls, key):
                    raise TypeError(f"{key!r} is an invalid keyword argument for {cls.__name__}")
                setattr(self, key, value)
                continue
            if key not in committed:
                committed[key] = loaded.get(key, NO_VALUE)
            loaded[key] = value
