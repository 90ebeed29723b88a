#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kontingent_fuzz::journal_holes(data));
