"""`antt-bot`: the command line (SPEC.md 2). Exit 0 ok, 2 bad usage or config, 1 other failure."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from handlers.config import ConfigError, Settings, config_path, load_settings

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments: exit 2 with the message."""


class CLIParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parse_when(value: str, tz: ZoneInfo, option: str) -> datetime:
    """ISO 8601; a time without an offset is in the configured timezone. A bad value names
    its `option` (--since or --until?) and the format."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option} {value!r}: not a date or time; write it like 2026-11-01 or "
            "2026-11-27T14:30 (ISO 8601, local time)"
        ) from None
    return when.replace(tzinfo=tz) if when.tzinfo is None else when


def port_number(value: str) -> int:
    """--port: 0 (the system picks one) to 65535, refused before anything starts."""
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (0-65535)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def load(args: argparse.Namespace) -> Settings:
    return load_settings(config_path(getattr(args, "config", None)))


def chosen_council(args: argparse.Namespace, settings: Settings, *, required: bool) -> str | None:
    """`--council ID`, checked against the configuration (docs/councils.md).

    Without it: None on a single-council installation (as before); with several parks, a
    command whose result would mix them (`required`) stops, listing the ids."""
    from handlers.councils import UnknownCouncil, council_by_id, councils

    wanted = getattr(args, "council", None)
    known = ", ".join(c.id for c in councils(settings))
    if wanted is None:
        if required and settings.councils:
            raise UsageError(f"several parks are configured: add --council ID (one of: {known})")
        return None
    try:
        return council_by_id(settings, wanted).id
    except UnknownCouncil:
        raise UsageError(f"--council {wanted}: no such council; known: {known}") from None


Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int] | int]
COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = fn
        return fn

    return register


CONFIG_FLAGS = ("-c", "--config")


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """`-c/--config` on this parser, unless it has it already (e.g. through `parents`)."""
    if any(flag in parser._option_string_actions for flag in CONFIG_FLAGS):
        return
    # SUPPRESS: `jobs -c X list` must keep X (a nested parser's default would overwrite it).
    parser.add_argument(
        *CONFIG_FLAGS,
        default=argparse.SUPPRESS,
        help="config file (default ./config.yaml, else $ANTT_CONFIG)",
    )


def subparsers_of(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser below this one (subcommands, nested subcommands), depth first."""
    out: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases share a parser
                out += [child, *subparsers_of(child)]
    return out


# Several parks (docs/councils.md): required where the result would mix councils.
COUNCIL_HELP = "the park's council (its id in `councils`); required when there are several"


def build_parser() -> argparse.ArgumentParser:
    parser = CLIParser(prog="antt-bot", description="ANTT Bot: Zalo bot for security councils.")
    common = CLIParser(add_help=False)
    add_config_option(common)
    sub = parser.add_subparsers(dest="cmd", required=True, parser_class=CLIParser)

    p = sub.add_parser("serve", parents=[common], help="run the bot")
    p.add_argument("--host")
    p.add_argument("--port", type=port_number)

    p = sub.add_parser("demo", parents=[common], help="simulated Zalo group in the browser")
    p.add_argument("--port", type=port_number, default=8765)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--no-browser", action="store_true")
    p.add_argument(
        "--data-dir",
        help="where the demo database lives (default: a temporary folder; a rehearsal: "
        "data/demo next to the config file)",
    )
    p.add_argument(
        "--roster",
        metavar="FILE.csv",
        help="rehearse with this roster instead of the seeded council (default: the config's "
        "roster, if set)",
    )

    p = sub.add_parser("parse", parents=[common], help="print how messages are understood")
    p.add_argument("--now", help="ISO time the messages were sent (default: now)")
    p.add_argument("text", nargs="*")

    p = sub.add_parser("jobs", parents=[common], help="scheduled jobs")
    jsub = p.add_subparsers(dest="jobs_cmd", required=True, parser_class=CLIParser)
    jsub.add_parser("list", parents=[common])
    jr = jsub.add_parser("run", parents=[common])
    jr.add_argument("name")
    jr.add_argument("--at", help="ISO time to run as if the clock read it")
    jr.add_argument("--send", action="store_true", help="also deliver what the job queued")
    jr.add_argument("--council", metavar="ID", help="this park's council only (default: every)")

    p = sub.add_parser("digest", parents=[common], help="build a weekly digest without sending")
    p.add_argument("--week", help="YYYY-Www (default: last week)")
    p.add_argument("--at", help="ISO time: the figures as of then (default: now)")
    p.add_argument("--group", help="only this chat id")
    p.add_argument("--council", metavar="ID", help=COUNCIL_HELP)
    p.add_argument("--province", action="store_true", help="every park side by side (issue 20)")
    p.add_argument("--format", choices=["text", "html", "json", "xlsx", "png"], default="text")
    p.add_argument("-o", "--output")

    from models.exports import CSV_SEPARATORS, KINDS

    when = "an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-27T14:30 (local time)"
    p = sub.add_parser(
        "export",
        parents=[common],
        help="export records",
        description=f"Export one kind of record: {', '.join(KINDS)}.",
        epilog="example: antt-bot export reports --since 2026-11-01 --format xlsx -o reports.xlsx",
    )
    p.add_argument("kind", metavar="KIND", help=f"one of: {', '.join(KINDS)}")
    p.add_argument("--since", metavar="WHEN", help=f"from this time on: {when}")
    p.add_argument("--until", metavar="WHEN", help=f"before this time: {when}")
    p.add_argument("--format", choices=["jsonl", "csv", "xlsx"], default="jsonl")
    p.add_argument(
        "--lang",
        choices=["vi", "en"],
        default="vi",
        help="CSV/XLSX headers and values: Vietnamese (default) or English; JSONL keeps keys",
    )
    p.add_argument(
        "--sep",
        choices=list(CSV_SEPARATORS),
        default="comma",
        help="CSV separator: comma (default), or semicolon for Excel set to Vietnamese",
    )
    p.add_argument("-o", "--output")
    p.add_argument("--council", metavar="ID", help=COUNCIL_HELP)

    p = sub.add_parser("members", parents=[common], help="the roster")
    msub = p.add_subparsers(dest="members_cmd", required=True, parser_class=CLIParser)
    mi = msub.add_parser("import", parents=[common])
    mi.add_argument("file")
    mi.add_argument("--council", metavar="ID", help=COUNCIL_HELP)
    ml = msub.add_parser("list", parents=[common])
    ml.add_argument("--format", choices=["table", "jsonl"], default="table")
    ml.add_argument("--council", metavar="ID", help=COUNCIL_HELP)
    me = msub.add_parser("export-data", parents=[common], help="all data on one member (JSON)")
    me.add_argument("id", help="member id (platform user id) or #database id")
    me.add_argument("-o", "--output")
    mf = msub.add_parser("forget", parents=[common], help="erase a member's name, phone, text")
    mf.add_argument("id", help="member id (platform user id) or #database id")

    p = sub.add_parser("posts", parents=[common], help="the propaganda calendar")
    psub_posts = p.add_subparsers(dest="posts_cmd", required=True, parser_class=CLIParser)
    pi = psub_posts.add_parser("import", parents=[common])
    pi.add_argument("file")
    pi.add_argument("--council", metavar="ID", help=COUNCIL_HELP)
    pl = psub_posts.add_parser("list", parents=[common])
    pl.add_argument("--council", metavar="ID", help=COUNCIL_HELP)

    p = sub.add_parser("db", parents=[common], help="database")
    dsub = p.add_subparsers(dest="db_cmd", required=True, parser_class=CLIParser)
    dsub.add_parser("upgrade", parents=[common])
    db_backup = dsub.add_parser("backup", parents=[common], help="online backup (SQLite)")
    db_backup.add_argument("file")
    db_restore = dsub.add_parser("restore", parents=[common], help="restore, bot stopped")
    db_restore.add_argument("file")

    p = sub.add_parser("events", parents=[common], help="deliveries the bot could not handle")
    esub = p.add_subparsers(dest="events_cmd", required=True, parser_class=CLIParser)
    ef = esub.add_parser("failed", parents=[common], help="list the events set aside")
    ef.add_argument("--format", choices=["table", "jsonl"], default="table")
    er = esub.add_parser("retry", parents=[common], help="put a failed event back in the queue")
    er.add_argument("id", type=int)

    p = sub.add_parser("platform", parents=[common], help="the Zalo side")
    psub = p.add_subparsers(dest="platform_cmd", required=True, parser_class=CLIParser)
    sw = psub.add_parser("set-webhook", parents=[common])
    sw.add_argument("url")
    psub.add_parser("info", parents=[common])
    psub.add_parser("delete-webhook", parents=[common])
    oa = psub.add_parser("oa-authorize", parents=[common])
    oa.add_argument("--code", help="the authorization code Zalo returned")
    oa.add_argument("--redirect-uri", default="")
    # `antt-bot -c FILE cmd` as well as `antt-bot cmd -c FILE`, on every (nested) subcommand,
    # including ones added without `parents=[common]`.
    for each in [parser, *subparsers_of(parser)]:
        add_config_option(each)
        for action in each._actions:
            if isinstance(action, argparse._SubParsersAction):
                # "required: {list,run}" rather than the dest ("jobs_cmd"); usage unchanged.
                action.metavar = "{" + ",".join(action.choices) + "}"
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    from bot import commands  # noqa: F401  (registers COMMANDS)

    key = args.cmd
    for sub in (
        "jobs_cmd",
        "members_cmd",
        "db_cmd",
        "platform_cmd",
        "events_cmd",
        "posts_cmd",
    ):
        if getattr(args, sub, None):
            key = f"{args.cmd} {getattr(args, sub)}"
    fn = COMMANDS.get(key)
    if fn is None:
        print(f"antt-bot: {key}: not available in this version", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = fn(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except ConfigError as exc:
        print(f"antt-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"antt-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        # A file the command reads or writes (-o into a missing folder): the path and the
        # reason, not the exception's name. Others (a refused connection) fall through.
        path = exc.filename2 if exc.filename2 is not None else exc.filename
        if path is None:
            print(f"antt-bot: {type(exc).__name__}: {exc}", file=sys.stderr)
            return EXIT_FAIL
        print(f"antt-bot: {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAIL
    except Exception as exc:
        from models.db import DatabaseUnreachable, SchemaBehind

        if isinstance(exc, DatabaseUnreachable):
            print(f"antt-bot: {exc} ({database_url_origin(args)})", file=sys.stderr)
            return EXIT_USAGE if exc.lasting else EXIT_FAIL  # 1: systemd restarts `serve`
        if isinstance(exc, SchemaBehind):
            print(f"antt-bot: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(f"antt-bot: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAIL


def database_url_origin(args: argparse.Namespace) -> str:
    """Where database.url was set: the file's key or ANTT_DATABASE__URL."""
    from handlers.config import setting_origin

    path = config_path(getattr(args, "config", None))
    try:
        return setting_origin(load_settings(path), "database.url", path)
    except ConfigError:
        return "database.url"


def print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str))


def output_path(value: str | None) -> Path | None:
    return Path(value) if value and value != "-" else None
