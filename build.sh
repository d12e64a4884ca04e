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
echo "build.sh: done; the library is installed in $prefix"
