#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| zmq::fuzz::frame_decoder(data));
