#!/usr/bin/env bash
# status.sh [--json]: each replica's container state and its own view
# (/v1/cluster): role, the leader it knows, its ballot, chosen and applied
# index, whether it is recovering, and the members' status as it sees them.
source "$(dirname "$0")/lib.sh"
etcd=$(docker inspect -f '{{.State.Status}}{{if .State.Health}} ({{.State.Health.Status}}){{end}}' paxlog-etcd 2>/dev/null || echo absent)
[ "${1:-}" = --json ] || echo "etcd: $etcd; network: $NETWORK"
tool status "$@"
