//! Any bytes a client sends as a text frame: the parser answers a frame or a reason,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(malformed) = palaver::chat::protocol::parse(text) {
            assert!(!malformed.message.is_empty());
        }
    }
});
