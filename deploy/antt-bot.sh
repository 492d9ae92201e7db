#!/bin/sh
# /usr/local/sbin/antt-bot: run an antt-bot command as the service does (same user, config
# and secrets), e.g. `sudo antt-bot platform info`, `sudo antt-bot db backup FILE`.
set -eu
set -a
. /etc/antt-bot/env
set +a
export ANTT_CONFIG=/etc/antt-bot/config.yaml
# -c as well: a ./config.yaml would win over ANTT_CONFIG, and docs/deploy.md runs this from
# /opt/antt-bot/src, where the repository's config.yaml (another database) lies.
exec runuser -u antt -- /opt/antt-bot/venv/bin/antt-bot -c "$ANTT_CONFIG" "$@"
