#![no_main]
// See release_audit::fuzzing::image_record for what is fed and what is checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| release_audit::fuzzing::image_record(data));
