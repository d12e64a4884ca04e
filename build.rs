//! Link settings for the C library: the soname that binaries built against libzmq record.

fn main() {
    // Programs linked against libzmq record `libzmq.so.5`; ours must answer to the same name.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libzmq.so.5");
    println!("cargo:rerun-if-changed=build.rs");
}
