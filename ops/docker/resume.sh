#!/usr/bin/env bash
# resume.sh ID...: thaw paused replicas (docker unpause).
source "$(dirname "$0")/lib.sh"
usage_if_none $# "ID..."
for id in "$@"; do
  c=$(replica "$id")
  docker unpause "$c" >/dev/null
  say "resumed $c"
done
