#!/usr/bin/env bash
# heal.sh: undo every partition.sh: reconnect each disconnected replica to the
# cluster network, with its service name as alias so that its peers resolve
# paxlog-N again and at its old address (docker-compose.yml gives replica N
# the address .100+N of the network's /24; without --ip, two replicas healed
# together may swap addresses under their peers' open gRPC channels), and
# remove the packet-drop rules of --keep-etcd.
source "$(dirname "$0")/lib.sh"
subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$NETWORK" 2>/dev/null || true)
healed=0
for c in $(all_replicas); do
  if ! connected "$c"; then
    ip=()
    if [[ $subnet =~ ^([0-9]+\.[0-9]+\.[0-9]+)\.0/24$ ]]; then
      ip=(--ip "${BASH_REMATCH[1]}.$((100 + ${c#paxlog-}))")
    fi
    docker network connect --alias "$c" "${ip[@]}" "$NETWORK" "$c"
    say "reconnected $c to \"$NETWORK\" (alias $c${ip:+, address ${ip[1]}})"
    healed=$((healed + 1))
  fi
  pid=$(docker inspect -f '{{.State.Pid}}' "$c")
  if [ "$pid" != 0 ] && nsenter -t "$pid" -n iptables -L PAXLOG-PARTITION -n >/dev/null 2>&1; then
    for chain in INPUT OUTPUT; do
      nsenter -t "$pid" -n iptables -D "$chain" -j PAXLOG-PARTITION 2>/dev/null || true
    done
    nsenter -t "$pid" -n iptables -F PAXLOG-PARTITION
    nsenter -t "$pid" -n iptables -X PAXLOG-PARTITION
    say "removed the packet-drop rules of $c"
    healed=$((healed + 1))
  fi
done
[ $healed -gt 0 ] || say "no replica was cut off"
