#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| orderflow_fuzz::checks::order_id_skim(data));
