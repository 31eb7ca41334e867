//! Does a message agree with the storage it came from?
//!
//! The walk checks names against folders; this checks the message inside against its name.
//! In the sample storage, 10 of 19 messages name another patient in PID-3 than their folder.
//! What to do about it is the ingest pipeline's decision; this module only finds the
//! disagreements so that none goes unnoticed.

use crate::message::Message;

use super::file_name::FileName;

/// One way a message contradicts its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ContentMismatch {
    /// The message has no PID segment.
    #[error("message has no PID segment")]
    MissingPid,
    /// No repetition of PID-3 has the file name's patient ID as its ID number (PID-3.1,
    /// compared exactly after unescaping).
    #[error("no identifier in PID-3 equals the patient ID of the file name")]
    PatientId,
    /// MSH-9.1 or MSH-9.2 is empty.
    #[error("MSH-9 message type is missing")]
    MissingMessageType,
    /// MSH-9.1 is not the message code of the file's data kind.
    #[error("MSH-9.1 message code does not match the data kind of the file name")]
    MessageCode,
    /// MSH-9.2 is not among the trigger events of the file's data kind. Kept apart from
    /// [`ContentMismatch::MessageCode`] so a caller can treat it as a warning.
    #[error("MSH-9.2 trigger event is not one used by the data kind of the file name")]
    TriggerEvent,
}

/// Every disagreement between `message` and the file `name` it was stored under; empty when
/// they agree. A [`DataKind::Other`](super::DataKind::Other) kind is not checked for message
/// type, since its expected type is unknown.
#[must_use]
pub fn check_message(message: &Message<'_>, name: &FileName) -> Vec<ContentMismatch> {
    let mut found = Vec::new();
    match message.segment("PID") {
        None => found.push(ContentMismatch::MissingPid),
        Some(pid) => {
            let names_the_patient = pid.field(3).is_some_and(|pid3| {
                pid3.repetitions().any(|r| {
                    r.component(1)
                        .is_some_and(|id| id.unescaped() == name.patient_id())
                })
            });
            if !names_the_patient {
                found.push(ContentMismatch::PatientId);
            }
        }
    }
    let kind = name.kind();
    match (message.message_type(), kind.message_code()) {
        (Err(_), _) => found.push(ContentMismatch::MissingMessageType),
        (Ok(_), None) => {}
        (Ok((code, trigger)), Some(expected)) => {
            if code != expected {
                found.push(ContentMismatch::MessageCode);
            } else if !kind.triggers().contains(&trigger) {
                found.push(ContentMismatch::TriggerEvent);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> FileName {
        FileName::parse(text).unwrap()
    }

    #[test]
    fn agreeing_message_has_no_mismatch() {
        let msg =
            Message::parse("MSH|^~\\&|||||||ADT^A08|1|P|2.5\rPID|1||X~9999013^^^^PI\r").unwrap();
        let n = name("9999013_-_ADT-00_999999999999999_20111220224447339_-_1");
        assert!(check_message(&msg, &n).is_empty());
    }

    #[test]
    fn other_patient_and_wrong_type_are_reported() {
        let msg =
            Message::parse("MSH|^~\\&|||||||RDE^O11|1|P|2.5\rPID|1||12345678^^^^PI\r").unwrap();
        let n = name("9999013_-_ADT-00_999999999999999_20111220224447339_-_1");
        assert_eq!(
            check_message(&msg, &n),
            [ContentMismatch::PatientId, ContentMismatch::MessageCode]
        );
        let msg = Message::parse("MSH|^~\\&|||||||ADT^A01|1|P|2.5\r").unwrap();
        assert_eq!(
            check_message(&msg, &n),
            [ContentMismatch::MissingPid, ContentMismatch::TriggerEvent]
        );
        let msg = Message::parse("MSH|^~\\&|||||||ADT|1|P|2.5\rPID|1\r").unwrap();
        assert_eq!(
            check_message(&msg, &n),
            [
                ContentMismatch::PatientId,
                ContentMismatch::MissingMessageType
            ]
        );
    }
}
