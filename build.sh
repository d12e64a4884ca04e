#!/usr/bin/env bash
# Builds the library (release), installs it to ./build/prefix through CMake, then builds and runs
# the C examples against that install through pkg-config.
set -eu
cd "$(dirname "$0")"
. capi-tests/lib.sh
zmqrs_need cmake pkg-config gcc make binutils

prefix="$PWD/build/prefix"
echo "== cargo build --release"
cargo build --release
echo "== cmake install to $prefix"
cmake -S . -B build/cmake -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build build/cmake
cmake --install build/cmake
echo "== c-examples (pkg-config, PKG_CONFIG_PATH=$prefix/lib/pkgconfig)"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
make -C c-examples -s clean
make -C c-examples all
for b in c-examples/bin/*; do zmqrs_check_ours "$b" "$prefix/lib"; done
make -C c-examples -s run
# The draft API (thread-safe sockets, zmq_poller, RADIO/DISH, ...): the same install with
# cmake -DENABLE_DRAFTS=ON, into a prefix of its own, and its examples against it.
dprefix="$PWD/build/prefix-draft"
echo "== cmake install with the draft API to $dprefix"
cmake -S . -B build/cmake-draft -DENABLE_DRAFTS=ON -DCMAKE_INSTALL_PREFIX="$dprefix" >/dev/null
cmake --build build/cmake-draft
cmake --install build/cmake-draft
export PKG_CONFIG_PATH="$dprefix/lib/pkgconfig"
make -C c-examples -s clean
make -C c-examples DRAFT=1 all
for b in c-examples/bin/*; do zmqrs_check_ours "$b" "$dprefix/lib"; done
make -C c-examples -s DRAFT=1 run
echo "build.sh: done; the library is installed in $prefix (with the draft API: $dprefix)"
