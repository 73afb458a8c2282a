//! `cargo fuzz run plugin_lines`: see pytestd_fuzz::plugin_lines for what it feeds and what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pytestd_fuzz::plugin_lines(data));
