//! `cargo fuzz run framing`: see pytestd_fuzz::framing for what it feeds and what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pytestd_fuzz::framing(data));
