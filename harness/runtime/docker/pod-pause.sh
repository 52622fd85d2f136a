#!/bin/sh
# The docker pod's pause process: it holds the pod's network (and PID) namespace and
# makes the pod's ports reachable from the host. Containers bind 127.0.0.1, as on the
# local runtime; Docker's published ports arrive at the pod's bridge address, so for
# each port P a DNAT rule in the pod's own namespace sends them on to 127.0.0.1:P
# (net.ipv4.conf.all.route_localnet=1 lets the kernel route them there). The kernel does
# it: no user-space hop, and each client connection is the app's own connection, as a
# local one is (a refused or reset one stays refused or reset).
# Usage: pod-pause.sh P...  (needs CAP_NET_ADMIN in the pod's namespace, and iptables)
set -eu
for port in "$@"; do
  iptables -w 5 -t nat -A PREROUTING -p tcp --dport "$port" -j DNAT --to-destination "127.0.0.1:$port"
done
echo "pod-pause: publishing ${*:-no ports} to 127.0.0.1"
# PID 1 ignores signals it does not handle; reaping: `wait` collects any child, orphans included.
trap 'exit 0' TERM INT
while :; do
  sleep 3600 &
  wait $! || true
done
