#!/usr/bin/env bash
# partition.sh [--keep-etcd] ID...: cut replicas off.
#   default      docker network disconnect: they reach neither their peers nor
#                etcd, and their published REST port goes dark too (status.sh
#                still asks them through docker exec).
#   --keep-etcd  drop (iptables in each one's network namespace, via nsenter)
#                all traffic between them and the replicas outside the set, but
#                keep etcd and the published port: a partition between replicas
#                only, e.g. a leader cut off from its followers that still
#                holds its leader hint in etcd.
# heal.sh undoes both kinds.
source "$(dirname "$0")/lib.sh"
keep_etcd=false
if [ "${1:-}" = --keep-etcd ]; then
  keep_etcd=true
  shift
fi
usage_if_none $# "[--keep-etcd] ID..."
cut=()
for id in "$@"; do cut+=("$(replica "$id")"); done
total=$(all_replicas | wc -l)

if $keep_etcd; then
  for c in "${cut[@]}"; do
    pid=$(docker inspect -f '{{.State.Pid}}' "$c")
    nsenter -t "$pid" -n iptables -N PAXLOG-PARTITION 2>/dev/null || true
    for chain in INPUT OUTPUT; do
      nsenter -t "$pid" -n iptables -C "$chain" -j PAXLOG-PARTITION 2>/dev/null ||
        nsenter -t "$pid" -n iptables -I "$chain" -j PAXLOG-PARTITION
    done
    for other in $(all_replicas); do
      [[ " ${cut[*]} " == *" $other "* ]] && continue
      ip=$(docker inspect -f "{{with index .NetworkSettings.Networks \"$NETWORK\"}}{{.IPAddress}}{{end}}" "$other")
      [ -n "$ip" ] || continue
      nsenter -t "$pid" -n iptables -A PAXLOG-PARTITION -s "$ip" -j DROP
      nsenter -t "$pid" -n iptables -A PAXLOG-PARTITION -d "$ip" -j DROP
    done
    say "cut $c off from the replicas outside {${cut[*]}} (packets dropped; etcd and its published port still reachable)"
  done
else
  for c in "${cut[@]}"; do
    if ! connected "$c"; then
      say "$c is already cut off"
      continue
    fi
    docker network disconnect "$NETWORK" "$c"
    say "cut $c off the network \"$NETWORK\" (peers, etcd and its published port)"
  done
fi
if [ $(($# * 2)) -ge "$total" ]; then
  say "note: $# of $total replicas cut off: the rest is no majority and cannot serve"
fi
