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
