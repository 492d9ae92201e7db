"""`python -m bot` is the same as `antt-bot`."""

import sys

from bot.cli import main

sys.exit(main())
