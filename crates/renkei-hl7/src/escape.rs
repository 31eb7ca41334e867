//! HL7 v2 escape sequences inside one value: decoding for reading, encoding for writing.
//!
//! Decoded (with the escape character written as `\`):
//! - `\F\ \S\ \T\ \R\ \E\` → the field, component, subcomponent, repetition and escape
//!   characters declared in MSH-1/MSH-2 (`\P\` → the truncation character when one is declared);
//! - `\.br\` → a line feed;
//! - `\H\` and `\N\` (highlighting on/off) → dropped: the network displays plain text;
//! - `\Xhh…\` → the bytes `hh…` read as UTF-8. HL7 says they are in the message's character
//!   set, but the message has already been decoded to Unicode and JAHIS senders write Japanese
//!   text directly; hex escapes in practice carry ASCII control characters (`\X0D\`), for which
//!   UTF-8 and every supported charset agree. Odd-length, non-hex or non-UTF-8 hex → literal.
//!
//! Anything else (`\Cxxyy\`, `\Mxxyyzz\`, `\Zxx\`, `\.sp\`, other formatting commands, an
//! escape character without its closing partner) is kept literally, escape characters included:
//! dropping text we do not understand could change a clinical statement, keeping it cannot.

use std::borrow::Cow;

use crate::message::Delimiters;

/// Decode the HL7 escape sequences in `value`. Borrows when `value` has no escape character.
#[must_use]
pub fn decode<'a>(value: &'a str, delimiters: &Delimiters) -> Cow<'a, str> {
    let esc = delimiters.escape;
    if !value.contains(esc) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some((before, after_open)) = rest.split_once(esc) {
        out.push_str(before);
        let Some((sequence, after_close)) = after_open.split_once(esc) else {
            // Unterminated: keep the escape character and everything after it.
            out.push(esc);
            rest = after_open;
            break;
        };
        match expand(sequence, delimiters) {
            Some(Expansion::Char(c)) => out.push(c),
            Some(Expansion::Text(t)) => out.push_str(&t),
            Some(Expansion::Nothing) => {}
            None => {
                out.push(esc);
                out.push_str(sequence);
                out.push(esc);
            }
        }
        rest = after_close;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

enum Expansion {
    Char(char),
    Text(String),
    Nothing,
}

fn expand(sequence: &str, d: &Delimiters) -> Option<Expansion> {
    match sequence {
        "F" => Some(Expansion::Char(d.field)),
        "S" => Some(Expansion::Char(d.component)),
        "T" => Some(Expansion::Char(d.subcomponent)),
        "R" => Some(Expansion::Char(d.repetition)),
        "E" => Some(Expansion::Char(d.escape)),
        "P" => d.truncation.map(Expansion::Char),
        "H" | "N" => Some(Expansion::Nothing),
        ".br" => Some(Expansion::Char('\n')),
        _ => sequence
            .strip_prefix('X')
            .and_then(hex_to_utf8)
            .map(Expansion::Text),
    }
}

fn hex_to_utf8(hex: &str) -> Option<String> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(digits, 16).ok()
        })
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// Escape `value` so that it can be written as one HL7 value: every delimiter becomes its
/// escape sequence, a line feed becomes `\.br\`, and a carriage return and the MLLP framing
/// bytes 0x0B and 0x1C become `\X0D\`, `\X0B\`, `\X1C\` (they would end the segment or the
/// frame). Borrows when nothing needs escaping. `decode(encode(s)) == s` for every `s`.
#[must_use]
pub fn encode<'a>(value: &'a str, delimiters: &Delimiters) -> Cow<'a, str> {
    let special =
        |c: char| delimiters.is_delimiter(c) || matches!(c, '\r' | '\n' | '\u{b}' | '\u{1c}');
    if !value.chars().any(special) {
        return Cow::Borrowed(value);
    }
    let esc = delimiters.escape;
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        let code = if c == delimiters.escape {
            "E"
        } else if c == delimiters.field {
            "F"
        } else if c == delimiters.component {
            "S"
        } else if c == delimiters.subcomponent {
            "T"
        } else if c == delimiters.repetition {
            "R"
        } else if Some(c) == delimiters.truncation {
            "P"
        } else if c == '\n' {
            ".br"
        } else if c == '\r' {
            "X0D"
        } else if c == '\u{b}' {
            "X0B"
        } else if c == '\u{1c}' {
            "X1C"
        } else {
            out.push(c);
            continue;
        };
        out.push(esc);
        out.push_str(code);
        out.push(esc);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Delimiters {
        Delimiters::default()
    }

    #[test]
    fn delimiter_escapes_decode_to_the_declared_characters() {
        assert_eq!(decode(r"a\F\b\S\c\T\d\R\e\E\f", &d()), "a|b^c&d~e\\f");
    }

    #[test]
    fn values_without_escapes_are_borrowed() {
        assert!(matches!(decode("患者^太郎", &d()), Cow::Borrowed(_)));
        assert!(matches!(encode("患者太郎", &d()), Cow::Borrowed(_)));
    }

    #[test]
    fn line_break_becomes_newline_and_highlighting_is_dropped() {
        assert_eq!(decode(r"1行目\.br\2行目", &d()), "1行目\n2行目");
        assert_eq!(decode(r"\H\重要\N\です", &d()), "重要です");
    }

    #[test]
    fn hex_escapes_decode_as_utf8() {
        assert_eq!(decode(r"a\X0D0A\b", &d()), "a\r\nb");
        assert_eq!(decode(r"\XE6B2BB\", &d()), "治");
    }

    #[test]
    fn unknown_or_broken_escapes_are_kept_literally() {
        for raw in [
            r"\Zfoo\x",
            r"\.sp2\",
            r"\C2842\x",
            r"\X0\",
            r"\XZZ\",
            r"\XFF\",
            r"\\",
            r"trailing \E",
            r"\",
        ] {
            assert_eq!(decode(raw, &d()), raw, "{raw}");
        }
        assert_eq!(decode(r"\Q\ then \F\", &d()), r"\Q\ then |");
        // \P\ is only an escape when a truncation character is declared.
        assert_eq!(decode(r"\P\", &d()), r"\P\");
        let with_truncation = Delimiters {
            truncation: Some('#'),
            ..d()
        };
        assert_eq!(decode(r"\P\", &with_truncation), "#");
    }

    #[test]
    fn encode_escapes_every_delimiter_and_line_end() {
        assert_eq!(
            encode("a|b^c&d~e\\f\ng\rh", &d()),
            r"a\F\b\S\c\T\d\R\e\E\f\.br\g\X0D\h"
        );
    }

    #[test]
    fn a_declared_escape_character_replaces_backslash() {
        let custom = Delimiters { escape: '%', ..d() };
        assert_eq!(decode("a%S%b\\c", &custom), "a^b\\c");
        assert_eq!(encode("100%", &custom), "100%E%");
    }
}
