"""`antt-bot platform oa-authorize [--code CODE] [--redirect-uri URI]` (docs/zalo-oa.md)."""

from __future__ import annotations

import argparse
import sys

import aiohttp

from bot.cli import EXIT_FAIL, EXIT_OK, UsageError, command, load
from bot.commands.core import NETWORK, open_db
from bot.platforms.base import PlatformError, Unreachable
from bot.platforms.zalo_oa import OATokenStore, permission_url, request_tokens
from handlers.clock import SystemClock
from handlers.config import ConfigError


@command("platform oa-authorize")
async def oa_authorize(args: argparse.Namespace) -> int:
    """Without --code print the permission URL; with it, exchange the code and store the pair."""
    settings = load(args)
    platform = settings.platform
    if not platform.app_id:
        raise ConfigError("platform.app_id: not set (the id of your app on developers.zalo.me)")
    if not args.code:
        redirect = args.redirect_uri or settings.server.public_url
        if not redirect:
            raise UsageError("give --redirect-uri: the callback URL registered for your Zalo app")
        print(permission_url(platform.oauth_base, platform.app_id, redirect))
        print(
            "Open this address as the OA's admin and allow access; Zalo then opens the "
            "callback with ?code=...; run again with --code CODE (it is valid for minutes).",
            file=sys.stderr,
        )
        return EXIT_OK
    if not platform.app_secret.get_secret_value():
        raise ConfigError("platform.app_secret: not set (export ANTT_PLATFORM__APP_SECRET)")
    clock = SystemClock()
    async with aiohttp.ClientSession() as http, open_db(settings) as sessions:
        try:
            pair = await request_tokens(
                http, platform, {"grant_type": "authorization_code", "code": args.code}, clock.now()
            )
        except Unreachable as exc:  # this machine's network, not Zalo's answer
            print(f"antt-bot: {exc}; check {NETWORK} and platform.oauth_base", file=sys.stderr)
            return EXIT_FAIL
        except PlatformError as exc:
            print(f"antt-bot: Zalo refused the code: {exc}", file=sys.stderr)
            return EXIT_FAIL
        await OATokenStore(sessions, platform, http, clock).save(pair, source="authorize")
    until = (
        pair.expires_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        if pair.expires_at
        else "unknown"
    )
    print(
        f"OA tokens stored in the database (access token valid until {until}; "
        "it is refreshed automatically from now on)"
    )
    return EXIT_OK
