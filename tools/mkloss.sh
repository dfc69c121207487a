#!/usr/bin/env bash
# mkloss.sh - capture real Linux TCP traffic that suffers packet loss, for
# testing the TCP Retransmit expert against tshark on retransmissions made
# by a real TCP stack rather than by a generator.
#
#   tools/mkloss.sh [-o FILE] [-l PERCENT] [-s BYTES] [-t SECONDS]
#
#   -o FILE     where to write the capture (default: a new file under $TMPDIR)
#   -l PERCENT  share of TCP segments dropped on arrival, 1-50 (default 5)
#   -s BYTES    bytes to transfer (default 2000000)
#   -t SECONDS  give up on the transfer after this long (default 20)
#
# How: two network namespaces joined by a veth pair, 10.211.0.1 (server) and
# 10.211.0.2 (client), nothing else in them.  The client namespace drops a
# random share of the TCP segments it receives with an nftables rule
# (numgen random), so the server's stack retransmits, fast or after a
# timeout.  tcpdump captures on the client's veth, where frames are seen
# before the rule drops them: the capture holds every segment the server
# sent, the lost ones included, as a capture point in front of a lossy
# receiver would.  The transfer is an HTTP download (python3 -m http.server
# and curl).  Frames are cut at 128 bytes: headers are all the analysis
# needs, and the length on the wire is kept.
#
# Needs root (namespaces, nftables), and: iproute2 (ip), nftables (nft),
# tcpdump, python3, curl.  On Debian:
#     apt-get install iproute2 nftables tcpdump python3 curl
# (`tc qdisc ... netem loss` would do the same, but many kernels, including
# container hosts, are built without sch_netem; nftables' numgen is common.)
#
# Prints the path of the capture on stdout.  Exit status: 0 written, 1
# failed, 2 bad usage, 77 cannot run here (not root, a tool missing).
# Everything it creates (namespaces, processes, scratch files) is removed on
# exit, however it exits.
set -euo pipefail

output=""
loss_percent=5
transfer_bytes=2000000
time_limit=20

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

while getopts "o:l:s:t:h" option; do
    case $option in
    o) output=$OPTARG ;;
    l) loss_percent=$OPTARG ;;
    s) transfer_bytes=$OPTARG ;;
    t) time_limit=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -ne 0 ]; then
    usage >&2
    exit 2
fi
is_number() { [[ $1 =~ ^[0-9]+$ ]]; }
if ! is_number "$loss_percent" || [ "$loss_percent" -lt 1 ] || [ "$loss_percent" -gt 50 ] ||
    ! is_number "$transfer_bytes" || [ "$transfer_bytes" -lt 1 ] ||
    ! is_number "$time_limit" || [ "$time_limit" -lt 1 ]; then
    echo "mkloss: -l takes 1-50, -s and -t positive whole numbers" >&2
    exit 2
fi

cannot_run() {
    echo "mkloss: $*" >&2
    exit 77
}

[ "$(id -u)" -eq 0 ] || cannot_run "needs root (network namespaces, nftables)"
missing=()
for tool in ip nft tcpdump python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -ne 0 ]; then
    cannot_run "missing: ${missing[*]} (Debian: apt-get install iproute2 nftables tcpdump python3 curl)"
fi

# Names carry our PID so that two runs at once do not collide.
server_ns="es-loss-server-$$"
client_ns="es-loss-client-$$"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mkloss.XXXXXX")
server_pid=""
capture_pid=""

cleanup() {
    # Only what this run started, by PID; nothing here may stop the rest of
    # the cleanup.  Deleting a namespace takes its veth end with it, and the
    # peer goes too.
    set +e
    for pid in $capture_pid $server_pid; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    ip netns delete "$client_ns" 2>/dev/null
    ip netns delete "$server_ns" 2>/dev/null
    rm -rf -- "$scratch"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ -z "$output" ]; then
    output=$(mktemp "${TMPDIR:-/tmp}/mkloss-XXXXXX.pcap")
fi

in_server() { ip netns exec "$server_ns" "$@"; }
in_client() { ip netns exec "$client_ns" "$@"; }

ip netns add "$server_ns"
ip netns add "$client_ns"
ip link add veth-server netns "$server_ns" type veth peer name veth-client netns "$client_ns"
in_server ip addr add 10.211.0.1/24 dev veth-server
in_client ip addr add 10.211.0.2/24 dev veth-client
in_server ip link set lo up
in_client ip link set lo up
# One segment per frame, as on a real link: without this the veth passes
# the stack's 64 KiB TSO super-segments through whole, and the capture
# shows those instead of the segments.
in_server ip link set veth-server gso_max_segs 1 up
in_client ip link set veth-client gso_max_segs 1 up

# Drop a share of the TCP segments arriving at the client, after the
# capture point.
in_client nft -f - <<EOF
table inet mkloss {
    chain input {
        type filter hook input priority 0; policy accept;
        meta l4proto tcp numgen random mod 100 < $loss_percent drop
    }
}
EOF

# The file to serve, and the server.
mkdir "$scratch/www"
head -c "$transfer_bytes" /dev/urandom >"$scratch/www/payload.bin"
# Started directly, not through a shell function, so that $! is the
# process itself (ip netns exec execs it) and can be stopped by its PID.
ip netns exec "$server_ns" python3 -m http.server --bind 10.211.0.1 --directory "$scratch/www" 8080 \
    >"$scratch/server.log" 2>&1 &
server_pid=$!

# The capture, started before any traffic; -U writes each frame at once so
# that nothing is lost when it is stopped.
# tcpdump writes the file after dropping root (-Z root keeps it, so that
# any directory root can write to will do).
ip netns exec "$client_ns" tcpdump -i veth-client -s 128 -U -n -Z root -w "$output" tcp \
    >"$scratch/tcpdump.log" 2>&1 &
capture_pid=$!

# Wait until both listen, at most 5 s.
for _ in $(seq 50); do
    if grep -q "listening on" "$scratch/tcpdump.log" 2>/dev/null &&
        in_server python3 -c 'import socket,sys; socket.create_connection(("10.211.0.1", 8080), 0.2).close()' \
            2>/dev/null; then
        break
    fi
    sleep 0.1
done
grep -q "listening on" "$scratch/tcpdump.log" || { cat "$scratch/tcpdump.log" >&2; echo "mkloss: tcpdump did not start" >&2; exit 1; }

# (The readiness probe connected from inside the server's namespace, so it
# never crossed the veth and is not in the capture.)  Now the transfer,
# bounded in time.
if ! in_client curl --silent --show-error --max-time "$time_limit" -o "$scratch/received.bin" \
    "http://10.211.0.1:8080/payload.bin"; then
    echo "mkloss: the transfer failed or took longer than $time_limit s" >&2
    exit 1
fi
if ! cmp -s "$scratch/received.bin" "$scratch/www/payload.bin"; then
    echo "mkloss: the transfer arrived damaged" >&2
    exit 1
fi

# Let the last ACKs and the close reach the capture, then stop it cleanly.
sleep 0.3
kill -INT "$capture_pid"
wait "$capture_pid" 2>/dev/null || true
capture_pid=""

if [ ! -s "$output" ]; then
    echo "mkloss: the capture is empty" >&2
    exit 1
fi
echo "$output"
