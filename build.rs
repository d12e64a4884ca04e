//! Link settings for the C library: the soname that binaries built against libzmq record.
//! Also sets the `zmq_draft_api` cfg (see below).

fn main() {
    // Programs linked against libzmq record `libzmq.so.5`; ours must answer to the same name.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libzmq.so.5");
    // `zmq_draft_api` marks items that belong to the draft part of the C API but that the core
    // uses in every build (constants, `zmq_poller_event_t`). It is always on for Rust; its only
    // effect is on cbindgen, which maps it to `#ifdef ZMQ_BUILD_DRAFT_API` in `include/zmq.h`.
    // (Draft *functions* are exported only with the `draft` feature, which cbindgen maps the same.)
    println!("cargo::rustc-check-cfg=cfg(zmq_draft_api)");
    println!("cargo::rustc-cfg=zmq_draft_api");
    println!("cargo:rerun-if-changed=build.rs");
}
