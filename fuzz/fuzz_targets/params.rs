//! `cargo fuzz run params`: see pytestd_fuzz::params for what it feeds and what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pytestd_fuzz::params(data));
