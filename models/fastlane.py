"""Prebuilt Core statements run straight on SQLite's cursor, compiled once per statement.

Why: for this app's small statements SQLAlchemy's execution of an already cached statement
(parameter and result set-up, bind processors, the greenlet hop) cost several times SQLite's
own work: 50-70 us a statement against 5-10 us (bench/fastlane.py). Here a statement is
compiled once per dialect into its SQL text, its positional binds with their processors
(UTCDateTime, JSON) and its result processors, and run on the sqlite3 cursor of the
session's current connection and transaction, with the same busy rules
(models/sqlite_inline.py) and the same errors. `before_cursor_execute` and
`after_cursor_execute` listeners still see every statement (their `context` is None).

Anything else (PostgreSQL, a connection without a transaction, echo, statement-level
listeners) takes SQLAlchemy's ordinary path, so results never depend on the path.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Column
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.event import registry as _event_registry
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.session import SessionTransaction
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

from models.base import fused_processors
from models.scoping import ALL_COUNCILS, session_council
from models.sqlite_inline import InlineConnection

Processor = Callable[[Any], Any]
Params = Mapping[str, Any]
_CONSTANT = -2  # a bind whose value is in the statement itself (e.g. `status == "open"`)
_SINGLE = -1  # a bind given by the caller as one value
_EXPANSIONS_KEPT = 512  # SQL texts kept per statement for its IN lists' lengths
_ORDINARY_ONLY: ContextVar[bool] = ContextVar("antt_fastlane_ordinary_only", default=False)


@contextmanager
def ordinary_path() -> Iterator[None]:
    """Within it every statement takes SQLAlchemy's ordinary path (tests and the bench
    compare the two paths on the same database)."""
    token = _ORDINARY_ONLY.set(True)
    try:
        yield
    finally:
        _ORDINARY_ONLY.reset(token)


@dataclass(frozen=True, slots=True)
class _Bind:
    """One `?` of the SQL text: where its value comes from and how it is converted."""

    key: str  # the caller's parameter name
    index: int  # _SINGLE, _CONSTANT or the element of an expanding (IN) list
    process: Processor | None
    constant: Any = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A statement ready for the cursor: SQL text, binds in order, result converters."""

    sql: str
    binds: tuple[_Bind, ...]
    results: tuple[Processor | None, ...]
    # When every bind is a caller's single value (INSERTs): their names in order, and the
    # positions that need converting. Most binds need none.
    plain: tuple[str, ...] | None = None
    converted: tuple[tuple[int, Processor], ...] = ()
    results_converted: tuple[tuple[int, Processor], ...] = ()  # the columns to convert
    # `plain`'s values in one C call (two or more names: itemgetter then gives a tuple).
    take: Callable[[Params], tuple[Any, ...]] | None = None

    @classmethod
    def build(
        cls, sql: str, binds: tuple[_Bind, ...], results: tuple[Processor | None, ...]
    ) -> Plan:
        plain = None
        if all(b.index == _SINGLE for b in binds):
            plain = tuple(b.key for b in binds)
        converted = tuple((i, b.process) for i, b in enumerate(binds) if b.process is not None)
        results_converted = tuple((i, p) for i, p in enumerate(results) if p is not None)
        take = itemgetter(*plain) if plain is not None and len(plain) > 1 else None
        return cls(sql, binds, results, plain, converted, results_converted, take)

    def parameters(self, params: Params) -> tuple[Any, ...]:
        """The positional values for `params`, converted as SQLAlchemy would."""
        out: list[Any]
        if self.take is not None:
            values = self.take(params)
            if not self.converted:
                return values
            out = list(values)
            for i, process in self.converted:
                out[i] = process(out[i])
            return tuple(out)
        if self.plain is not None:
            out = [params[key] for key in self.plain]
            for i, process in self.converted:
                out[i] = process(out[i])
            return tuple(out)
        out = []
        for bind in self.binds:
            if bind.index == _SINGLE:
                value = params[bind.key]
            elif bind.index == _CONSTANT:
                value = params.get(bind.key, bind.constant)
            else:  # an element of an IN list: the caller's, or the statement's own
                value = params.get(bind.key, bind.constant)[bind.index]
            out.append(value if bind.process is None else bind.process(value))
        return tuple(out)

    def rows(self, raw: list[Any]) -> list[tuple[Any, ...]]:
        """Raw cursor rows with each column's result processor applied (only the columns
        that have one are touched: most have none)."""
        convert = self.results_converted
        if not convert:
            return [tuple(r) for r in raw]
        out = []
        for r in raw:
            row = list(r)
            for i, process in convert:
                row[i] = process(row[i])
            out.append(tuple(row))
        return out


class _Compiled:
    """A statement compiled once for a dialect; its plans per length of its IN lists."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, columns: tuple[str, ...]):
        self.compiled: SQLCompiler = statement.compile(  # type: ignore[assignment]
            dialect=dialect, column_keys=list(columns) if columns else None
        )
        if self.compiled.insert_prefetch or self.compiled.update_prefetch:
            raise ValueError("Python-side defaults: the ordinary path computes them")
        if self.compiled.escaped_bind_names or not self.compiled.positional:
            raise ValueError("escaped or named binds: not planned here")
        for b in self.compiled.binds.values():
            if b.callable is not None or b.literal_execute or b.type._is_tuple_type:
                raise ValueError(f"{b.key}: a bind the ordinary path renders or calls")
        # IN lists: the caller's (a required bind) or written in the statement (a value).
        self.expanding = tuple(
            (b.key, None if b.required else b.value)
            for b in self.compiled.binds.values()
            if b.expanding
        )
        self.dialect = dialect
        self.results = tuple(
            _result_processor(entry.type, dialect) for entry in self.compiled._result_columns
        )
        self._plans: OrderedDict[tuple[int, ...], Plan] = OrderedDict()

    def plan(self, params: Params) -> Plan:
        if not self.expanding:  # one plan for any parameters
            single = self._plans.get(())
            return single if single is not None else self._add_plan(())
        lengths = tuple(len(params.get(key, own)) for key, own in self.expanding)
        plan = self._plans.get(lengths)
        return plan if plan is not None else self._add_plan(lengths)

    def _add_plan(self, lengths: tuple[int, ...]) -> Plan:
        plan = self._plans[lengths] = self._make_plan(lengths)
        if len(self._plans) > _EXPANSIONS_KEPT:
            self._plans.popitem(last=False)
        return plan

    def _make_plan(self, lengths: tuple[int, ...]) -> Plan:
        """SQLAlchemy's own expansion for lists of these lengths, values traced back."""
        compiled = self.compiled
        stand_ins: dict[str, Any] = {b.key: None for b in compiled.binds.values()}
        stand_ins.update(
            (key, list(range(n))) for (key, _), n in zip(self.expanding, lengths, strict=True)
        )
        expanded = compiled.construct_expanded_state(stand_ins)
        element_of = {
            name: (key, i)
            for key, names in expanded.parameter_expansion.items()
            for i, name in enumerate(names)
        }
        processors = {**compiled._bind_processors, **expanded.processors}
        binds = []
        for name in expanded.positiontup or ():
            process: Processor | None = processors.get(name)  # type: ignore[assignment]
            if name in element_of:
                key, i = element_of[name]
                own = compiled.binds[key]
                process = _bind_processor(own.type, self.dialect, process)
                binds.append(_Bind(own.key, i, process, None if own.required else own.value))
                continue
            bind = compiled.binds[name]
            process = _bind_processor(bind.type, self.dialect, process)
            if bind.required:
                binds.append(_Bind(bind.key, _SINGLE, process))
            else:
                binds.append(_Bind(bind.key, _CONSTANT, process, bind.value))
        return Plan.build(expanded.statement, tuple(binds), self.results)


def _bind_processor(type_: Any, dialect: Dialect, own: Processor | None) -> Processor | None:
    """The type's bind converter: a fused one where models/base.py has it (UTC datetimes on
    SQLite: one call instead of three), else SQLAlchemy's own."""
    fused = fused_processors(type_, dialect)
    return own if fused is None else fused[0]


def _result_processor(type_: Any, dialect: Dialect) -> Processor | None:
    """The type's result converter, fused where models/base.py has it."""
    fused = fused_processors(type_, dialect)
    if fused is not None:
        return fused[1]
    process: Processor | None = type_._cached_result_processor(dialect, None)
    return process


_STATEMENTS_KEPT = 256
_COMPILED: OrderedDict[tuple[int, type, tuple[str, ...]], tuple[ClauseElement, _Compiled | None]]
_COMPILED = OrderedDict()


def compiled_for(
    statement: ClauseElement, dialect: Dialect, columns: tuple[str, ...] = ()
) -> _Compiled | None:
    """The statement compiled for the dialect (once) for parameters named `columns`, in
    any order; None when it cannot run here."""
    key = (id(statement), type(dialect), columns)
    entry = _COMPILED.get(key)
    if entry is None or entry[0] is not statement:
        ordered = tuple(sorted(columns))
        compiled: _Compiled | None
        if ordered != columns:
            # The same names in the caller's order: the same compilation, kept under both
            # keys so that a caller's dict is not sorted on every call.
            compiled = compiled_for(statement, dialect, ordered)
        else:
            try:
                compiled = _Compiled(statement, dialect, columns)
            except ValueError:
                compiled = None
        # The statement is kept with its plan, so its id cannot be reused by another while
        # the entry lives; statements built per call only push the oldest out.
        entry = _COMPILED[key] = (statement, compiled)
        if len(_COMPILED) > _STATEMENTS_KEPT:
            _COMPILED.popitem(last=False)
    return entry[1]


class Outcome(NamedTuple):
    """What a statement gave back: its rows (SELECT, RETURNING), the inserted row id and
    the rows it changed (SQLite's count). A named tuple: made for every statement, and
    cheaper to make than a frozen dataclass."""

    rows: list[tuple[Any, ...]]
    lastrowid: int | None
    rowcount: int = -1


async def _sync_connection(session: AsyncSession) -> Connection:
    """The session's connection in its current transaction (begun when there is none)."""
    sync_session = session.sync_session
    transaction = sync_session._transaction
    if transaction is not None and transaction.is_active and sync_session.bind is not None:
        # Already open: no greenlet hop, which `session.connection()` pays every time.
        entry = transaction._connections.get(sync_session.bind)
        connection = entry[0] if entry is not None else None
        if connection is not None:
            return connection
    return (await session.connection())._proxied


def _inline(sync: Connection) -> InlineConnection | None:
    """The connection's on-the-loop SQLite driver when the fast path may use it."""
    if _ORDINARY_ONLY.get() or sync.invalidated or not sync.in_transaction():
        return None
    return _settled_driver(sync)


def _settled_driver(sync: Connection) -> InlineConnection | None:
    """The driver when what the connection keeps for its life (echo, execution options,
    listeners; the driver itself) lets the fast path use it, else None."""
    if sync._echo or sync.invalidated:
        return None
    if sync._execution_options.get("schema_translate_map"):
        return None  # the SQL text depends on the options: compiled per execution
    if (sync._has_events or sync.engine._has_events) and (
        sync.dispatch.before_execute or sync.dispatch.after_execute
    ):
        return None  # listeners that expect the statement object: the ordinary path
    driver = sync.connection.driver_connection
    return driver if isinstance(driver, InlineConnection) else None


@dataclass(frozen=True, slots=True)
class _Settled:
    """What _settled_driver found for a session transaction's connection: true until the
    transaction ends, the connection's options change or a listener comes or goes."""

    transaction: weakref.ref[SessionTransaction]
    listeners: int  # how many listeners SQLAlchemy's registry held
    options: Any  # the connection's execution options (replaced when they change)
    sync: Connection
    driver: InlineConnection | None


_settled: _Settled | None = None  # the last one found (one session is busy at a time)


async def _connection_and_driver(
    session: AsyncSession,
) -> tuple[Connection, InlineConnection | None]:
    """The session's connection in its current transaction, and its driver when the fast
    path may use it. The connection and what it keeps for its life are looked at once per
    transaction, not per statement; what may change within one is looked at every time."""
    global _settled
    transaction = session.sync_session._transaction
    settled = _settled
    if (
        settled is None
        or transaction is None
        or settled.transaction() is not transaction
        or settled.listeners != len(_event_registry._key_to_collection)
        or settled.options is not settled.sync._execution_options
        or not transaction.is_active
    ):
        sync = await _sync_connection(session)
        transaction = session.sync_session._transaction
        if transaction is None:  # not kept: nothing to tell its end by
            return sync, _inline(sync)
        settled = _settled = _Settled(
            weakref.ref(transaction),
            len(_event_registry._key_to_collection),
            sync._execution_options,
            sync,
            _settled_driver(sync),
        )
    sync = settled.sync
    if settled.driver is None or _ORDINARY_ONLY.get() or sync.invalidated:
        return sync, None
    return sync, settled.driver if sync.in_transaction() else None


async def run(
    sync: Connection,
    inline: InlineConnection,
    plan: Plan,
    params: Params | Sequence[Params],
    *,
    many: bool = False,
) -> Outcome:
    """Run one planned statement on the driver's sqlite3 cursor, listeners told."""
    try:
        if many:
            values: Any = [plan.parameters(p) for p in params]  # type: ignore[arg-type]
        else:
            values = plan.parameters(params)  # type: ignore[arg-type]
    except Exception as exc:
        # As SQLAlchemy reports a value its bind processor refuses (a naive datetime).
        await greenlet_spawn(sync._handle_dbapi_exception, exc, plan.sql, params, None, None)
        raise  # not reached: the handler raises
    raw: sqlite3.Connection | None = inline._connection
    if raw is None:
        raise ValueError("Connection closed")  # as the driver says it
    cursor = raw.cursor()
    sql, parameters = plan.sql, values
    events = sync._has_events or sync.engine._has_events
    if events:
        for listener in sync.dispatch.before_cursor_execute:
            sql, parameters = listener(sync, cursor, sql, parameters, None, many)
    try:
        if raw.in_transaction:
            # The driver repeats no statement inside a transaction (a busy one fails at
            # once, models/sqlite_inline.py): calling the cursor directly is the same.
            if many:
                cursor.executemany(sql, parameters)
            else:
                cursor.execute(sql, parameters)
            fetched: list[Any] = cursor.fetchall() if plan.results and not many else []
        else:
            fetched = await _through_driver(inline, cursor, sql, parameters, many, plan)
    except Exception as exc:
        # SQLAlchemy's own handling: the same wrapped errors, invalidation on a disconnect.
        await greenlet_spawn(sync._handle_dbapi_exception, exc, sql, parameters, cursor, None)
        raise  # not reached: the handler raises
    if events:
        sync.dispatch.after_cursor_execute(sync, cursor, sql, parameters, None, many)
    rows = plan.rows(fetched) if fetched else []
    outcome = Outcome(rows, cursor.lastrowid, cursor.rowcount)
    cursor.close()
    return outcome


async def _through_driver(
    inline: InlineConnection,
    cursor: sqlite3.Cursor,
    sql: str,
    parameters: Any,
    many: bool,
    plan: Plan,
) -> list[Any]:
    """Through the driver's own call: a busy database is waited for, or not, as before."""
    if many:
        await inline._execute(cursor.executemany, sql, parameters)
        return []
    await inline._execute(cursor.execute, sql, parameters)
    rows: list[Any] = await inline._execute(cursor.fetchall) if plan.results else []
    return rows


async def on_connection(
    session: AsyncSession, statement: ClauseElement, params: Params | Sequence[Params]
) -> Outcome | None:
    """Run a Core statement on the session's connection by the fast path (a list of
    parameter sets: executemany); None when it must take the ordinary path instead."""
    sync, inline = await _connection_and_driver(session)
    if inline is None:
        return None
    # Compiled for the parameters' names, as SQLAlchemy does: an INSERT or UPDATE sets
    # the columns it is given values for. Their order is the dict's (compiled_for sorts
    # them once, not per call). A dict is the usual case: the Mapping check (an ABC's)
    # costs more than the rest.
    if type(params) is dict or isinstance(params, Mapping):
        compiled = compiled_for(statement, sync.dialect, tuple(params))
        if compiled is None:
            return None
        return await run(sync, inline, compiled.plan(params), params)
    if not params:
        return None
    compiled = compiled_for(statement, sync.dialect, tuple(params[0]))
    if compiled is None:
        return None
    plan = compiled.plan(params[0])
    if compiled.expanding or plan.results:
        return None  # IN lists per row, or rows back: one statement each, the ordinary way
    return await run(sync, inline, plan, params, many=True)


async def execute_core(
    session: AsyncSession, statement: Any, params: Params
) -> list[tuple[Any, ...]]:
    """A prebuilt Core statement on the session's connection, by the fast path when it
    can take it, else the ordinary way; its rows, if it returns any, as tuples."""
    outcome = await on_connection(session, statement, params)
    if outcome is not None:
        return outcome.rows
    result = await (await session.connection()).execute(statement, params)
    return [tuple(row) for row in result] if result.returns_rows else []


async def select_rows(
    session: AsyncSession, statement: Any, params: Params
) -> list[tuple[Any, ...]] | None:
    """A prebuilt column SELECT as `session.execute` would answer it (rows as tuples), when
    nothing the session does to a SELECT applies: no pending change to flush first, no
    council filter (models/scoping.py). None: run it with `session.execute`."""
    sync_session = session.sync_session
    if sync_session.autoflush and not sync_session._is_clean():
        return None
    if session_council(session) is not None and not statement.get_execution_options().get(
        ALL_COUNCILS
    ):
        return None
    outcome = await on_connection(session, statement, params)
    return None if outcome is None else outcome.rows


@dataclass(frozen=True, slots=True)
class Loaded:
    """What an ORM select of a model loads: its columns' attribute names and columns, in
    the mapper's order (deferred ones aside), and where the primary key is."""

    keys: tuple[str, ...]
    columns: tuple[Column[Any], ...]
    pk: int


_LOADED: dict[type, Loaded | None] = {}


def loaded_columns(model: type) -> Loaded | None:
    """The columns `select(model)` loads; None for a model `as_objects` cannot build (a
    composite key, inheritance, relationships to load)."""
    if model not in _LOADED:
        _LOADED[model] = _loaded(sa_inspect(model))
    return _LOADED[model]


def _loaded(mapper: Any) -> Loaded | None:
    attrs = [a for a in mapper.column_attrs if not a.deferred]
    keys = tuple(a.key for a in attrs)
    if len(mapper.primary_key) != 1 or mapper.inherits is not None or mapper.relationships:
        return None
    pk_key = mapper.get_property_by_column(mapper.primary_key[0]).key
    if pk_key not in keys or any(len(a.columns) != 1 for a in attrs):
        return None
    return Loaded(keys, tuple(a.columns[0] for a in attrs), keys.index(pk_key))


def as_objects(session: AsyncSession, model: type, rows: list[tuple[Any, ...]]) -> list[Any] | None:
    """Persistent ORM objects for rows of `loaded_columns(model)`, as `session.execute(
    select(model))` gives them: new ones made with their state committed (no attribute
    events: nothing is set, all is loaded), one already in the session taken as it is.
    None when the ORM would do more (a load event listened to, an object in the session
    with attributes still to load): then run the ORM select."""
    loaded = loaded_columns(model)
    sync = session.sync_session
    if loaded is None or sync.dispatch.loaded_as_persistent:
        return None
    mapper: Any = sa_inspect(model)
    manager = mapper.class_manager
    if manager.dispatch.load:
        return None
    identity_map = sync.identity_map
    identity_class = mapper._identity_class
    keys, pk, session_id = loaded.keys, loaded.pk, sync.hash_key
    out: list[Any] = []
    for row in rows:
        key = (identity_class, (row[pk],), None)
        existing = identity_map.get(key)
        if existing is not None:
            if instance_state(existing).unloaded:
                return None  # the ORM would fill them in from the row
            out.append(existing)
            continue
        obj = manager.new_instance()
        state = instance_state(obj)
        state.dict.update(zip(keys, row, strict=True))
        state.key = key
        state.session_id = session_id
        identity_map._add_unpresent(state, key)
        out.append(obj)
    return out
