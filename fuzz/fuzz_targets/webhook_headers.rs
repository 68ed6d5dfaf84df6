#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| orderflow_fuzz::checks::webhook_headers(data));
