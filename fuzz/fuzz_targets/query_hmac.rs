#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| orderflow_fuzz::checks::query_hmac(data));
