#!/usr/bin/env bash
# recover.sh ID [--no-wait]: start a crashed replica again (docker start). It
# comes back empty and recovering, and catches up from the others; without
# --no-wait this waits (up to 60 s) until it has left recovery and says how long
# that took. Wait for that before taking another replica down.
source "$(dirname "$0")/lib.sh"
usage_if_none $# "ID [--no-wait]"
c=$(replica "$1")
if [ "$(docker inspect -f '{{.State.Status}}' "$c")" = running ]; then
  say "$c is already running"
  exit 0
fi
docker start "$c" >/dev/null
say "started $c again: empty, recovering, catching up"
if [ "${2:-}" != --no-wait ]; then
  tool wait-recovered "$1" 60 | sed "s/^/[recover] /"
fi
