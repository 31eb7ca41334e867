//! Zero-copy tokenizer for one decoded HL7 v2 message.
//!
//! [`Message::parse`] splits the decoded text (see [`crate::decode()`]) into segments once and
//! keeps borrowed slices; fields, repetitions, components and subcomponents are split lazily
//! when asked for. Every value is a `&'a str` into the message text together with its byte
//! offset and its [`Location`] (segment name and number, field, repetition, component), so a
//! caller can report *where* something is wrong without quoting patient data.
//!
//! Numbering follows HL7: segments, fields, repetitions, components and subcomponents are all
//! 1-based. In `MSH` (and the batch headers `BHS`/`FHS`) MSH-1 is the field separator itself and
//! MSH-2 the encoding characters; both are returned as single literal values, never split.
//!
//! Values are raw: HL7 escapes such as `\S\` are still in them. Call `unescaped()` on the value
//! at the level you read (usually a component or subcomponent) to decode them.
//!
//! Leniency, deliberately: segments may end in `\r` (the standard), `\n` or `\r\n`; blank lines
//! are skipped; MLLP framing (`0x0B` before, `0x1C` after) and a byte order mark are ignored.
//! Segment names must be three characters `[A-Z][A-Z0-9]{2}` so that a stray line of free text
//! is reported rather than silently turned into a segment.

use std::borrow::Cow;
use std::fmt;

use crate::escape;

/// The delimiters declared in MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delimiters {
    /// MSH-1, normally `|`.
    pub field: char,
    /// MSH-2 first character, normally `^`.
    pub component: char,
    /// MSH-2 second character, normally `~`.
    pub repetition: char,
    /// MSH-2 third character, normally `\`.
    pub escape: char,
    /// MSH-2 fourth character, normally `&`.
    pub subcomponent: char,
    /// MSH-2 fifth character (HL7 v2.7+ truncation character, normally `#`), if declared.
    pub truncation: Option<char>,
}

impl Default for Delimiters {
    fn default() -> Self {
        Self {
            field: '|',
            component: '^',
            repetition: '~',
            escape: '\\',
            subcomponent: '&',
            truncation: None,
        }
    }
}

impl Delimiters {
    /// MSH-2 as it would be written: `^~\&` for the defaults.
    #[must_use]
    pub fn encoding_characters(&self) -> String {
        [
            Some(self.component),
            Some(self.repetition),
            Some(self.escape),
            Some(self.subcomponent),
            self.truncation,
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    pub(crate) fn is_delimiter(&self, c: char) -> bool {
        c == self.field
            || c == self.component
            || c == self.repetition
            || c == self.escape
            || c == self.subcomponent
            || Some(c) == self.truncation
    }
}

/// A validated three-character segment name such as `PID` or `ZE1`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SegmentName([u8; 3]);

impl SegmentName {
    /// Accepts `[A-Z][A-Z0-9]{2}`.
    #[must_use]
    pub fn new(name: &str) -> Option<Self> {
        let bytes: [u8; 3] = name.as_bytes().try_into().ok()?;
        let [first, rest @ ..] = bytes;
        (first.is_ascii_uppercase()
            && rest
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
        .then_some(Self(bytes))
    }

    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Always ASCII by construction.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    fn is_header(self) -> bool {
        matches!(&self.0, b"MSH" | b"BHS" | b"FHS")
    }
}

impl fmt::Debug for SegmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_str())
    }
}

impl fmt::Display for SegmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a value sits in a message, in HL7 notation. Carries no message content, so it can go
/// into error messages and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// The segment's name.
    pub segment: SegmentName,
    /// 1-based position of the segment in the message (MSH is 1).
    pub segment_number: usize,
    /// 1-based field number.
    pub field: usize,
    /// 1-based repetition, when the value is (inside) a repetition.
    pub repetition: Option<usize>,
    /// 1-based component, when the value is (inside) a component.
    pub component: Option<usize>,
    /// 1-based subcomponent, when the value is a subcomponent.
    pub subcomponent: Option<usize>,
}

impl fmt::Display for Location {
    /// `PID-3(2).1.1 (segment 2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.segment, self.field)?;
        if let Some(r) = self.repetition {
            write!(f, "({r})")?;
        }
        if let Some(c) = self.component {
            write!(f, ".{c}")?;
        }
        if let Some(s) = self.subcomponent {
            write!(f, ".{s}")?;
        }
        write!(f, " (segment {})", self.segment_number)
    }
}

/// Why a decoded message could not be tokenized, or a required value is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The text does not begin with an `MSH` segment.
    #[error("message does not start with an MSH segment")]
    NoMshSegment,
    /// MSH-1 is missing or not a printable, non-alphanumeric ASCII character.
    #[error("MSH-1 field separator at byte {offset} is invalid")]
    InvalidFieldSeparator {
        /// Byte offset in the message text.
        offset: usize,
    },
    /// MSH-2 is not 4 or 5 distinct printable, non-alphanumeric ASCII characters.
    #[error("MSH-2 encoding characters at byte {offset} are invalid")]
    InvalidEncodingCharacters {
        /// Byte offset in the message text.
        offset: usize,
    },
    /// A segment does not start with a three-character name followed by the field separator.
    #[error("segment {segment} at byte {offset} has no valid segment name")]
    InvalidSegmentName {
        /// 1-based segment number.
        segment: usize,
        /// Byte offset in the message text.
        offset: usize,
    },
    /// A segment the caller requires is absent.
    #[error("required segment {name} is missing")]
    MissingSegment {
        /// The segment's name.
        name: SegmentName,
    },
    /// A value the caller requires is absent or empty.
    #[error("required value {location} is missing or empty")]
    MissingValue {
        /// Where the value should be.
        location: Location,
    },
}

/// One tokenized HL7 v2 message borrowing from its decoded text.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    text: &'a str,
    delimiters: Delimiters,
    segments: Vec<Segment<'a>>,
}

impl<'a> Message<'a> {
    /// Tokenize a decoded message into segments and read its delimiters from MSH-1/MSH-2.
    ///
    /// # Errors
    /// [`MessageError::NoMshSegment`], [`MessageError::InvalidFieldSeparator`],
    /// [`MessageError::InvalidEncodingCharacters`], [`MessageError::InvalidSegmentName`].
    pub fn parse(text: &'a str) -> Result<Self, MessageError> {
        let after_framing = text.trim_start_matches(['\u{b}', '\u{feff}', '\r', '\n']);
        let start = text.len() - after_framing.len();
        let body = after_framing.trim_end_matches(['\u{1c}', '\r', '\n']);
        if !body.starts_with("MSH") {
            return Err(MessageError::NoMshSegment);
        }
        let delimiters = read_delimiters(body, start)?;
        let mut segments = Vec::new();
        for (offset, piece) in Parts::new(body, start, Some('\r')).flat_map(|(offset, line)| {
            // Tolerate `\n` and `\r\n` terminators; the resulting empty pieces are skipped.
            Parts::new(line, offset, Some('\n'))
        }) {
            if piece.bytes().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let number = segments.len() + 1;
            let invalid = MessageError::InvalidSegmentName {
                segment: number,
                offset,
            };
            let name = piece
                .get(..3)
                .and_then(SegmentName::new)
                .ok_or(invalid.clone())?;
            let after_name = piece.get(3..).unwrap_or_default();
            if !(after_name.is_empty() || after_name.starts_with(delimiters.field)) {
                return Err(invalid);
            }
            segments.push(Segment {
                text: piece,
                offset,
                number,
                name,
                delimiters,
                separators: SeparatorIndex::new(piece, delimiters.field),
            });
        }
        Ok(Self {
            text,
            delimiters,
            segments,
        })
    }

    /// The text the message was parsed from.
    #[must_use]
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// The delimiters declared in MSH-1 and MSH-2.
    #[must_use]
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// All segments in order.
    pub fn iter(&self) -> impl Iterator<Item = Segment<'a>> + '_ {
        self.segments.iter().copied()
    }

    /// Number of segments.
    #[must_use]
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Never true for a parsed message (it has at least MSH); provided for completeness.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// The segments with the given name, in order.
    pub fn segments<'s>(&'s self, name: &'s str) -> impl Iterator<Item = Segment<'a>> + 's {
        self.segments
            .iter()
            .copied()
            .filter(move |s| s.name.as_str() == name)
    }

    /// The first segment with the given name.
    #[must_use]
    pub fn segment(&self, name: &str) -> Option<Segment<'a>> {
        self.segments(name).next()
    }

    /// The first segment with the given name, or [`MessageError::MissingSegment`].
    ///
    /// # Errors
    /// When the message has no such segment (or `name` is not a valid segment name).
    pub fn required_segment(&self, name: &str) -> Result<Segment<'a>, MessageError> {
        let missing = || MessageError::MissingSegment {
            name: SegmentName::new(name).unwrap_or(SegmentName(*b"???")),
        };
        self.segment(name).ok_or_else(missing)
    }

    /// The MSH segment (always the first segment).
    #[must_use]
    pub fn msh(&self) -> Segment<'a> {
        self.segments.first().copied().unwrap_or(Segment {
            // `parse` guarantees an MSH first; this fallback only keeps the API total.
            text: "MSH",
            offset: 0,
            number: 1,
            name: SegmentName(*b"MSH"),
            delimiters: self.delimiters,
            separators: SeparatorIndex::NONE,
        })
    }

    /// MSH-9.1 and MSH-9.2, e.g. `("ADT", "A08")`, raw (codes are never escaped in practice).
    ///
    /// # Errors
    /// [`MessageError::MissingValue`] naming MSH-9.1 or MSH-9.2 when either is empty.
    pub fn message_type(&self) -> Result<(&'a str, &'a str), MessageError> {
        let msh9 = self.msh().required(9)?;
        let code = msh9.required_component(1)?;
        let trigger = msh9.required_component(2)?;
        Ok((code.as_str(), trigger.as_str()))
    }

    /// MSH-9.3, the message structure (e.g. `ADT_A01`), if present.
    #[must_use]
    pub fn message_structure(&self) -> Option<&'a str> {
        self.msh()
            .field(9)
            .and_then(|f| f.component(3))
            .map(|c| c.as_str())
            .filter(|s| !s.is_empty())
    }

    /// MSH-10, the message control ID.
    ///
    /// # Errors
    /// [`MessageError::MissingValue`] when MSH-10 is empty.
    pub fn control_id(&self) -> Result<&'a str, MessageError> {
        self.msh().required(10).map(|f| f.as_str())
    }

    /// MSH-12.1, the HL7 version (e.g. `2.5`).
    ///
    /// # Errors
    /// [`MessageError::MissingValue`] when MSH-12.1 is empty.
    pub fn version(&self) -> Result<&'a str, MessageError> {
        self.msh()
            .required(12)?
            .required_component(1)
            .map(|c| c.as_str())
    }
}

fn read_delimiters(body: &str, start: usize) -> Result<Delimiters, MessageError> {
    let bad_field_sep = MessageError::InvalidFieldSeparator { offset: start + 3 };
    let field = body
        .get(3..)
        .and_then(|s| s.chars().next())
        .ok_or(bad_field_sep.clone())?;
    if !is_delimiter(field) {
        return Err(bad_field_sep);
    }
    let msh2 = body
        .get(4..)
        .unwrap_or_default()
        .split([field, '\r', '\n'])
        .next()
        .unwrap_or_default();
    let chars: Vec<char> = msh2.chars().collect();
    let distinct = chars
        .iter()
        .enumerate()
        .all(|(i, c)| *c != field && !chars.iter().skip(i + 1).any(|d| d == c));
    let bad_encoding = MessageError::InvalidEncodingCharacters { offset: start + 4 };
    if !distinct || !chars.iter().all(|&c| is_delimiter(c)) {
        return Err(bad_encoding);
    }
    match chars.as_slice() {
        [component, repetition, escape, subcomponent, rest @ ..] if rest.len() <= 1 => {
            Ok(Delimiters {
                field,
                component: *component,
                repetition: *repetition,
                escape: *escape,
                subcomponent: *subcomponent,
                truncation: rest.first().copied(),
            })
        }
        _ => Err(bad_encoding),
    }
}

fn is_delimiter(c: char) -> bool {
    c.is_ascii_graphic() && !c.is_ascii_alphanumeric()
}

/// Splits on an optional separator, yielding each part with its byte offset. With no
/// separator the whole text is one part (used for MSH-1 and MSH-2, which are never split).
///
/// Separators are ASCII in practice (MSH-1/MSH-2 are checked to be, and segments end in `\r`
/// or `\n`), so the search is a byte search with `memchr`: an ASCII byte never occurs inside
/// a multi-byte UTF-8 character, so every cut falls on a character boundary. This is the
/// tokenizer's inner loop; `str::split_once(char)` cost several times more per part.
#[derive(Debug, Clone)]
struct Parts<'a> {
    rest: Option<&'a str>,
    offset: usize,
    sep: Option<char>,
}

impl<'a> Parts<'a> {
    fn new(text: &'a str, offset: usize, sep: Option<char>) -> Self {
        Self {
            rest: Some(text),
            offset,
            sep,
        }
    }

    /// Where the next separator starts in `rest`, and its length.
    fn find(sep: char, rest: &str) -> Option<(usize, usize)> {
        if sep.is_ascii() {
            // `sep as u8` is exact for ASCII.
            memchr::memchr(sep as u8, rest.as_bytes()).map(|i| (i, 1))
        } else {
            rest.find(sep).map(|i| (i, sep.len_utf8()))
        }
    }

    /// Skip `n` separators at once (for `nth`): no part is built for the skipped ones.
    fn skip_parts(&mut self, n: usize) -> bool {
        let Some(rest) = self.rest else {
            return false;
        };
        let Some(sep) = self.sep else {
            if n > 0 {
                self.rest = None;
            }
            return n == 0;
        };
        if n == 0 {
            return true;
        }
        let cut = if sep.is_ascii() {
            memchr::memchr_iter(sep as u8, rest.as_bytes())
                .nth(n - 1)
                .map(|i| i + 1)
        } else {
            rest.match_indices(sep)
                .nth(n - 1)
                .map(|(i, _)| i + sep.len_utf8())
        };
        match cut.and_then(|c| rest.get(c..).map(|tail| (c, tail))) {
            Some((c, tail)) => {
                self.rest = Some(tail);
                self.offset += c;
                true
            }
            None => {
                self.rest = None;
                false
            }
        }
    }
}

impl<'a> Iterator for Parts<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest?;
        let offset = self.offset;
        let cut = self.sep.and_then(|sep| Self::find(sep, rest));
        match cut.and_then(|(i, len)| Some((rest.get(..i)?, rest.get(i + len..)?, len))) {
            Some((part, tail, len)) => {
                self.rest = Some(tail);
                self.offset = offset + part.len() + len;
                Some((offset, part))
            }
            None => {
                self.rest = None;
                Some((offset, rest))
            }
        }
    }

    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        if self.skip_parts(n) {
            self.next()
        } else {
            None
        }
    }
}

/// One segment: its name and raw text, split into fields on demand.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    text: &'a str,
    offset: usize,
    number: usize,
    name: SegmentName,
    delimiters: Delimiters,
    separators: SeparatorIndex,
}

/// Where the first field separators of a segment are, found in one pass when the message is
/// parsed: mapping reads a segment's fields one by one, and finding field n by scanning from
/// the start each time made the tokenizer a tenth of all mapping time. Fields past the
/// indexed separators (or in a segment too long for `u16` offsets) are found by scanning.
#[derive(Debug, Clone, Copy)]
struct SeparatorIndex {
    at: [u16; INDEXED_SEPARATORS],
    /// How many of `at` are filled.
    len: u8,
    /// Every separator of the segment is in `at`.
    complete: bool,
}

/// Enough for every field JAHIS maps in PID, RXE (RXE-44), OBX and ORC.
const INDEXED_SEPARATORS: usize = 48;

impl SeparatorIndex {
    const NONE: Self = Self {
        at: [0; INDEXED_SEPARATORS],
        len: 0,
        complete: false,
    };

    fn new(text: &str, sep: char) -> Self {
        let mut index = Self::NONE;
        if !sep.is_ascii() || u16::try_from(text.len()).is_err() {
            return index;
        }
        let mut found = memchr::memchr_iter(sep as u8, text.as_bytes());
        for slot in &mut index.at {
            match found.next().and_then(|i| u16::try_from(i).ok()) {
                Some(i) => {
                    *slot = i;
                    index.len += 1;
                }
                None => {
                    index.complete = true;
                    return index;
                }
            }
        }
        index.complete = found.next().is_none();
        index
    }

    /// Part `i` of the segment split on its field separator (part 0 is the name), as byte
    /// range; `None` when it is beyond the index (scan instead). `Some(None)`: no such part.
    fn part(&self, i: usize, len: usize) -> Option<Option<(usize, usize)>> {
        let filled = self.at.get(..usize::from(self.len))?;
        let start = match i.checked_sub(1) {
            None => 0,
            Some(k) => match filled.get(k) {
                Some(&p) => usize::from(p) + 1,
                None if self.complete => return Some(None),
                None => return None,
            },
        };
        let end = match filled.get(i) {
            Some(&p) => usize::from(p),
            None if self.complete => len,
            None => return None,
        };
        Some(Some((start, end)))
    }
}

impl<'a> Segment<'a> {
    /// The segment's name, e.g. `PID`.
    #[must_use]
    pub fn name(&self) -> SegmentName {
        self.name
    }

    /// 1-based position in the message.
    #[must_use]
    pub fn number(&self) -> usize {
        self.number
    }

    /// The whole segment text, name included, terminator excluded.
    #[must_use]
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// Byte offset of the segment in the message text.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Number of fields present, counting empty ones that were written out.
    #[must_use]
    pub fn field_count(&self) -> usize {
        let separators = self.text.matches(self.delimiters.field).count();
        // In header segments MSH-1 is the first separator itself, so there is one more field
        // (but a bare `MSH` has none).
        if self.name.is_header() && separators > 0 {
            separators + 1
        } else {
            separators
        }
    }

    /// Field `n` (1-based), or `None` when the segment has fewer fields or `n` is 0.
    #[must_use]
    pub fn field(&self, n: usize) -> Option<Field<'a>> {
        if n == 0 {
            return None;
        }
        let location = self.location(n);
        let header = self.name.is_header();
        if header && n == 1 {
            let sep_len = self.delimiters.field.len_utf8();
            let text = self.text.get(3..3 + sep_len)?;
            return Some(Field::new(
                text,
                self.offset + 3,
                location,
                self.delimiters,
                true,
            ));
        }
        let index = if header { n - 1 } else { n };
        let (offset, text) = match self.separators.part(index, self.text.len()) {
            Some(range) => {
                let (start, end) = range?;
                (self.offset + start, self.text.get(start..end)?)
            }
            None => Parts::new(self.text, self.offset, Some(self.delimiters.field)).nth(index)?,
        };
        Some(Field::new(
            text,
            offset,
            location,
            self.delimiters,
            header && n == 2,
        ))
    }

    /// Field `n`, or [`MessageError::MissingValue`] when it is absent or empty.
    ///
    /// # Errors
    /// When the field is absent or empty.
    pub fn required(&self, n: usize) -> Result<Field<'a>, MessageError> {
        self.field(n)
            .filter(|f| !f.is_empty())
            .ok_or(MessageError::MissingValue {
                location: self.location(n),
            })
    }

    /// All fields, numbered from 1 (for header segments starting with MSH-1).
    pub fn fields(&self) -> impl Iterator<Item = Field<'a>> + use<'a> {
        let this = *self;
        let header = this.name.is_header();
        let msh1 = if header { this.field(1) } else { None };
        let rest = Parts::new(this.text, this.offset, Some(this.delimiters.field))
            .enumerate()
            .skip(1)
            .map(move |(i, (offset, text))| {
                let n = if header { i + 1 } else { i };
                Field::new(
                    text,
                    offset,
                    this.location(n),
                    this.delimiters,
                    header && n == 2,
                )
            });
        msh1.into_iter().chain(rest)
    }

    fn location(&self, field: usize) -> Location {
        Location {
            segment: self.name,
            segment_number: self.number,
            field,
            repetition: None,
            component: None,
            subcomponent: None,
        }
    }
}

/// Accessors shared by every kind of value.
macro_rules! value_common {
    ($ty:ident) => {
        impl<'a> $ty<'a> {
            /// The raw text (escapes not decoded).
            #[must_use]
            pub fn as_str(&self) -> &'a str {
                self.text
            }

            /// Byte offset of the value in the message text.
            #[must_use]
            pub fn offset(&self) -> usize {
                self.offset
            }

            /// Where the value sits in the message.
            #[must_use]
            pub fn location(&self) -> Location {
                self.location
            }

            /// True when the value is empty (not present).
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.text.is_empty()
            }

            /// True for the HL7 explicit null `""` (the sender deletes the value).
            #[must_use]
            pub fn is_null(&self) -> bool {
                self.text == "\"\""
            }

            /// The text with HL7 escapes decoded; borrows when there is none.
            #[must_use]
            pub fn unescaped(&self) -> Cow<'a, str> {
                if self.literal {
                    Cow::Borrowed(self.text)
                } else {
                    escape::decode(self.text, &self.delimiters)
                }
            }
        }

        impl fmt::Display for $ty<'_> {
            /// The raw text, escapes included.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.text)
            }
        }
    };
}

/// One field, possibly repeated.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    text: &'a str,
    offset: usize,
    location: Location,
    delimiters: Delimiters,
    /// MSH-1 and MSH-2 contain delimiter characters that are not delimiters.
    literal: bool,
}

value_common!(Field);

impl<'a> Field<'a> {
    fn new(
        text: &'a str,
        offset: usize,
        location: Location,
        delimiters: Delimiters,
        literal: bool,
    ) -> Self {
        Self {
            text,
            offset,
            location,
            delimiters,
            literal,
        }
    }

    fn separator(&self, sep: char) -> Option<char> {
        (!self.literal).then_some(sep)
    }

    /// The repetitions of this field (an unrepeated field has exactly one).
    pub fn repetitions(&self) -> impl Iterator<Item = Repetition<'a>> + use<'a> {
        let this = *self;
        Parts::new(
            self.text,
            self.offset,
            self.separator(self.delimiters.repetition),
        )
        .enumerate()
        .map(move |(i, (offset, text))| Repetition {
            text,
            offset,
            location: Location {
                repetition: Some(i + 1),
                ..this.location
            },
            delimiters: this.delimiters,
            literal: this.literal,
        })
    }

    /// Repetition `n` (1-based).
    #[must_use]
    pub fn repetition(&self, n: usize) -> Option<Repetition<'a>> {
        let (offset, text) = Parts::new(
            self.text,
            self.offset,
            self.separator(self.delimiters.repetition),
        )
        .nth(n.checked_sub(1)?)?;
        Some(Repetition {
            text,
            offset,
            location: Location {
                repetition: Some(n),
                ..self.location
            },
            delimiters: self.delimiters,
            literal: self.literal,
        })
    }

    /// Component `n` (1-based) of the first repetition: the usual way to read a field that
    /// does not repeat.
    #[must_use]
    pub fn component(&self, n: usize) -> Option<Component<'a>> {
        self.repetition(1)?.component(n)
    }

    /// Component `n` of the first repetition, or [`MessageError::MissingValue`].
    ///
    /// # Errors
    /// When the component is absent or empty.
    pub fn required_component(&self, n: usize) -> Result<Component<'a>, MessageError> {
        self.component(n)
            .filter(|c| !c.is_empty())
            .ok_or(MessageError::MissingValue {
                location: Location {
                    component: Some(n),
                    ..self.location
                },
            })
    }
}

/// One repetition of a field.
#[derive(Debug, Clone, Copy)]
pub struct Repetition<'a> {
    text: &'a str,
    offset: usize,
    location: Location,
    delimiters: Delimiters,
    literal: bool,
}

value_common!(Repetition);

impl<'a> Repetition<'a> {
    /// The components (an uncomposed value has exactly one).
    pub fn components(&self) -> impl Iterator<Item = Component<'a>> + use<'a> {
        let this = *self;
        let sep = (!self.literal).then_some(self.delimiters.component);
        Parts::new(self.text, self.offset, sep)
            .enumerate()
            .map(move |(i, (offset, text))| Component {
                text,
                offset,
                location: Location {
                    component: Some(i + 1),
                    ..this.location
                },
                delimiters: this.delimiters,
                literal: this.literal,
            })
    }

    /// Component `n` (1-based).
    #[must_use]
    pub fn component(&self, n: usize) -> Option<Component<'a>> {
        let sep = (!self.literal).then_some(self.delimiters.component);
        let (offset, text) = Parts::new(self.text, self.offset, sep).nth(n.checked_sub(1)?)?;
        Some(Component {
            text,
            offset,
            location: Location {
                component: Some(n),
                ..self.location
            },
            delimiters: self.delimiters,
            literal: self.literal,
        })
    }
}

/// One component of a repetition.
#[derive(Debug, Clone, Copy)]
pub struct Component<'a> {
    text: &'a str,
    offset: usize,
    location: Location,
    delimiters: Delimiters,
    literal: bool,
}

value_common!(Component);

impl<'a> Component<'a> {
    /// The subcomponents (a plain component has exactly one).
    pub fn subcomponents(&self) -> impl Iterator<Item = Subcomponent<'a>> + use<'a> {
        let this = *self;
        let sep = (!self.literal).then_some(self.delimiters.subcomponent);
        Parts::new(self.text, self.offset, sep)
            .enumerate()
            .map(move |(i, (offset, text))| Subcomponent {
                text,
                offset,
                location: Location {
                    subcomponent: Some(i + 1),
                    ..this.location
                },
                delimiters: this.delimiters,
                literal: this.literal,
            })
    }

    /// Subcomponent `n` (1-based).
    #[must_use]
    pub fn subcomponent(&self, n: usize) -> Option<Subcomponent<'a>> {
        let sep = (!self.literal).then_some(self.delimiters.subcomponent);
        let (offset, text) = Parts::new(self.text, self.offset, sep).nth(n.checked_sub(1)?)?;
        Some(Subcomponent {
            text,
            offset,
            location: Location {
                subcomponent: Some(n),
                ..self.location
            },
            delimiters: self.delimiters,
            literal: self.literal,
        })
    }
}

/// One subcomponent: the smallest HL7 value.
#[derive(Debug, Clone, Copy)]
pub struct Subcomponent<'a> {
    text: &'a str,
    offset: usize,
    location: Location,
    delimiters: Delimiters,
    literal: bool,
}

value_common!(Subcomponent);

#[cfg(test)]
mod tests {
    use super::*;

    const ADT: &str = "MSH|^~\\&|HIS|SEND|GW|RCV|20111220224447||ADT^A08^ADT_A01|CTRL1|P|2.5||||||~ISO IR87\r\
EVN||201112202100\r\
PID|0001||9999013^^^^PI~X1^^^^MR||患者^太郎^^^^^L^I~カンジャ^タロウ^^^^^L^P||19480405|M\r\
OBX|1|CWE|5H01^血液型&ABO^JC10||A\\S\\B|\r";

    #[test]
    fn msh_numbering_puts_the_field_separator_in_msh_1() {
        let msg = Message::parse(ADT).unwrap();
        let msh = msg.msh();
        assert_eq!(msh.field(1).unwrap().as_str(), "|");
        assert_eq!(msh.field(2).unwrap().as_str(), "^~\\&");
        assert_eq!(msh.field(3).unwrap().as_str(), "HIS");
        assert_eq!(msh.field(18).unwrap().as_str(), "~ISO IR87");
        assert_eq!(msh.field(19).map(|f| f.as_str()), None);
        assert_eq!(msh.field_count(), 18);
        assert_eq!(msh.fields().count(), 18);
    }

    #[test]
    fn msh_2_is_one_literal_value() {
        let msg = Message::parse(ADT).unwrap();
        let msh2 = msg.msh().field(2).unwrap();
        assert_eq!(msh2.repetitions().count(), 1);
        assert_eq!(msh2.component(1).unwrap().as_str(), "^~\\&");
        assert_eq!(msh2.unescaped(), "^~\\&");
    }

    #[test]
    fn message_type_control_id_and_version_come_from_msh() {
        let msg = Message::parse(ADT).unwrap();
        assert_eq!(msg.message_type(), Ok(("ADT", "A08")));
        assert_eq!(msg.message_structure(), Some("ADT_A01"));
        assert_eq!(msg.control_id(), Ok("CTRL1"));
        assert_eq!(msg.version(), Ok("2.5"));
        assert_eq!(msg.len(), 4);
    }

    #[test]
    fn values_are_addressed_by_hl7_numbering_at_every_level() {
        let msg = Message::parse(ADT).unwrap();
        let pid = msg.segment("PID").unwrap();
        let pid3 = pid.field(3).unwrap();
        let ids: Vec<_> = pid3
            .repetitions()
            .map(|r| r.component(1).unwrap().as_str())
            .collect();
        assert_eq!(ids, ["9999013", "X1"]);
        assert_eq!(
            pid3.repetition(2).unwrap().component(5).unwrap().as_str(),
            "MR"
        );
        let name = pid.field(5).unwrap().repetition(2).unwrap();
        assert_eq!(name.component(1).unwrap().as_str(), "カンジャ");
        let obx3 = msg.segment("OBX").unwrap().field(3).unwrap();
        let text = obx3.component(2).unwrap();
        assert_eq!(text.subcomponent(2).unwrap().as_str(), "ABO");
        assert_eq!(
            text.subcomponent(2).unwrap().location().to_string(),
            "OBX-3(1).2.2 (segment 4)"
        );
        assert_eq!(pid.field(0).map(|f| f.as_str()), None);
        assert_eq!(pid3.repetition(0).map(|f| f.as_str()), None);
    }

    #[test]
    fn offsets_point_into_the_message_text() {
        let msg = Message::parse(ADT).unwrap();
        let pid = msg.segment("PID").unwrap();
        let family = pid.field(5).unwrap().component(1).unwrap();
        assert_eq!(
            ADT.get(family.offset()..family.offset() + family.as_str().len()),
            Some("患者")
        );
        assert_eq!(ADT.get(pid.offset()..pid.offset() + 3), Some("PID"));
    }

    #[test]
    fn values_unescape_on_request() {
        let msg = Message::parse(ADT).unwrap();
        let obx5 = msg.segment("OBX").unwrap().field(5).unwrap();
        assert_eq!(obx5.as_str(), "A\\S\\B");
        assert_eq!(obx5.component(1).unwrap().unescaped(), "A^B");
    }

    #[test]
    fn line_feeds_and_framing_are_tolerated() {
        let text = "\u{b}MSH|^~\\&|A\r\nPID|1\n\nPV1|1\r\u{1c}\r";
        let msg = Message::parse(text).unwrap();
        let names: Vec<_> = msg.iter().map(|s| s.name().to_string()).collect();
        assert_eq!(names, ["MSH", "PID", "PV1"]);
        assert_eq!(msg.segment("PID").unwrap().offset(), 13);
    }

    #[test]
    fn segment_without_fields_is_valid() {
        let msg = Message::parse("MSH|^~\\&|A\rAL1\rMSH\r").unwrap();
        assert_eq!(msg.segments("MSH").count(), 2);
        let bare_msh = msg.segments("MSH").nth(1).unwrap();
        assert_eq!((bare_msh.field_count(), bare_msh.fields().count()), (0, 0));
        let al1 = msg.segment("AL1").unwrap();
        assert_eq!((al1.field_count(), al1.fields().count()), (0, 0));
        assert_eq!(al1.field(1).map(|f| f.as_str()), None);
    }

    #[test]
    fn missing_values_are_reported_by_location() {
        let msg = Message::parse("MSH|^~\\&|A||||||ADT|\r").unwrap();
        let err = msg.message_type().unwrap_err();
        assert_eq!(
            err.to_string(),
            "required value MSH-9.2 (segment 1) is missing or empty"
        );
        assert!(matches!(
            msg.control_id(),
            Err(MessageError::MissingValue { .. })
        ));
        assert_eq!(
            msg.required_segment("PID").unwrap_err().to_string(),
            "required segment PID is missing"
        );
    }

    #[test]
    fn invalid_structures_are_errors() {
        assert!(matches!(
            Message::parse("PID|1"),
            Err(MessageError::NoMshSegment)
        ));
        assert!(matches!(
            Message::parse("MSHA^~\\&"),
            Err(MessageError::InvalidFieldSeparator { offset: 3 })
        ));
        assert!(matches!(
            Message::parse("MSH|^~|"),
            Err(MessageError::InvalidEncodingCharacters { offset: 4 })
        ));
        assert!(matches!(
            Message::parse("MSH|^^\\&|"),
            Err(MessageError::InvalidEncodingCharacters { .. })
        ));
        assert!(matches!(
            Message::parse("MSH|^~\\&|\rfree text\r"),
            Err(MessageError::InvalidSegmentName {
                segment: 2,
                offset: 10
            })
        ));
        assert!(matches!(
            Message::parse("MSH|^~\\&|\rPIDX|1\r"),
            Err(MessageError::InvalidSegmentName { segment: 2, .. })
        ));
    }

    #[test]
    fn custom_delimiters_are_honoured() {
        let msg = Message::parse("MSH#*!%@#A\rPID#1##a*b!c@d%e\r").unwrap();
        let d = msg.delimiters();
        assert_eq!(
            (d.field, d.component, d.repetition, d.escape, d.subcomponent),
            ('#', '*', '!', '%', '@')
        );
        let pid3 = msg.segment("PID").unwrap().field(3).unwrap();
        assert_eq!(pid3.component(2).unwrap().as_str(), "b");
        assert_eq!(
            pid3.repetition(2)
                .unwrap()
                .component(1)
                .unwrap()
                .subcomponent(2)
                .unwrap()
                .as_str(),
            "d%e"
        );
    }

    proptest::proptest! {
        /// A field is read through the separator index for the first fields and by scanning
        /// past them; both give what splitting the segment gives, MSH's numbering included.
        #[test]
        fn every_field_is_what_splitting_the_segment_gives(
            fields in proptest::collection::vec("[a-zあ^~]{0,3}", 1..70),
        ) {
            let obx = fields.join("|");
            let text = format!("MSH|^~\\&|{obx}\rOBX|{obx}\r");
            let msg = Message::parse(&text).unwrap();
            let obx_seg = msg.segment("OBX").unwrap();
            let msh = msg.msh();
            for n in 1..=fields.len() + 2 {
                let want = fields.get(n - 1).map(String::as_str);
                proptest::prop_assert_eq!(obx_seg.field(n).map(|f| f.as_str()), want, "OBX-{}", n);
                // MSH-3 onwards are the same values, two places later.
                if n >= 3 {
                    let want = fields.get(n - 3).map(String::as_str);
                    proptest::prop_assert_eq!(msh.field(n).map(|f| f.as_str()), want, "MSH-{}", n);
                }
                if let Some(f) = obx_seg.field(n) {
                    proptest::prop_assert_eq!(text.get(f.offset()..f.offset() + f.as_str().len()), Some(f.as_str()));
                }
            }
        }

        /// `nth` skips separators without building parts; it must land where stepping part
        /// by part lands, for ASCII and non-ASCII separators and past the end.
        #[test]
        fn skipping_parts_lands_where_stepping_lands(
            text in "[a|^あ\r]{0,24}",
            sep in proptest::option::of(proptest::sample::select(vec!['|', '^', 'あ'])),
            n in 0usize..8,
        ) {
            let stepped = {
                let mut p = Parts::new(&text, 5, sep);
                (0..n).for_each(|_| { p.next(); });
                p.next()
            };
            proptest::prop_assert_eq!(Parts::new(&text, 5, sep).nth(n), stepped);
            let all: Vec<_> = Parts::new(&text, 5, sep).collect();
            let joined = all.iter().map(|(_, t)| *t).collect::<Vec<_>>();
            match sep {
                Some(c) => proptest::prop_assert_eq!(joined.join(&c.to_string()), text.clone()),
                None => proptest::prop_assert_eq!(joined, vec![text.as_str()]),
            }
            for (offset, part) in all {
                proptest::prop_assert_eq!(text.get(offset - 5..offset - 5 + part.len()), Some(part));
            }
        }
    }
}
