#![no_main]
// See release_audit::fuzzing::www_authenticate for what is fed and what is checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| release_audit::fuzzing::www_authenticate(data));
