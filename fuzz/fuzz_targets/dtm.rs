//! HL7 timestamps from outside: parsing and formatting must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use renkei_hl7::Dtm;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(dtm) = Dtm::parse(text) {
        let _ = dtm.to_string();
        let _ = dtm.start();
        let _ = dtm.date_time();
    }
});
