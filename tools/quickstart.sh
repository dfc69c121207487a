#!/usr/bin/env bash
# quickstart.sh - from a fresh Debian 12 machine to a built, running, tested
# expert-sandbox.
#
#   tools/quickstart.sh demo   install what is missing, build, run the sample
#                              experts on the generated sample capture
#   tools/quickstart.sh test   install what is missing, build, run the Check
#                              suite; then again with AddressSanitizer and
#                              UndefinedBehaviorSanitizer
#   tools/quickstart.sh build  install what is missing and build
#   tools/quickstart.sh bench [BENCH OPTIONS]
#                              install what is missing, and what the
#                              benchmark compares against (valgrind,
#                              bubblewrap, mimalloc), build a release tree and
#                              run tools/bench (docs/performance.md), e.g.
#                              `tools/quickstart.sh bench --quick`
#
# Works from any directory.  Packages are installed with apt-get only when
# dpkg says they are missing, with sudo only when not already root.
#
# Environment:
#   ES_BUILD        build directory       (default: <repo>/build)
#   ES_ASAN_BUILD   sanitizer build tree  (default: <repo>/build-asan)
#   ES_BENCH_BUILD  release tree of bench (default: <repo>/build-bench)
#   ES_NO_INSTALL   set to 1 to never call apt-get (report what is missing)
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${ES_BUILD:-$repo/build}
asan_dir=${ES_ASAN_BUILD:-$repo/build-asan}
bench_dir=${ES_BENCH_BUILD:-$repo/build-bench}

# Everything the build and the tests need, by Debian package name.
packages=(
    build-essential      # cc, make, libc headers; gcc brings libasan/libubsan
    meson
    ninja-build
    pkg-config
    libpcap-dev
    libseccomp-dev
    libprotobuf-c-dev
    protobuf-c-compiler  # protoc-c, for proto/expert.proto
    check                # the unit and integration tests
    libfiu-dev           # fault points in the broker, exercised by the faults test
    tshark               # the tests compare recognize data and the experts with it
    python3              # the output test checks every JSON line with a strict parser
    iproute2             # tools/mkloss.sh: real TCP with loss between two namespaces,
    nftables             #   which the analysis test records when it runs as root
    tcpdump
    curl
)

# What tools/bench compares against, on top of the above: instruction counts
# (valgrind), the spawn reference (bubblewrap), the third allocator (mimalloc).
bench_packages=(
    valgrind
    bubblewrap
    libmimalloc-dev
)

say() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*', and sudo is not installed"
    fi
}

# "dpkg -s" exits 0 for removed packages whose configuration files are left,
# so the Status line, not the exit status, says whether it is installed.
is_installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

install_missing() {
    if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        say "not a Debian system: install these (or their equivalents) yourself: ${packages[*]} $*"
        return 0
    fi
    local missing=() p
    for p in "${packages[@]}" "$@"; do
        is_installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    if [ "${ES_NO_INSTALL:-0}" = 1 ]; then
        die "missing packages (ES_NO_INSTALL=1, not installing): ${missing[*]}"
    fi
    say "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
}

# setup_tree DIR [meson options...]: configure once, reconfigure afterwards
# (so that changed options and meson.build files are picked up), then build.
setup_tree() {
    local dir=$1
    shift
    if [ -f "$dir/meson-private/coredata.dat" ]; then
        meson setup --reconfigure "$@" "$dir" "$repo"
    else
        meson setup "$@" "$dir" "$repo"
    fi
    say "building in $dir"
    ninja -C "$dir"
}

build() {
    install_missing
    say "configuring $build_dir"
    setup_tree "$build_dir"
}

demo() {
    build
    local broker=$build_dir/broker/expert-broker
    local capture=$build_dir/tools/sample.pcap
    local results=$build_dir/demo.jsonl
    local args=() expert
    for expert in "$build_dir"/experts/*.so; do
        args+=(-e "$expert")
    done
    [ ${#args[@]} -gt 0 ] || die "no sample experts were built in $build_dir/experts"

    say "the sample experts on $capture"
    "$broker" list "$build_dir"/experts/*.so
    say "running them (the table is on stderr, the JSON Lines go to $results)"
    "$broker" run -r "$capture" "${args[@]}" -o "$results"
    say "first records of $results"
    head -n 3 "$results"

    say "isolation: the same run with an expert that crashes after three events"
    local status=0
    "$broker" run -r "$capture" "${args[@]}" \
        -e "$build_dir/tests/crash_after_events.so" -e "$build_dir/tests/counter.so" \
        -o "$build_dir/demo-crash.jsonl" || status=$?
    [ "$status" -eq 1 ] || die "expected exit status 1 (an expert crashed), got $status"
    say "exit status $status: one expert crashed, every other one finished; its outcome:"
    grep '"outcome":"crashed"' "$build_dir/demo-crash.jsonl"
    say "done; see README.md and docs/expert-broker.1 (man -l docs/expert-broker.1)"
}

run_tests() {
    build
    say "running the test suite in $build_dir"
    meson test -C "$build_dir" --print-errorlogs

    say "configuring $asan_dir with AddressSanitizer and UndefinedBehaviorSanitizer"
    setup_tree "$asan_dir" -Db_sanitize=address,undefined
    say "running the test suite in $asan_dir"
    # Sanitized processes start and end slower; the time limits of the
    # tests are for hangs, not for measuring, so give them room.
    meson test -C "$asan_dir" --print-errorlogs --timeout-multiplier 3
    say "all tests passed, with and without sanitizers"
}

bench() {
    install_missing "${bench_packages[@]}"
    say "configuring $bench_dir (release)"
    setup_tree "$bench_dir" -Dbuildtype=release
    say "running tools/bench $*"
    "$bench_dir/tools/bench/bench" "$@"
}

case "${1:-}" in
    demo) demo ;;
    test) run_tests ;;
    build) build ;;
    bench)
        shift
        bench "$@"
        ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
