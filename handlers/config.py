"""Configuration (SPEC.md 4): YAML validated by frozen pydantic models, with ANTT_ env overrides.

It lives in handlers/ because handlers read it and must not import bot/ (DESIGN.md)."""

from __future__ import annotations

import os
import re
from collections.abc import Hashable, Mapping
from datetime import date, time
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

ENV_PREFIX = "ANTT_"
# ANTT_ variables that are not configuration: the config file's path, and the test suite's
# and the benchmarks' database servers (they are set in the same shells that run the bot).
_NOT_CONFIG = ("ANTT_CONFIG", "ANTT_TEST", "ANTT_BENCH")


def is_config_variable(name: str) -> bool:
    """True for an ANTT_ variable that overrides a configuration key."""
    return name.startswith(ENV_PREFIX) and not name.startswith(_NOT_CONFIG)


DEFAULT_CONFIG = "config.yaml"


class ConfigError(Exception):
    """A configuration problem a person can fix; the message names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# How long PostgreSQL has to answer a new connection (asyncpg waits 60 s): a host that drops
# packets then fails a command in seconds with "cannot reach the database". Also the engine's
# default (models.db.make_engine), for the code that builds one without settings.
DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///data/antt.db"
    echo: bool = False
    pool_size: int = Field(default=10, ge=1, le=200)
    connect_timeout_seconds: float = Field(default=DEFAULT_CONNECT_TIMEOUT_SECONDS, ge=1, le=120)

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class PlatformConfig(_Section):
    kind: Literal["zalo_bot", "zalo_oa", "local"] = "local"
    mode: Literal["webhook", "polling"] = "webhook"
    api_base: str = "https://bot-api.zaloplatforms.com"
    bot_name: str = "Bot ANTT"
    token: SecretStr = SecretStr("")
    webhook_secret: SecretStr = SecretStr("")
    poll_timeout_seconds: int = Field(default=30, ge=1, le=120)
    # Zalo Official Account (ZALO.md 2)
    oa_api_base: str = "https://openapi.zalo.me"
    oauth_base: str = "https://oauth.zaloapp.com"
    app_id: str = ""
    oa_id: str = ""
    oa_secret_key: SecretStr = SecretStr("")
    app_secret: SecretStr = SecretStr("")
    access_token: SecretStr = SecretStr("")
    refresh_token: SecretStr = SecretStr("")
    signature_first_term: Literal["app_id", "oa_id"] = "app_id"
    signature_secret: Literal["oa_secret_key", "app_secret"] = "oa_secret_key"
    # Where members' photos may be fetched from (a host or any of its subdomains): Zalo's
    # media CDNs. Anything else, loopback and redirects elsewhere included, is refused.
    media_hosts: tuple[str, ...] = ("zdn.vn", "zadn.vn")

    @field_validator("media_hosts")
    @classmethod
    def _host_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        hosts = tuple(h.strip().lower().rstrip(".").strip("[]") for h in value)
        for host in hosts:
            if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|[0-9a-f:.]+", host):
                raise ValueError(f"{host!r} is not a host name (no scheme, port or path)")
        return hosts


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    public_url: str = ""
    # Per-source limit; Zalo's own redeliveries come from a few addresses and are exempt
    # when the secret matches (see bot/intake.py).
    rate_limit_per_minute: int = Field(default=600, ge=1)
    # Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For names the client;
    # from any other peer the header is ignored, since anyone can forge it.
    trusted_proxies: list[pydantic.IPvAnyNetwork] = Field(default_factory=list)
    # Slow clients (bot/connections.py): time for a request's headers, then for its body,
    # and how many connections may wait for a whole request at once (the longest-waiting
    # is closed when a new one would exceed it).
    header_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    body_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_waiting_connections: int = Field(default=256, ge=1, le=100_000)
    # `serve` runs uvloop's event loop on Linux when it is installed (bot/connections.py).
    uvloop: bool = True


class GroupConfig(_Section):
    chat_id: str
    name: str
    kind: Literal["council", "enterprise", "fire_safety"] = "council"
    enterprise: str | None = None


class ContactConfig(_Section):
    """A number of the park's own that members may ask the bot for ("Công an KCN")."""

    name: str = Field(min_length=1, max_length=60)
    phone: str = Field(pattern=r"^\+?[0-9][0-9 .\-]{2,19}$")


class NudgeLevel(_Section):
    after_days: int = Field(ge=1)
    channel: Literal["private_or_group", "private", "group", "coordinator"] = "private_or_group"


def _default_levels() -> tuple[NudgeLevel, ...]:
    return (
        NudgeLevel(after_days=7, channel="private_or_group"),
        NudgeLevel(after_days=10, channel="private_or_group"),
        NudgeLevel(after_days=14, channel="coordinator"),
    )


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class EngagementConfig(_Section):
    inactive_after_days: int = Field(default=7, ge=1, le=365)
    inactive_after_days_by_kind: dict[str, int] = Field(default_factory=dict)
    nudge_levels: tuple[NudgeLevel, ...] = Field(default_factory=_default_levels)
    quiet_hours: str = "21:30-07:00"
    holidays: tuple[str, ...] = ()
    # The government's yearly bridge days (Tết, 2/9...), on top of the national calendar.
    extra_holidays: tuple[str, ...] = ()
    # Vietnam's public holidays from the `holidays` package (lunar Tết, Giỗ Tổ Hùng Vương).
    national_holidays: bool = True
    max_nudges_per_member_per_week: int = Field(default=2, ge=0)
    monthly_message_budget: int = Field(default=3000, ge=0)
    low_budget_fraction: float = Field(default=0.1, ge=0, le=1)
    directive_deadline_hours: int = Field(default=24, ge=1)
    directive_reminder_hours: int = Field(default=4, ge=1)
    task_reminder_hours_before: int = Field(default=24, ge=1)
    # Issue 15: chat replies to one member per hour (check-ins, thanks, "bot chưa hiểu"...);
    # alerts, incident answers and directives are never capped. 0 = no cap.
    max_replies_per_member_per_hour: int = Field(default=10, ge=0)
    # Share of the monthly budget only directives, alerts, incident answers and request
    # answers may use: chat replies, nudges and digests stop before it (docs/acks-and-budget.md).
    reserved_budget_fraction: float = Field(default=0.2, ge=0, le=1)
    # Weekdays without non-urgent messages (nudges, reminders, summaries); alerts still go.
    rest_days: tuple[Weekday, ...] = ("sun",)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_format(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value

    @field_validator("holidays", "extra_holidays")
    @classmethod
    def _holiday_format(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for day in value:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{2}-\d{2}", day):
                raise ValueError(f"holiday {day!r} must be YYYY-MM-DD or MM-DD (every year)")
        return value

    @field_validator("inactive_after_days_by_kind")
    @classmethod
    def _known_kinds(cls, value: dict[str, int]) -> dict[str, int]:
        for kind in value:
            if kind not in ("council", "enterprise", "fire_safety"):
                raise ValueError(f"unknown group kind {kind!r}")
        return value


class DigestConfig(_Section):
    weekday: Weekday = "mon"
    time: str = "08:00"
    image_valid_days: int = Field(default=14, ge=1)

    @field_validator("time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        parse_hhmm(value)
        return value


Category = Literal[
    "fire",
    "theft",
    "fight",
    "traffic",
    "strike",
    "drugs",
    "suspicious",
    "accident",
    "poisoning",
    "hazmat",
    "disaster",
    "equipment",
    "inspection",
    "other",
]


class AlertsConfig(_Section):
    # Literal types: a misspelt category would otherwise silently switch urgent alerts off.
    urgent_categories: tuple[Category, ...] = ("fire",)
    urgent_severities: tuple[Literal["high", "medium", "low"], ...] = ("high",)
    ack_timeout_minutes: int = Field(default=10, ge=1)
    escalation_chain: tuple[str, ...] = ()
    max_escalations: int = Field(default=3, ge=0)
    merge_window_minutes: int = Field(default=60, ge=1)
    open_incident_reminder_hours: int = Field(default=24, ge=1)
    photo_attach_minutes: int = Field(default=5, ge=1)
    # Issue 15: at night these categories are urgent too (an intruder at 02:00 cannot wait).
    night: str = "22:00-06:00"
    night_urgent_categories: tuple[Category, ...] = ("suspicious", "theft")
    # The council's chair (member id or phone): the last step of every escalation.
    chair: str | None = None

    @field_validator("night")
    @classmethod
    def _night_format(cls, value: str) -> str:
        parse_quiet_hours(value)
        return value


class RemindersConfig(_Section):
    summary_time: str = "07:30"  # the coordinators' daily summary (job daily_summary)

    @field_validator("summary_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        parse_hhmm(value)
        return value


class RequestsConfig(_Section):
    # Open requests older than this go into the coordinators' daily summary.
    remind_after_hours: int = Field(default=4, ge=0, le=24 * 30)


class DashboardConfig(_Section):
    password: SecretStr = SecretStr("")
    session_hours: int = Field(default=12, ge=1)
    secure_cookies: bool = True
    login_attempts_per_15_minutes: int = Field(default=10, ge=1)


class RetentionConfig(_Section):
    inbox_days: int = Field(default=90, ge=1)
    outbox_days: int = Field(default=365, ge=1)
    # Personal data by kind (docs/privacy.md): members' message text, report photos.
    messages_days: int = Field(default=365, ge=1)
    photos_days: int = Field(default=180, ge=1)
    # Stored digest texts (sent_digests; they name quiet members): as long as message text.
    digests_days: int = Field(default=365, ge=1)
    # The one-line privacy notice on a member's first private message; the shipped
    # config.yaml turns it on (off by default so a bare config changes no conversation).
    first_message_notice: bool = False


class ShiftConfig(_Section):
    """One work shift of an enterprise ("ca 3", 22:00-06:00); it may cross midnight."""

    name: str = Field(min_length=1, max_length=40)
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        parse_hhmm(value)
        return value


def shift_times(settings: Settings) -> dict[str, tuple[tuple[str, time, time], ...]]:
    """`shifts` as (name, start, end) times per enterprise, for models.honour."""
    return {
        ent: tuple((s.name, parse_hhmm(s.start), parse_hhmm(s.end)) for s in shifts)
        for ent, shifts in settings.shifts.items()
    }


class PatrolsConfig(_Section):
    expected_per_shift: int = Field(default=1, ge=0, le=48)


# Issue 20: several parks' councils on one installation (docs/councils.md).
DEFAULT_COUNCIL = "default"  # the id of the one council of a file without `councils`


class CouncilConfig(_Section):
    """One park's council: its groups, coordinators and roster, and what it sets differently.

    `engagement`, `digest` and `alerts` override only the keys written under them; `shifts`
    adds or replaces enterprises. Everything else is the installation's."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: str = Field(min_length=1, max_length=200)
    groups: tuple[GroupConfig, ...] = ()
    coordinators: tuple[str, ...] = ()
    roster: str | None = None
    contacts: tuple[ContactConfig, ...] | None = None  # None: the installation's
    engagement: EngagementConfig | None = None
    digest: DigestConfig | None = None
    alerts: AlertsConfig | None = None
    shifts: dict[str, tuple[ShiftConfig, ...]] | None = None

    @field_serializer("engagement", "digest", "alerts")
    def _only_what_was_written(self, section: _Section | None) -> dict[str, Any] | None:
        """Dumped as written, so that a dumped file read again overrides the same keys."""
        return None if section is None else section.model_dump(mode="json", exclude_unset=True)


def _same_groups(groups: Any, councils: Any) -> bool:
    """Top-level `groups` that are exactly every council's groups, in order."""
    if not groups or not isinstance(councils, list | tuple):
        return False
    try:
        mine = [GroupConfig.model_validate(g) for g in groups]
        theirs = [GroupConfig.model_validate(g) for c in councils for g in c.get("groups", ())]
    except (ValidationError, AttributeError):
        return False
    return mine == theirs


class CopyUrgentConfig(_Section):
    """Which urgent incidents are copied to the province's staff."""

    categories: tuple[Category, ...] = ("fire", "hazmat")
    injuries: bool = True


class ProvinceConfig(_Section):
    """The province's industrial-parks board: its staff see every council (role `province`)."""

    coordinators: tuple[str, ...] = ()
    copy_urgent: CopyUrgentConfig = CopyUrgentConfig()


class Settings(_Section):
    """The whole configuration (SPEC.md 4)."""

    timezone: str = "Asia/Ho_Chi_Minh"
    database: DatabaseConfig = DatabaseConfig()
    platform: PlatformConfig = PlatformConfig()
    server: ServerConfig = ServerConfig()
    groups: tuple[GroupConfig, ...] = ()
    roster: str | None = None
    coordinators: tuple[str, ...] = ()
    # The park's own numbers the bot gives when asked (113, 114 and 115 it always knows).
    contacts: tuple[ContactConfig, ...] = ()
    engagement: EngagementConfig = EngagementConfig()
    digest: DigestConfig = DigestConfig()
    alerts: AlertsConfig = AlertsConfig()
    reminders: RemindersConfig = RemindersConfig()
    requests: RequestsConfig = RequestsConfig()
    dashboard: DashboardConfig = DashboardConfig()
    retention: RetentionConfig = RetentionConfig()
    # Enterprise name (as on the roster) -> its shifts; patrols are counted per shift.
    shifts: dict[str, tuple[ShiftConfig, ...]] = Field(default_factory=dict)
    patrols: PatrolsConfig = PatrolsConfig()
    # Several parks (docs/councils.md): empty means one council, `default`, made of the
    # top-level groups, coordinators and roster.
    councils: tuple[CouncilConfig, ...] = ()
    province: ProvinceConfig = ProvinceConfig()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Directory of the config file; relative paths (roster, sqlite) resolve against it.
    base_dir: str = "."
    # Set on one council's effective settings (handlers.councils): whose they are.
    _council_id: str | None = PrivateAttr(default=None)

    @property
    def council_id(self) -> str | None:
        """The council these settings are the effective settings of; None for the
        installation's own (with several councils, they are nobody's in particular)."""
        return self._council_id

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="before")
    @classmethod
    def _councils_own_their_groups(cls, data: Any) -> Any:
        """With `councils`, groups, coordinators and roster are listed under each council;
        `groups` then reads as every council's groups (for code that handles any chat)."""
        if not isinstance(data, dict) or not data.get("councils"):
            return data
        for key in ("groups", "coordinators", "roster"):
            if key == "groups" and _same_groups(data.get("groups"), data["councils"]):
                continue  # the settings dumped and read again (the demo's CLI config)
            if data.get(key):
                raise ValueError(
                    f"{key}: with councils, list {key} under each council "
                    "(the province's staff go under province.coordinators)"
                )
        councils = data["councils"]
        if isinstance(councils, list | tuple):
            groups = [
                g
                for c in councils
                if isinstance(c, Mapping) and isinstance(c.get("groups"), list | tuple)
                for g in c["groups"]
            ]
            data = {**data, "groups": groups}
        return data

    @model_validator(mode="after")
    def _councils_apart(self) -> Settings:
        """Council ids are unique and a group chat belongs to one council only."""
        seen: dict[str, str] = {}
        chats: dict[str, str] = {}
        for i, council in enumerate(self.councils):
            if council.id == DEFAULT_COUNCIL:
                raise ValueError(
                    f"councils.{i}.id: {DEFAULT_COUNCIL!r} is reserved (rows of no park); "
                    "choose another id, e.g. the park's name"
                )
            if council.id in seen:
                raise ValueError(f"councils.{i}.id: {council.id!r} is used twice")
            seen[council.id] = council.name
            for g in council.groups:
                if g.chat_id in chats:
                    raise ValueError(
                        f"councils.{i}.groups: chat {g.chat_id!r} is already in council "
                        f"{chats[g.chat_id]!r}; a group belongs to one council"
                    )
                chats[g.chat_id] = council.id
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def resolve_path(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else Path(self.base_dir) / p


def parse_hhmm(value: str) -> time:
    """'08:00' -> time(8, 0); raises ValueError with a readable reason."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{value!r} is not a time of day like 08:00")
    return time(int(match[1]), int(match[2]))


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """'21:30-07:00' -> (21:30, 07:00); an empty string means no quiet hours."""
    if not value.strip():
        return (time(0, 0), time(0, 0))
    parts = value.split("-")
    if len(parts) != 2:
        raise ValueError(f"{value!r} must look like 21:30-07:00")
    return parse_hhmm(parts[0]), parse_hhmm(parts[1])


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """ANTT_A__B=v -> {"a": {"b": v}}; each value typed by the key it sets (see _env_value)."""
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not is_config_variable(name):
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if not path:
            continue
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                break
        else:
            node[path[-1]] = _env_value(path, raw)
    return tree


def _field_type(path: list[str]) -> Any:
    """The annotation of the setting at `path` (e.g. ["platform", "app_id"]); None if unknown."""
    model: Any = Settings
    annotation: Any = None
    for key in path:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(key)
        if field is None:
            return None
        annotation = model = field.annotation
    return annotation


def _is_text(annotation: Any) -> bool:
    """True for str, SecretStr, str | None and string Literals: values read as typed."""
    if annotation in (str, SecretStr):
        return True
    origin = get_origin(annotation)
    if origin is Literal:
        return all(isinstance(v, str) for v in get_args(annotation))
    if origin in (Union, UnionType):
        return all(_is_text(a) or a is NoneType for a in get_args(annotation))
    return False


def _env_value(path: list[str], raw: str) -> Any:
    """A text setting keeps the variable's text as it is (an all-digit app id or password
    stays a string). Lists and mappings are read as YAML with every scalar left as text,
    and the model types each one by its field: `[u1, 0042]` stays two ids, `"9090"` becomes
    a port."""
    annotation = _field_type(path)
    if annotation is None or _is_text(annotation):
        return raw
    try:
        return yaml.load(raw, Loader=yaml.BaseLoader)  # BaseLoader: plain data, no objects
    except yaml.YAMLError:
        return raw


def _secret_paths(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    """Dotted keys of every secret (SecretStr) setting, e.g. platform.token."""
    out = []
    for key, field in model.model_fields.items():
        annotation = field.annotation
        if annotation is SecretStr:
            out.append(prefix + key)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.extend(_secret_paths(annotation, f"{prefix}{key}."))
    return out


def env_variable(key: str) -> str:
    """platform.token -> ANTT_PLATFORM__TOKEN."""
    return ENV_PREFIX + key.upper().replace(".", "__")


def setting_origin(
    settings: Settings, key: str, config_file: Path | None, environ: Mapping[str, str] | None = None
) -> str:
    """Where a key's value came from, for messages: its ANTT_ variable, the file, or the
    default (the reader must know what to edit)."""
    env = os.environ if environ is None else environ
    if (var := env_variable(key)) in env:
        return f"the environment variable {var}"
    *sections, name = key.split(".")
    model: BaseModel = settings
    for section in sections:
        model = getattr(model, section)
    if config_file is not None and name in model.model_fields_set:
        return f"{key} in {config_file}"
    return f"{key}'s default"


# user:password@ in a database URL: a secret, like the others (SPEC.md 4).
_URL_PASSWORD = re.compile(r"://[^/@:]*:[^/@]+@")


def _refuse_file_secrets(data: Mapping[str, Any], where: str) -> None:
    """Secrets belong in the environment: a file is copied, mailed and committed."""
    for key in [*_secret_paths(), "database.url"]:
        node: Any = data
        for part in key.split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        if node in (None, ""):
            continue
        if key == "database.url" and not (isinstance(node, str) and _URL_PASSWORD.search(node)):
            continue
        what = "a password in the URL" if key == "database.url" else "a secret"
        raise ConfigError(
            f"{where}: {key}: {what} must not be written in the file; remove it and set "
            f"the environment variable {env_variable(key)} instead"
        )


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def env_sources(environ: Mapping[str, str]) -> dict[str, str]:
    """Dotted config key -> the ANTT_ variable that set it (to name it in errors)."""
    out = {}
    for name in environ:
        if is_config_variable(name):
            path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
            if path:
                out[".".join(path)] = name
    return out


def _env_source(key: str, from_env: Mapping[str, str]) -> str | None:
    """The variable behind an error at `key`: it set that key, a parent, or (a misspelt
    section such as ANTT_PLATFROM__TOKEN) a key below it."""
    for path, var in from_env.items():
        if key == path or key.startswith(path + ".") or path.startswith(key + "."):
            return var
    return None


def _describe(error: ValidationError, from_env: Mapping[str, str] | None = None) -> list[str]:
    """One line per problem; the ones set through the environment name their variable."""
    lines = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see README 'Configuration')"
        elif item["type"] == "string_type" and (read_as := _yaml_type(item.get("input"))):
            msg = f"YAML read the value as {read_as}: write it in quotes"
        source = _env_source(key, from_env or {})
        where = f" (set by the environment variable {source})" if source else ""
        lines.append(f"  {key}{where}: {msg}")
    return lines


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key written twice in one mapping (YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<:` then a key overrides on purpose
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, Hashable):
                continue  # SafeLoader itself refuses it ("found unhashable key")
            if key in lines:
                # A second `alerts:` would silently drop every key of the first.
                raise ConfigError(
                    f"key {key!r} is written twice (lines {lines[key]} and {line}): "
                    "keep one and put everything under it"
                )
            lines[key] = line
        return super().construct_mapping(node, deep=deep)


def _yaml_type(value: Any) -> str | None:
    """What YAML made of an unquoted value a text setting expected (9:30 -> 570)."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    return None


def config_path(explicit: str | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The file to read: -c, else ./config.yaml, else $ANTT_CONFIG; None means defaults."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if Path(DEFAULT_CONFIG).exists():
        return Path(DEFAULT_CONFIG)
    if env.get("ANTT_CONFIG"):
        return Path(env["ANTT_CONFIG"])
    return None


def load_settings(
    path: str | Path | None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read and validate the configuration; raises ConfigError naming file and key."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    where = "(defaults)"
    base_dir = "."
    if path is not None:
        p = Path(path)
        where = str(p)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            # Named by ANTT_CONFIG (systemd's environment): say so, or nobody looks there.
            source = " (named by ANTT_CONFIG)" if env.get("ANTT_CONFIG") == str(path) else ""
            raise ConfigError(f"{where}: file not found{source}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot read: {exc}") from None
        try:
            loaded = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: plain data
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where}: not valid YAML: {exc}") from None
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if loaded is None:
            # An empty or cut-off file must not quietly become the defaults (the local
            # simulator on the real database).
            raise ConfigError(
                f"{where}: the file is empty: restore it (the shipped config.yaml is a "
                "starting point) or pass the right one with -c"
            )
        if not isinstance(loaded, dict):
            raise ConfigError(f"{where}: the top level must be a mapping of sections")
        data = loaded
        base_dir = str(p.resolve().parent)
        _refuse_file_secrets(data, where)
    if "base_dir" in data:
        raise ConfigError(f"{where}: base_dir: unknown key (it is derived from the file's place)")
    data = _merge(data, _env_overrides(env))
    if overrides:
        data = _merge(data, overrides)
    data.setdefault("base_dir", base_dir)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        lines = _describe(exc, env_sources(env))
        if all("(set by the environment variable" in line for line in lines):
            where = "the environment"  # the file is fine: do not send the reader to it
        detail = "\n".join(lines)
        raise ConfigError(f"{where}: invalid configuration\n{detail}") from None
