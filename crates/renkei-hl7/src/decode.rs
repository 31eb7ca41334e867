//! Turning the raw bytes of one HL7 v2 message into Unicode text.
//!
//! The character set is read from MSH-18 in the raw bytes *before* anything is split on HL7
//! delimiters: in ISO-2022-JP, 582 JIS X 0208 characters have a byte equal to `| ^ ~ \ &`
//! (剤 is `0x3A 0x5E`, 糖 is `0x45 0x7C`), so tokenizing the bytes first would cut names and
//! drug names in half. [`decode`] returns the whole message as a `String`; the tokenizer in
//! [`crate::message`] then works on that text only.
//!
//! Decisions:
//! - The declaration governs; nothing is guessed from the content. A message that contains
//!   ISO-2022 escape sequences but does not declare `ISO IR87` is an error, not a sniffing
//!   opportunity, because a wrong guess files garbled names.
//! - No absent MSH-18 and the values `ISO IR6`/`ASCII`/`UNICODE UTF-8` are all read as strict
//!   UTF-8 (ASCII is a subset). Invalid UTF-8 is an error with its byte offset.
//! - `ESC ( J` (JIS X 0201 Roman) is read like `ESC ( B` (ASCII): WHATWG decoding would turn
//!   `\` and `~` into `¥` and `‾` there, which would hide the HL7 escape and repetition
//!   characters. Japanese senders use `ESC ( J` to mean "back to single bytes".
//! - An escape sequence directly followed by another (an empty run, e.g. `ESC $ B ESC ( B`) is
//!   legal ISO-2022-JP but rejected by the WHATWG decoder; the first of the two has no effect,
//!   so it is dropped before decoding.
//! - JIS X 0208 is mapped to Unicode as WHATWG (and Windows) do: 0x2141 → U+FF5E `～`,
//!   0x215D → U+FF0D `－`, 0x2142 → U+2225 `∥`, not the JIS-standard U+301C, U+2212, U+2016
//!   that iconv gives. Text is kept exactly as decoded; matching across the two conventions is a
//!   search-time concern, never a rewrite of the record.
//! - Undecodable bytes are never replaced by U+FFFD: the caller gets the byte offset and can
//!   quarantine the message with its original bytes.

use std::borrow::Cow;

use encoding_rs::{DecoderResult, ISO_2022_JP};

const ESC: u8 = 0x1B;
/// MLLP start-of-block; tolerated before `MSH` so framed input can be passed as it is.
const MLLP_START: u8 = 0x0B;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The character set a message was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// ASCII or UTF-8: MSH-18 empty, absent, `ISO IR6`, `ASCII` or `UNICODE UTF-8`.
    Utf8,
    /// ISO-2022-JP (JIS X 0208 via `ESC $ B`): MSH-18 contains `ISO IR87` (JAHIS).
    Iso2022Jp,
}

/// A message decoded to Unicode, ready for [`crate::Message::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The character set declared in MSH-18 and used for decoding.
    pub charset: Charset,
    /// The whole message as text (a leading UTF-8 byte order mark is dropped; MLLP framing and
    /// segment terminators are kept).
    pub text: String,
}

/// Why raw bytes could not be decoded. Offsets are byte offsets into the raw input; no variant's
/// message contains message content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input does not begin with `MSH` (after optional MLLP framing or a byte order mark).
    #[error("input does not start with an MSH segment")]
    NoMshSegment,
    /// The byte after `MSH` is not a usable field separator.
    #[error("MSH segment has no valid field separator at byte {offset}")]
    InvalidFieldSeparator {
        /// Byte offset of the bad separator (or of the end of input).
        offset: usize,
    },
    /// MSH-18 names a character set this crate cannot decode. `declared` holds MSH-18 as sent
    /// (ASCII, lossily converted) for diagnostics; it is deliberately not part of the message.
    #[error("MSH-18 declares an unsupported character set")]
    UnsupportedCharset {
        /// MSH-18 as sent.
        declared: String,
    },
    /// ISO-2022 escape sequences appear but MSH-18 does not declare `ISO IR87`.
    #[error("escape sequence at byte {offset} but MSH-18 does not declare ISO IR87")]
    UndeclaredEscapeSequence {
        /// Byte offset of the ESC byte.
        offset: usize,
    },
    /// The message is declared ASCII/UTF-8 but is not valid UTF-8.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The message is declared ISO-2022-JP but contains a byte sequence that is not valid
    /// ISO-2022-JP (unknown escape sequence, a byte outside the current character set, a
    /// truncated two-byte character, an unassigned JIS X 0208 code point, ...).
    #[error("malformed ISO-2022-JP at byte {offset}")]
    MalformedIso2022Jp {
        /// Byte offset of the first malformed byte.
        offset: usize,
    },
    /// JIS X 0212 (`ESC $ ( D`, `ISO IR159`, 補助漢字) is not supported by the decoder.
    #[error("JIS X 0212 (ISO IR159) at byte {offset} is not supported")]
    UnsupportedJisX0212 {
        /// Byte offset of the escape sequence.
        offset: usize,
    },
}

impl DecodeError {
    /// The byte offset in the raw input the error points at, if it has one.
    #[must_use]
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::InvalidFieldSeparator { offset }
            | Self::UndeclaredEscapeSequence { offset }
            | Self::InvalidUtf8 { offset }
            | Self::MalformedIso2022Jp { offset }
            | Self::UnsupportedJisX0212 { offset } => Some(*offset),
            Self::NoMshSegment | Self::UnsupportedCharset { .. } => None,
        }
    }
}

/// Decode one raw HL7 message to Unicode using the character set declared in its MSH-18.
///
/// # Errors
/// See [`DecodeError`]: no MSH, unsupported or contradicted declaration, undecodable bytes.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let charset = declared_charset(bytes)?;
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let base = bytes.len() - body.len();
    let text = match charset {
        Charset::Utf8 => decode_utf8(body).map_err(|e| e.shifted(base))?,
        Charset::Iso2022Jp => decode_iso_2022_jp(body).map_err(|e| e.shifted(base))?,
    };
    Ok(Decoded { charset, text })
}

/// Read MSH-18 from the raw bytes and decide the character set, without decoding anything.
///
/// The MSH segment is scanned byte by byte; bytes inside a two-byte (or half-width katakana)
/// run are not counted as delimiters, so a kanji value in MSH-13 or MSH-17 cannot shift the
/// field count.
///
/// # Errors
/// [`DecodeError::NoMshSegment`], [`DecodeError::InvalidFieldSeparator`],
/// [`DecodeError::UnsupportedCharset`].
pub fn declared_charset(bytes: &[u8]) -> Result<Charset, DecodeError> {
    let start = skip_framing(bytes);
    let msh = bytes.get(start..).unwrap_or_default();
    if !msh.starts_with(b"MSH") {
        return Err(DecodeError::NoMshSegment);
    }
    let sep_offset = start + 3;
    let field_sep = match msh.get(3) {
        Some(&b) if is_delimiter_byte(b) => b,
        _ => {
            return Err(DecodeError::InvalidFieldSeparator { offset: sep_offset });
        }
    };
    let fields = msh_fields(msh.get(4..).unwrap_or_default(), field_sep);
    // fields[0] is MSH-2, so MSH-n is fields[n - 2].
    let repetition_sep = fields.first().and_then(|msh2| msh2.get(1)).copied();
    let msh18 = fields.get(16).copied().unwrap_or_default();
    charset_from_msh18(msh18, repetition_sep)
}

/// Index of the first byte of `MSH`, skipping a UTF-8 byte order mark, MLLP start-of-block
/// and stray line ends that some senders put before the first segment.
fn skip_framing(bytes: &[u8]) -> usize {
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let skipped = body
        .iter()
        .take_while(|&&b| b == MLLP_START || b == b'\r' || b == b'\n')
        .count();
    bytes.len() - body.len() + skipped
}

/// HL7 requires delimiters to be printable ASCII that cannot occur in codes.
pub(crate) fn is_delimiter_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b.is_ascii_alphanumeric()
}

/// Split the raw MSH segment (after MSH-1) into fields, honouring ISO-2022-JP shift state.
fn msh_fields(rest: &[u8], field_sep: u8) -> Vec<&[u8]> {
    let mut fields = Vec::new();
    let mut field_start = 0;
    let mut single_byte = true;
    let mut i = 0;
    while let Some(&b) = rest.get(i) {
        if b == b'\r' || b == b'\n' {
            break;
        }
        if b == ESC {
            match (rest.get(i + 1), rest.get(i + 2)) {
                (Some(b'('), Some(b'B' | b'J')) => single_byte = true,
                (Some(b'('), Some(_)) | (Some(b'$'), Some(_)) => single_byte = false,
                _ => {}
            }
        } else if single_byte && b == field_sep {
            fields.push(rest.get(field_start..i).unwrap_or_default());
            field_start = i + 1;
        }
        i += 1;
    }
    fields.push(rest.get(field_start..i).unwrap_or_default());
    fields
}

fn charset_from_msh18(msh18: &[u8], repetition_sep: Option<u8>) -> Result<Charset, DecodeError> {
    let unsupported = || DecodeError::UnsupportedCharset {
        declared: String::from_utf8_lossy(msh18).into_owned(),
    };
    let mut jis = false;
    let mut utf8 = false;
    let parts: Vec<&[u8]> = match repetition_sep {
        Some(rep) => msh18.split(|&b| b == rep).collect(),
        None => vec![msh18],
    };
    for part in parts {
        if !part.is_ascii() {
            return Err(unsupported());
        }
        // Senders spell the same term `ISO IR87`, `ISOIR87`, `ISO_IR 87`, `iso-ir87`.
        let name: String = part
            .iter()
            .filter(|b| !matches!(b, b' ' | b'_' | b'-'))
            .map(|b| char::from(b.to_ascii_uppercase()))
            .collect();
        match name.as_str() {
            "" | "ASCII" | "ISOIR6" | "USASCII" => {}
            // IR13/IR14 are the JIS X 0201 halves, which the ISO-2022-JP decoder also handles;
            // IR159 (JIS X 0212) is accepted here and reported precisely if it is used.
            "ISOIR87" | "ISOIR13" | "ISOIR14" | "ISOIR159" | "ISO2022JP" => jis = true,
            "UNICODEUTF8" | "UTF8" => utf8 = true,
            _ => return Err(unsupported()),
        }
    }
    match (jis, utf8) {
        (true, true) => Err(unsupported()),
        (true, false) => Ok(Charset::Iso2022Jp),
        (false, _) => Ok(Charset::Utf8),
    }
}

fn decode_utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    if let Some(offset) = bytes.iter().position(|&b| b == ESC) {
        return Err(DecodeError::UndeclaredEscapeSequence { offset });
    }
    Ok(text.to_owned())
}

/// Is there a designation that the WHATWG ISO-2022-JP decoder knows at `i`?
fn designation_at(bytes: &[u8], i: usize) -> bool {
    matches!(
        (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2)),
        (Some(&ESC), Some(b'('), Some(b'B' | b'J' | b'I'))
            | (Some(&ESC), Some(b'$'), Some(b'@' | b'B'))
    )
}

/// Input normalised for the WHATWG decoder, with what is needed to map offsets back.
struct Normalized<'b> {
    bytes: Cow<'b, [u8]>,
    /// Positions in `bytes` at which 3 original bytes were dropped, ascending.
    dropped_at: Vec<usize>,
}

impl Normalized<'_> {
    fn original_offset(&self, offset: usize) -> usize {
        offset + 3 * self.dropped_at.iter().take_while(|&&p| p <= offset).count()
    }
}

/// Rewrite `ESC ( J` to `ESC ( B` and drop designations immediately followed by another
/// designation (see the module docs for why). Borrows when nothing needs changing.
fn normalize_iso_2022_jp(bytes: &[u8]) -> Normalized<'_> {
    let needs_work = bytes.windows(3).any(|w| w == b"\x1b(J")
        || (0..bytes.len()).any(|i| designation_at(bytes, i) && designation_at(bytes, i + 3));
    if !needs_work {
        return Normalized {
            bytes: Cow::Borrowed(bytes),
            dropped_at: Vec::new(),
        };
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut dropped_at = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if designation_at(bytes, i) {
            if designation_at(bytes, i + 3) {
                dropped_at.push(out.len());
            } else if bytes.get(i + 1..i + 3) == Some(b"(J") {
                out.extend_from_slice(b"\x1b(B");
            } else {
                out.extend_from_slice(bytes.get(i..i + 3).unwrap_or_default());
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Normalized {
        bytes: Cow::Owned(out),
        dropped_at,
    }
}

fn decode_iso_2022_jp(raw: &[u8]) -> Result<String, DecodeError> {
    let normalized = normalize_iso_2022_jp(raw);
    let src: &[u8] = &normalized.bytes;
    let mut decoder = ISO_2022_JP.new_decoder_without_bom_handling();
    let mut text = String::new();
    let mut consumed = 0;
    loop {
        let rest = src.get(consumed..).unwrap_or_default();
        let bound = decoder.max_utf8_buffer_length_without_replacement(rest.len());
        text.reserve(
            bound
                .unwrap_or_else(|| rest.len().saturating_mul(3))
                .saturating_add(16),
        );
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut text, true);
        match result {
            DecoderResult::InputEmpty => return Ok(text),
            DecoderResult::OutputFull => consumed += read,
            DecoderResult::Malformed(bad, after) => {
                // `read` ends `after` bytes past the malformed sequence of `bad` bytes.
                let offset = (consumed + read)
                    .saturating_sub(usize::from(after))
                    .saturating_sub(usize::from(bad));
                let original = normalized.original_offset(offset);
                return Err(malformed_error(raw, original));
            }
        }
    }
}

/// Name the JIS X 0212 case precisely: it is a known gap, not garbage.
fn malformed_error(raw: &[u8], offset: usize) -> DecodeError {
    // The malformed byte may be inside the 4-byte `ESC $ ( D` sequence.
    let lookback = offset.saturating_sub(3)..=offset;
    for start in lookback {
        if raw.get(start..start + 4) == Some(b"\x1b$(D") {
            return DecodeError::UnsupportedJisX0212 { offset: start };
        }
    }
    DecodeError::MalformedIso2022Jp { offset }
}

impl DecodeError {
    /// Shift an offset computed on a slice to the offset in the whole input.
    fn shifted(self, base: usize) -> Self {
        match self {
            Self::InvalidFieldSeparator { offset } => Self::InvalidFieldSeparator {
                offset: offset + base,
            },
            Self::UndeclaredEscapeSequence { offset } => Self::UndeclaredEscapeSequence {
                offset: offset + base,
            },
            Self::InvalidUtf8 { offset } => Self::InvalidUtf8 {
                offset: offset + base,
            },
            Self::MalformedIso2022Jp { offset } => Self::MalformedIso2022Jp {
                offset: offset + base,
            },
            Self::UnsupportedJisX0212 { offset } => Self::UnsupportedJisX0212 {
                offset: offset + base,
            },
            other @ (Self::NoMshSegment | Self::UnsupportedCharset { .. }) => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jis(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = ISO_2022_JP.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    const JIS_MSH: &str = "MSH|^~\\&|A|B|C|D|20240101||ADT^A08^ADT_A01|1|P|2.5||||||~ISO IR87\r";

    #[test]
    fn msh18_spellings_all_select_iso_2022_jp() {
        for msh18 in [
            "~ISO IR87",
            "~ISOIR87",
            "ISO IR87",
            "ISO IR6~ISO IR87",
            "~iso_ir 87",
        ] {
            let raw = format!("MSH|^~\\&|||||||ADT^A08|1|P|2.5||||||{msh18}|\r");
            assert_eq!(
                declared_charset(raw.as_bytes()),
                Ok(Charset::Iso2022Jp),
                "{msh18}"
            );
        }
    }

    #[test]
    fn absent_or_ascii_msh18_means_utf8() {
        for raw in [
            "MSH|^~\\&|||||||ADT^A08|1|P|2.5\r",
            "MSH|^~\\&|||||||ADT^A08|1|P|2.5||||||\r",
            "MSH|^~\\&|||||||ADT^A08|1|P|2.5||||||ISO IR6\r",
            "MSH|^~\\&|||||||ADT^A08|1|P|2.5||||||UNICODE UTF-8\r",
        ] {
            assert_eq!(declared_charset(raw.as_bytes()), Ok(Charset::Utf8), "{raw}");
        }
    }

    #[test]
    fn unknown_charset_is_an_error_without_the_value_in_its_message() {
        let raw = b"MSH|^~\\&|||||||ADT^A08|1|P|2.5||||||8859/1\r";
        let err = declared_charset(raw).unwrap_err();
        assert!(matches!(err, DecodeError::UnsupportedCharset { .. }));
        assert!(!err.to_string().contains("8859"));
    }

    #[test]
    fn kanji_in_msh13_does_not_shift_the_msh18_count() {
        // 剤 is 0x3A 0x5E and 糖 is 0x45 0x7C: a `^` and a `|` inside a two-byte run.
        let raw = jis("MSH|^~\\&|||||||RAS^O17|1|P|2.5|剤糖|||||~ISOIR87|\r");
        assert_eq!(declared_charset(&raw), Ok(Charset::Iso2022Jp));
    }

    #[test]
    fn decodes_jis_and_keeps_delimiter_bytes_inside_characters() {
        let text = format!("{JIS_MSH}PID|1||1||剤^糖\r");
        let decoded = decode(&jis(&text)).unwrap();
        assert_eq!(decoded.charset, Charset::Iso2022Jp);
        assert_eq!(decoded.text, text);
    }

    #[test]
    fn esc_paren_j_reads_backslash_and_tilde_as_ascii() {
        let mut raw = JIS_MSH.as_bytes().to_vec();
        raw.extend_from_slice(b"PID|1||1||\x1b$B45<T\x1b(J~\\E\\\r");
        let decoded = decode(&raw).unwrap();
        assert!(decoded.text.ends_with("PID|1||1||患者~\\E\\\r"));
    }

    #[test]
    fn empty_jis_runs_are_accepted() {
        let mut raw = JIS_MSH.as_bytes().to_vec();
        raw.extend_from_slice(b"PID|1||\x1b$B\x1b(B|\x1b$B45<T\x1b(B\x1b$B45<T\x1b(B\r");
        let decoded = decode(&raw).unwrap();
        assert!(
            decoded.text.ends_with("PID|1|||患者患者\r"),
            "{}",
            decoded.text
        );
    }

    #[test]
    fn malformed_jis_reports_the_offset_of_the_bad_byte() {
        let mut raw = JIS_MSH.as_bytes().to_vec();
        let bad_at = raw.len() + 4;
        raw.extend_from_slice(b"PID|\x80|\r");
        assert_eq!(
            decode(&raw),
            Err(DecodeError::MalformedIso2022Jp { offset: bad_at })
        );
    }

    #[test]
    fn malformed_offset_is_in_original_bytes_after_dropped_escapes() {
        let mut raw = JIS_MSH.as_bytes().to_vec();
        raw.extend_from_slice(b"\x1b$B\x1b(BPID|");
        let bad_at = raw.len();
        raw.extend_from_slice(b"\xff\r");
        assert_eq!(
            decode(&raw),
            Err(DecodeError::MalformedIso2022Jp { offset: bad_at })
        );
    }

    #[test]
    fn jis_x_0212_is_named_in_the_error() {
        let mut raw = JIS_MSH.as_bytes().to_vec();
        let at = raw.len() + 4;
        raw.extend_from_slice(b"PID|\x1b$(D0!\x1b(B\r");
        assert_eq!(
            decode(&raw),
            Err(DecodeError::UnsupportedJisX0212 { offset: at })
        );
    }

    #[test]
    fn escape_sequences_without_declaration_are_rejected() {
        let raw = b"MSH|^~\\&|||||||ADT^A08|1|P|2.5\rPID|\x1b$B4556\x1b(B\r";
        assert_eq!(
            decode(raw),
            Err(DecodeError::UndeclaredEscapeSequence { offset: 35 })
        );
    }

    #[test]
    fn invalid_utf8_reports_offset() {
        let raw = b"MSH|^~\\&|||||||ADT^A08|1|P|2.5\rPID|\x82\xa0\r";
        assert_eq!(decode(raw), Err(DecodeError::InvalidUtf8 { offset: 35 }));
    }

    #[test]
    fn mllp_framing_and_bom_are_tolerated() {
        let raw = b"\xEF\xBB\xBF\x0bMSH|^~\\&|||||||ADT^A08|1|P|2.5\r\x1c\r";
        let decoded = decode(raw).unwrap();
        assert_eq!(decoded.charset, Charset::Utf8);
        assert!(decoded.text.starts_with("\u{b}MSH"));
    }

    #[test]
    fn non_hl7_input_is_rejected() {
        assert_eq!(decode(b"\xfb\xfc"), Err(DecodeError::NoMshSegment));
        assert_eq!(decode(b""), Err(DecodeError::NoMshSegment));
        assert_eq!(
            decode(b"MSH"),
            Err(DecodeError::InvalidFieldSeparator { offset: 3 })
        );
        assert_eq!(
            decode(b"MSHA"),
            Err(DecodeError::InvalidFieldSeparator { offset: 3 })
        );
    }
}
