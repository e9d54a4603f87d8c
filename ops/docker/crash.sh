#!/usr/bin/env bash
# crash.sh ID...: kill replicas as a crash would (docker kill, SIGKILL): they
# lose everything they held in memory. recover.sh ID starts one again.
source "$(dirname "$0")/lib.sh"
usage_if_none $# "ID..."
for id in "$@"; do
  c=$(replica "$id")
  docker kill "$c" >/dev/null
  say "crashed $c (SIGKILL: its memory is gone; ops/docker/recover.sh $id starts it empty)"
done
