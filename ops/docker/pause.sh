#!/usr/bin/env bash
# pause.sh ID...: freeze replicas (docker pause: SIGSTOP-like, memory kept;
# TCP still connects but nothing answers). resume.sh ID thaws one.
source "$(dirname "$0")/lib.sh"
usage_if_none $# "ID..."
for id in "$@"; do
  c=$(replica "$id")
  docker pause "$c" >/dev/null
  say "paused $c (frozen with its memory; ops/docker/resume.sh $id)"
done
