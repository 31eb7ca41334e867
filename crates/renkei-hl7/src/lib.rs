//! HL7 v2.5 (JAHIS) messages and SS-MIX2 standardized storage, from raw bytes to values.
//!
//! The steps, each in its own module:
//! 1. [`decode()`] reads the character set from MSH-18 in the raw bytes and decodes the whole
//!    message to Unicode (ISO-2022-JP or UTF-8) *before* any splitting, because JIS X 0208
//!    characters contain delimiter bytes.
//! 2. [`Message::parse`] tokenizes the decoded text without copying: segments, fields,
//!    repetitions, components, subcomponents, each with its byte offset and [`Location`].
//! 3. [`escape`] decodes HL7 escape sequences in a value (and encodes them for writing).
//! 4. [`Dtm`] parses HL7 timestamps leniently, keeping their precision.
//! 5. [`ssmix2`] parses storage file names and walks a storage, checking names against folders.
//! 6. [`jahis`] maps a message to FHIR R4 resources (JP Core) and the index columns of a record.
//!
//! ```
//! let raw = b"MSH|^~\\&|HIS|SEND|GW|RCV|20111220224447||ADT^A08^ADT_A01|1|P|2.5\rPID|1||9999013^^^^PI\r";
//! let decoded = renkei_hl7::decode(raw)?;
//! let message = renkei_hl7::Message::parse(&decoded.text)?;
//! assert_eq!(message.message_type()?, ("ADT", "A08"));
//! let pid3 = message.required_segment("PID")?.required(3)?;
//! assert_eq!(pid3.component(1).map(|c| c.as_str()), Some("9999013"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! No async, no network, no database. The only I/O is [`ssmix2::walk`] listing folders (and
//! [`ssmix2::StoredFile::read`] when asked). Error messages never contain message content or
//! patient IDs: they name offsets, segments, field numbers and folder levels.

pub mod decode;
pub mod escape;
pub mod jahis;
pub mod message;
pub mod ssmix2;
pub mod time;

pub use decode::{Charset, DecodeError, Decoded, decode};
pub use message::{
    Component, Delimiters, Field, Location, Message, MessageError, Repetition, Segment,
    SegmentName, Subcomponent,
};
pub use time::{Dtm, DtmError, Precision};
