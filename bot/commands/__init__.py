"""CLI command bodies; every module here registers its commands with bot.cli.command."""

import importlib
import pkgutil

for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_info.name}")
