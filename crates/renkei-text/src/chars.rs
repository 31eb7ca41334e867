//! Character classes and the Unicode steps every fold shares.
//!
//! Each fold starts with [`nfkc`] and ends with [`finish`]; between the two it only maps, drops
//! or copies characters. That shape is what keeps every fold idempotent: see [`finish`].

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Variation selectors (U+FE00–FE0F) and ideographic variation selectors (U+E0100–E01EF).
///
/// They pick a glyph (辻 with one or two dots, 葛 of 葛飾 or of 葛城), never a different
/// character, so matching ignores them.
pub(crate) fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// NFKC after dropping variation selectors.
///
/// Selectors go first: NFKC keeps them, and one left between a base and a combining mark
/// would block a composition that a second fold would then make.
pub(crate) fn nfkc(s: &str) -> String {
    s.chars()
        .filter(|&c| !is_variation_selector(c))
        .nfkc()
        .collect()
}

/// Combining marks left over after NFKC (those that composed with nothing).
///
/// Kana voicing marks have composed by then (カ+゛ → ガ); what is left is noise from old
/// systems or broken input, and dropping it keeps later steps simple.
pub(crate) fn is_stray_mark(c: char) -> bool {
    is_combining_mark(c)
}

/// The last step of every fold: canonical composition.
///
/// The steps before it drop characters (spaces, punctuation, 大字), and dropping one can put
/// two characters side by side that compose (two Hangul jamo, for instance). Composing here
/// means a second fold finds nothing left to compose, so `fold(fold(x)) == fold(x)`.
pub(crate) fn finish(s: String) -> String {
    use unicode_normalization::{IsNormalized, is_nfc_quick};
    if is_nfc_quick(s.chars()) == IsNormalized::Yes {
        s
    } else {
        s.nfc().collect()
    }
}

/// Hyphen-like characters that people and old systems type between numbers, after NFKC.
///
/// NFKC already turns － (U+FF0D) and ﹣ (U+FE63) into `-`, and ‑ (U+2011) into ‐ (U+2010);
/// the rest survive it: ‐ ‒ – — ― − ⁃. The katakana long-vowel mark ー is *not* listed: it is a
/// hyphen only after a digit, and each fold decides that from context.
pub(crate) fn is_hyphen_like(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            ..='\u{2015}' | '\u{2043}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}'
    )
}

/// The katakana-hiragana prolonged sound mark ー (U+30FC); half-width ｰ becomes it under NFKC.
pub(crate) const CHOON: char = 'ー';

/// CJK ideographs, including the extension planes and the compatibility block.
pub(crate) fn is_ideograph(c: char) -> bool {
    matches!(
        c,
        '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{3FFFF}'
    )
}

/// Kanji numerals as written in addresses and dates. 〇 is the ideographic zero (U+3007).
pub(crate) fn kanji_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' => 0,
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// 十, 百, 千 as multipliers.
pub(crate) fn kanji_multiplier(c: char) -> Option<u64> {
    Some(match c {
        '十' => 10,
        '百' => 100,
        '千' => 1000,
        _ => return None,
    })
}

pub(crate) fn is_kanji_numeral(c: char) -> bool {
    kanji_digit(c).is_some() || kanji_multiplier(c).is_some()
}

/// Reads a run of kanji numerals as a decimal string.
///
/// With 十/百/千 in the run it is read as counted (二十三 → 23, 百五 → 105, 千二百 → 1200);
/// without them, digit by digit (一〇二 → 102, 二三 → 23), the way house numbers are often
/// written vertically. A run that is not a numeral (empty) gives `None`.
pub(crate) fn kanji_numeral_value(run: &[char]) -> Option<String> {
    if run.is_empty() || !run.iter().all(|&c| is_kanji_numeral(c)) {
        return None;
    }
    if run.iter().all(|&c| kanji_digit(c).is_some()) {
        return Some(
            run.iter()
                .filter_map(|&c| kanji_digit(c))
                .filter_map(|d| char::from_digit(d, 10))
                .collect(),
        );
    }
    let mut total: u64 = 0;
    let mut current: Option<u64> = None;
    for &c in run {
        if let Some(d) = kanji_digit(c) {
            // Two digits in a row inside a counted numeral (二十三四) read on positionally.
            current = Some(
                current
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(u64::from(d)),
            );
        } else if let Some(m) = kanji_multiplier(c) {
            total = total.saturating_add(current.unwrap_or(1).saturating_mul(m));
            current = None;
        }
    }
    total = total.saturating_add(current.unwrap_or(0));
    Some(total.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> Option<String> {
        kanji_numeral_value(&s.chars().collect::<Vec<_>>())
    }

    #[test]
    fn counted_and_positional_kanji_numerals() {
        assert_eq!(value("二十三").as_deref(), Some("23"));
        assert_eq!(value("百五").as_deref(), Some("105"));
        assert_eq!(value("千二百").as_deref(), Some("1200"));
        assert_eq!(value("十").as_deref(), Some("10"));
        assert_eq!(value("十五").as_deref(), Some("15"));
        assert_eq!(value("三十").as_deref(), Some("30"));
        assert_eq!(value("一〇二").as_deref(), Some("102"));
        assert_eq!(value("〇").as_deref(), Some("0"));
        assert_eq!(value(""), None);
        assert_eq!(value("一丁"), None);
    }
}
