#!/bin/sh
# mkveth.sh - record real traffic between two network namespaces joined by
# a veth pair into a pcap file, for benchmarks (tools/bench) that need a
# large capture made by a real network stack rather than by a generator.
#
#   tools/mkveth.sh [--frames N] [--seconds S] [--loss PERCENT] [--snaplen N] -o FILE
#
#   --frames N        stop after N frames (default 1000000)
#   --seconds S       stop after S seconds whatever the count (default 300)
#   --loss PERCENT    drop this share of the TCP segments arriving at the
#                     client, 0-20 (default 1), so that the server's stack
#                     retransmits; needs nftables, skipped without it
#   --snaplen N       bytes kept per frame (default 128: headers are what the
#                     experts analyse; the length on the wire is kept)
#   -o FILE           the capture to write (classic pcap, Ethernet)
#
# What runs: namespace "server" (10.212.0.1, fd00:212::1) and namespace
# "client" (10.212.0.2, fd00:212::2), nothing else in them.  One Python
# program per side (python3's standard library only):
#   - bulk TCP downloads (the bulk of the frames: full-size segments and
#     their ACKs, with slow start, window updates and retransmissions),
#   - request/response TCP connections with small messages and TCP_NODELAY
#     (short frames, delayed ACKs, connection set-up and tear-down, over
#     IPv4 and IPv6),
#   - UDP request/response datagrams.
# Segmentation offload is switched off on both veth ends (ip link
# gso_max_size, and ethtool when present), so each captured frame is a frame
# as a real NIC would send it, not a 64 KiB super-segment.  tcpdump (or
# dumpcap) captures on the client's veth; with --loss the drop happens after
# the capture point, so the capture holds the segments that were lost too,
# as a tap in front of a lossy receiver would.
#
# Bounded: every process is started by this script and ended by PID, the
# whole run stops after --seconds, and the namespaces, processes and
# scratch files are removed on exit however it exits.  The traffic never
# leaves the two namespaces.
#
# Needs root, iproute2 (ip), python3, and tcpdump or dumpcap.  Exit status:
# 0 written, 1 failed, 2 bad usage, 77 cannot run here (not root, a tool
# missing).  Prints the frame count on stdout.
set -eu

frames=1000000
seconds=300
loss=1
snaplen=128
output=""

usage() {
    sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"
}

while [ $# -gt 0 ]; do
    case $1 in
    --frames|--seconds|--loss|--snaplen|-o)
        if [ $# -lt 2 ]; then
            usage >&2
            exit 2
        fi ;;
    esac
    case $1 in
    --frames) frames=${2:-}; shift 2 ;;
    --seconds) seconds=${2:-}; shift 2 ;;
    --loss) loss=${2:-}; shift 2 ;;
    --snaplen) snaplen=${2:-}; shift 2 ;;
    -o) output=${2:-}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done

is_count() { case $1 in ''|*[!0-9]*) return 1 ;; *) return 0 ;; esac; }
if ! is_count "$frames" || ! is_count "$seconds" || ! is_count "$loss" || ! is_count "$snaplen" ||
    [ "$frames" -lt 1 ] || [ "$seconds" -lt 1 ] || [ "$loss" -gt 20 ] || [ "$snaplen" -lt 64 ] ||
    [ -z "$output" ]; then
    echo "mkveth: -o FILE is needed; --frames, --seconds, --snaplen (>= 64) and --loss (0-20) take whole numbers" >&2
    exit 2
fi

cannot_run() {
    echo "mkveth: $*" >&2
    exit 77
}
[ "$(id -u)" -eq 0 ] || cannot_run "needs root (network namespaces)"
for tool in ip python3 timeout; do
    command -v "$tool" >/dev/null 2>&1 || cannot_run "missing: $tool (Debian: apt-get install iproute2 python3 coreutils)"
done
if command -v tcpdump >/dev/null 2>&1; then
    capturer=tcpdump
elif command -v dumpcap >/dev/null 2>&1; then
    capturer=dumpcap
else
    cannot_run "missing: tcpdump or dumpcap (Debian: apt-get install tcpdump)"
fi

# Names carry our PID so that two runs at once do not collide.
server_ns="es-veth-server-$$"
client_ns="es-veth-client-$$"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mkveth.XXXXXX")
pids=""

cleanup() {
    status=$?
    # Only what this run started, by PID, then the namespaces (deleting one
    # takes its veth end with it, and the peer goes too).
    for pid in $pids; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $pids; do
        wait "$pid" 2>/dev/null || true
    done
    ip netns delete "$client_ns" 2>/dev/null || true
    ip netns delete "$server_ns" 2>/dev/null || true
    rm -rf -- "$scratch"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

in_server() { ip netns exec "$server_ns" "$@"; }
in_client() { ip netns exec "$client_ns" "$@"; }

ip netns add "$server_ns"
ip netns add "$client_ns"
ip link add veth-srv netns "$server_ns" type veth peer name veth-cli netns "$client_ns"
in_server ip addr add 10.212.0.1/24 dev veth-srv
in_client ip addr add 10.212.0.2/24 dev veth-cli
in_server ip -6 addr add fd00:212::1/64 dev veth-srv nodad
in_client ip -6 addr add fd00:212::2/64 dev veth-cli nodad
for side in server client; do
    if [ $side = server ]; then dev=veth-srv; ns=$server_ns; else dev=veth-cli; ns=$client_ns; fi
    ip netns exec "$ns" ip link set lo up
    # Frames as a NIC sends them: no 64 KiB GSO/TSO super-segments.
    ip netns exec "$ns" ip link set dev "$dev" gso_max_size 1500 gso_max_segs 1 2>/dev/null || true
    if command -v ethtool >/dev/null 2>&1; then
        ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null 2>&1 || true
    fi
    ip netns exec "$ns" ip link set "$dev" up
done

if [ "$loss" -gt 0 ]; then
    if command -v nft >/dev/null 2>&1; then
        in_client nft -f - <<EOF
table inet es_loss {
    chain input {
        type filter hook input priority 0; policy accept;
        meta l4proto tcp numgen random mod 100 < $loss drop
    }
}
EOF
    else
        echo "mkveth: nftables is not installed: no loss, retransmissions only as the stacks make them" >&2
    fi
fi

cat >"$scratch/traffic.py" <<'PYTHON'
# The two sides of the traffic; argv: server|client, seconds.
import os, socket, sys, threading, time

role, limit = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + limit
SERVER4, SERVER6 = "10.212.0.1", "fd00:212::1"
BULK, CHAT, UDP = 5001, 5002, 5003

def forever(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t

def serve_tcp(family, addr, port, handler):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    while True:
        conn, _ = s.accept()
        forever(handler, conn)

def bulk_handler(conn):
    # A download: 256 KiB chunks until the client hangs up.
    chunk = os.urandom(256 * 1024)
    try:
        while True:
            conn.sendall(chunk)
    except OSError:
        pass
    finally:
        conn.close()

def chat_handler(conn):
    # Request/response: answer each short request with a longer reply.
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            req = conn.recv(4096)
            if not req:
                break
            conn.sendall(b"R" * (64 + (req[0] % 8) * 180))
    except OSError:
        pass
    finally:
        conn.close()

def serve_udp(family, addr):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((addr, UDP))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data[:32] + b"u" * 100, peer)

def bulk_client(family, addr, seconds_each):
    while time.monotonic() < deadline:
        try:
            s = socket.create_connection((addr, BULK), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
            stop = min(deadline, time.monotonic() + seconds_each)
            while time.monotonic() < stop and s.recv(65536):
                pass
            s.close()
        except OSError:
            time.sleep(0.05)

def chat_client(family, addr, seed):
    n = seed
    while time.monotonic() < deadline:
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(5)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.connect((addr, CHAT))
            # A short conversation per connection: set-up and FIN close
            # appear many times in the capture.
            for _ in range(20 + n % 30):
                n = (n * 1103515245 + 12345) & 0x7FFFFFFF
                s.sendall(bytes([n % 256]) + b"q" * (20 + n % 200))
                s.recv(4096)
            s.close()
        except OSError:
            time.sleep(0.01)

def udp_client(family, addr):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        try:
            s.sendto(n.to_bytes(4, "big") + b"d" * (16 + n % 300), (addr, UDP))
            s.recvfrom(2048)
        except OSError:
            pass

if role == "server":
    forever(serve_tcp, socket.AF_INET, SERVER4, BULK, bulk_handler)
    forever(serve_tcp, socket.AF_INET, SERVER4, CHAT, chat_handler)
    forever(serve_tcp, socket.AF_INET6, SERVER6, CHAT, chat_handler)
    forever(serve_udp, socket.AF_INET, SERVER4)
    forever(serve_udp, socket.AF_INET6, SERVER6)
    while time.monotonic() < deadline + 5:
        time.sleep(0.5)
else:
    workers = [forever(bulk_client, socket.AF_INET, SERVER4, 2.0)]
    for i in range(3):
        workers.append(forever(chat_client, socket.AF_INET, SERVER4, i + 1))
    workers.append(forever(chat_client, socket.AF_INET6, SERVER6, 7))
    workers.append(forever(udp_client, socket.AF_INET, SERVER4))
    workers.append(forever(udp_client, socket.AF_INET6, SERVER6))
    for w in workers:
        w.join(max(0.0, deadline - time.monotonic()) + 1)
PYTHON

# The capture first, so that every connection is recorded from its SYN.
partial="$scratch/capture.pcap"
if [ $capturer = tcpdump ]; then
    in_client timeout "$((seconds + 10))" tcpdump -i veth-cli -n -s "$snaplen" -B 65536 -c "$frames" \
        -w "$partial" >"$scratch/capture.log" 2>&1 &
else
    in_client timeout "$((seconds + 10))" dumpcap -i veth-cli -s "$snaplen" -B 64 -c "$frames" -F pcap \
        -w "$partial" >"$scratch/capture.log" 2>&1 &
fi
capture_pid=$!
pids="$pids $capture_pid"
# Wait until the capture is listening (its log says so), at most 5 s.
tries=0
until grep -qi "listening\|capturing" "$scratch/capture.log" 2>/dev/null || [ $tries -ge 50 ]; do
    sleep 0.1
    tries=$((tries + 1))
done

in_server timeout "$((seconds + 10))" python3 "$scratch/traffic.py" server "$seconds" &
pids="$pids $!"
sleep 0.3
in_client timeout "$((seconds + 5))" python3 "$scratch/traffic.py" client "$seconds" &
client_pid=$!
pids="$pids $client_pid"

# Done when the capture has its frames (it exits by itself) or time is up.
waited=0
while kill -0 "$capture_pid" 2>/dev/null && [ $waited -lt $((seconds * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
done
kill "$client_pid" 2>/dev/null || true
kill -INT "$capture_pid" 2>/dev/null || true
wait "$capture_pid" 2>/dev/null || true

if [ ! -s "$partial" ]; then
    echo "mkveth: nothing was captured:" >&2
    cat "$scratch/capture.log" >&2
    exit 1
fi
mv -- "$partial" "$output"
# tcpdump writes as its own unprivileged user; the capture is ours.
chown "$(id -u):$(id -g)" "$output" 2>/dev/null || true
# tcpdump: "N packets captured"; dumpcap: "Packets captured: N".
count=$(sed -n 's/^\([0-9][0-9]*\) packets captured.*/\1/p; s/.*Packets captured: *\([0-9][0-9]*\).*/\1/p' \
    "$scratch/capture.log" | head -n 1)
echo "${count:-unknown}"
grep -i "dropped" "$scratch/capture.log" >&2 || true
