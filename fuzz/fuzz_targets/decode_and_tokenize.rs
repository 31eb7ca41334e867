//! Raw bytes from a facility → charset decoding → tokenizing → every value at every level,
//! unescaped. Nothing may panic, and every offset must point at its value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renkei_hl7::{Message, decode};

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = decode(data) else {
        return;
    };
    let Ok(message) = Message::parse(&decoded.text) else {
        return;
    };
    let text = message.text();
    let _ = message.message_type();
    let _ = message.control_id();
    let _ = message.version();
    for segment in message.iter() {
        for field in segment.fields() {
            let _ = field.unescaped();
            for repetition in field.repetitions() {
                let _ = repetition.unescaped();
                for component in repetition.components() {
                    let _ = component.unescaped();
                    for sub in component.subcomponents() {
                        let value = sub.as_str();
                        assert_eq!(text.get(sub.offset()..sub.offset() + value.len()), Some(value));
                        let _ = sub.unescaped();
                        let _ = sub.location().to_string();
                    }
                }
            }
        }
    }
});
