# Shared helpers for the scripts in capi-tests/, bench/ and the top level. Source it, don't run it.
#
#   ZMQRS_ROOT            the repository root
#   zmqrs_need PKG...     apt-get install the Debian packages that are not installed yet
#   zmqrs_stage_lib DIR   DIR/libzmq.so.5 and DIR/libzmq.so -> target/release/libzmq.so
#                         (binaries record the soname libzmq.so.5, so the rpath directory must hold
#                         that name, or the loader silently falls back to the system's libzmq)
#   zmqrs_check_ours BIN DIR   fails unless ldd resolves BIN's libzmq.so.5 inside DIR
#   ZMQRS_NIGHTLY         the nightly toolchain of the fuzzing, sanitizer and Miri steps; pinned,
#                         since a new nightly may change the -Z flags they use: move it on purpose
#   zmqrs_nightly [COMPONENT...]   installs that toolchain (and components) when missing
#   zmqrs_reference_source     prints the directory of Debian's libzmq source (zeromq3, 4.3.4), fetched
#                         into ${ZMQ_REF_CACHE:-/var/cache/zmq-rs-reference} when missing (a deb-src
#                         entry is derived from the binary ones when the machine has none)
#   zmqrs_libzmq_draft    prints the prefix of that libzmq built with its draft API (lib/, include/),
#                         built once into the same cache: a test peer and a benchmark baseline only

ZMQRS_ROOT=${ZMQRS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
ZMQRS_LIB=${ZMQRS_LIB:-"$ZMQRS_ROOT/target/release/libzmq.so"}

ZMQRS_NIGHTLY=${ZMQRS_NIGHTLY:-nightly-2026-10-30}

zmqrs_log() { printf '%s\n' "$*" >&2; }

zmqrs_sudo() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

_zmqrs_apt_updated=
zmqrs_need() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    zmqrs_log "installing Debian packages: ${missing[*]}"
    if [ -z "$_zmqrs_apt_updated" ]; then
        zmqrs_sudo apt-get update -qq || return 1
        _zmqrs_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive zmqrs_sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null || return 1
}

zmqrs_stage_lib() {
    local dir=$1
    mkdir -p "$dir"
    ln -sfn "$ZMQRS_LIB" "$dir/libzmq.so.5"
    ln -sfn "$ZMQRS_LIB" "$dir/libzmq.so"
}

zmqrs_check_ours() {
    local bin=$1 dir=$2 line
    line=$(env -u LD_LIBRARY_PATH -u LD_PRELOAD ldd "$bin" 2>/dev/null | grep 'libzmq\.so') || {
        zmqrs_log "$bin: does not link libzmq at all"
        return 1
    }
    case "$line" in
    *"=> $dir/libzmq.so"*) return 0 ;;
    esac
    zmqrs_log "$bin: loads the wrong libzmq: $line (expected one in $dir)"
    return 1
}

zmqrs_nightly() {
    rustup run "$ZMQRS_NIGHTLY" rustc --version >/dev/null 2>&1 ||
        rustup toolchain install "$ZMQRS_NIGHTLY" --profile minimal || return 1
    local c
    for c in "$@"; do
        rustup component list --toolchain "$ZMQRS_NIGHTLY" --installed | grep -q "^$c" ||
            rustup component add "$c" --toolchain "$ZMQRS_NIGHTLY" || return 1
    done
}

zmqrs_reference_source() {
    local cache=${ZMQ_REF_CACHE:-/var/cache/zmq-rs-reference} src src_list
    local -
    set +f
    mkdir -p "$cache"
    src=$(ls -d "$cache"/zeromq3-4.3.*/ 2>/dev/null | head -n1)
    src=${src%/}
    if [ -z "$src" ] || [ ! -f "$src/tests/testutil.cpp" ]; then
        zmqrs_log "fetching Debian source package zeromq3 into $cache"
        zmqrs_need dpkg-dev || return 1
        if ! (cd "$cache" && apt-get source --print-uris zeromq3 >/dev/null 2>&1); then
            # No deb-src entry on this machine: derive one from the binary entries.
            src_list=/etc/apt/sources.list.d/debian.sources
            if [ -f "$src_list" ]; then
                sed -e 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' "$src_list" |
                    zmqrs_sudo tee /etc/apt/sources.list.d/zmq-rs-deb-src.sources >/dev/null
            elif [ -f /etc/apt/sources.list ]; then
                sed -n -e 's/^deb /deb-src /p' /etc/apt/sources.list |
                    zmqrs_sudo tee /etc/apt/sources.list.d/zmq-rs-deb-src.list >/dev/null
            fi
            zmqrs_sudo apt-get update -qq || { zmqrs_log "apt-get update failed"; return 1; }
        fi
        (cd "$cache" && apt-get source -qq zeromq3 >"$cache/apt-source.log" 2>&1) || {
            zmqrs_log "apt-get source zeromq3 failed, see $cache/apt-source.log"
            return 1
        }
        src=$(ls -d "$cache"/zeromq3-4.3.*/ 2>/dev/null | head -n1)
        src=${src%/}
        [ -f "$src/tests/testutil.cpp" ] || { zmqrs_log "libzmq source not found in $cache"; return 1; }
    fi
    printf '%s\n' "$src"
}

zmqrs_libzmq_draft() {
    local cache=${ZMQ_REF_CACHE:-/var/cache/zmq-rs-reference} src prefix build
    src=$(zmqrs_reference_source) || return 1
    prefix="$cache/libzmq-draft"
    if [ ! -f "$prefix/lib/libzmq.so.5" ] || [ ! -f "$prefix/include/zmq.h" ]; then
        zmqrs_need cmake g++ make >/dev/null || return 1
        zmqrs_log "building libzmq $(basename "$src") with its draft API into $prefix"
        build="$cache/libzmq-draft-build"
        rm -rf "$build" "$prefix"
        # Without CURVE (no libsodium needed) and without its tests: a peer and a baseline.
        cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DENABLE_DRAFTS=ON \
            -DENABLE_CURVE=OFF -DWITH_LIBSODIUM=OFF -DBUILD_TESTS=OFF -DWITH_DOCS=OFF \
            -DBUILD_STATIC=OFF -DWITH_PERF_TOOL=OFF -DCMAKE_INSTALL_PREFIX="$prefix" \
            -DCMAKE_INSTALL_LIBDIR=lib >"$cache/libzmq-draft-build.log" 2>&1 &&
            cmake --build "$build" -j "$(nproc)" >>"$cache/libzmq-draft-build.log" 2>&1 &&
            cmake --install "$build" >>"$cache/libzmq-draft-build.log" 2>&1 || {
            zmqrs_log "building libzmq with drafts failed, see $cache/libzmq-draft-build.log"
            return 1
        }
        rm -rf "$build"
    fi
    printf '%s\n' "$prefix"
}
