//! カナ氏名: folding kana names for comparison, and splitting a name into family and given.
//!
//! [`fold_kana`] is a comparison key only. It is lossy on purpose (キョウコ and キヨウコ become
//! one key) and must never be shown or stored in place of what the facility sent.

use crate::chars::{CHOON, finish, is_hyphen_like, is_stray_mark, nfkc};
use unicode_normalization::char::compose;

/// Folds a kana name (カナ氏名) into a comparison key.
///
/// Steps, in order:
/// 1. NFKC: half-width kana become full-width with their voicing marks composed
///    (ｻﾄｳ → サトウ, ｶﾞ → ガ), full-width Latin and digits become ASCII. A detached ゛/゜
///    (U+309B/U+309C) is read as the combining mark, so カ゛ → ガ as well.
/// 2. Hiragana → katakana (さとう → サトウ); ゝ/ゞ → ヽ/ヾ.
/// 3. All whitespace (U+3000, ASCII, none) and punctuation, including ・, are removed. A
///    hyphen or wave dash (`-`, －, ‐, 〜, ～) right after a kana is read as ー: old systems
///    without ー typed ｷｮ-ｺ.
/// 4. Spelling variants that sound alike in names: ヴ → ブ, with ヴァ/ヴィ/ヴェ/ヴォ → バ/ビ/ベ/ボ
///    and ヴュ → ビユ; ヷ/ヸ/ヹ/ヺ → バ/ビ/ベ/ボ; ヂ → ジ, ヅ → ズ; ヲ → オ, ヰ → イ, ヱ → エ.
///    Iteration marks are spelled out (サヽキ → ササキ, ヾ repeats with voicing).
/// 5. Small kana → large (ァィゥェォ → アイウエオ, ッ → ツ, ャュョ → ヤユヨ, ヮ → ワ, ヵ → カ,
///    ヶ → ケ, and the small kana of U+31F0–31FF), because old systems could not store small
///    kana and wrote キヨウコ for キョウコ.
/// 6. Long vowels (see below).
/// 7. ASCII letters upper-cased (romaji names of residents from abroad).
///
/// Kanji and other letters are kept as they are.
///
/// # Long vowels: written as one mark, never dropped
///
/// A long vowel is spelled three ways: with ー (キョーコ), with the vowel kana that prolongs the
/// previous mora (キョウコ, ユウコ, オオノ), or, for o-row, with ウ or オ (オウノ, オオノ). The fold
/// writes every one of them as ー. A vowel kana is a prolongation when it follows a kana whose
/// vowel it continues:
///
/// | previous mora's vowel | prolonging kana |
/// |---|---|
/// | a (アカサ…ヤラワ) | ア |
/// | i (イキシ…リ) | イ |
/// | u (ウクス…ユル) | ウ |
/// | e (エケセ…レ) | エ, イ |
/// | o (オコソ…ヨロ) | オ, ウ |
///
/// and ー itself is kept as ー. A mora is lengthened at most once: after ー, a vowel kana is a
/// mora of its own (オオウチ → オーウチ, not オーチ), and ーー is written once.
///
/// So キヨウコ, キョウコ and キョーコ all fold to キヨーコ; ユーコ and ユウコ to ユーコ; オオノ,
/// オーノ and オウノ to オーノ.
///
/// Why a mark and not dropping the vowel: dropping would make the *length* of the vowel
/// disappear, and length is what tells many common names apart: 大野 オオノ and 小野 オノ,
/// 恭子 キョウコ and 清子 キヨコ, 勇気 ユウキ and 由紀 ユキ, 優花 ユウカ and 由佳 ユカ. Writing the
/// length as ー keeps each of those pairs apart while the three spellings of one long vowel
/// meet. The cost is that a few spellings of *different* sounds also meet (ケイコ and ケエコ;
/// ユウ as ユ+ウ in a compound); those pairs are not used as different names in practice, and the
/// matcher never links on a name alone.
pub fn fold_kana(s: &str) -> String {
    // ゛/゜ alone are compatibility characters that NFKC turns into a space plus the mark,
    // which then cannot compose; the combining forms compose with the kana before them.
    let premapped: String = s
        .chars()
        .map(|c| match c {
            '\u{309B}' => '\u{3099}',
            '\u{309C}' => '\u{309A}',
            other => other,
        })
        .collect();
    let normalized = nfkc(&premapped);

    // Step 2 and 3: katakana only, no spaces or punctuation.
    let mut kept: Vec<char> = Vec::with_capacity(normalized.len());
    for c in normalized.chars() {
        let c = hiragana_to_katakana(c);
        if is_katakana_letter(c) || c == CHOON || c == 'ヽ' || c == 'ヾ' {
            kept.push(c);
        } else if is_hyphen_like(c) || matches!(c, '~' | '〜' | '\u{FF5E}') {
            if kept.last().is_some_and(|&p| is_katakana_letter(p)) {
                kept.push(CHOON);
            }
        } else if c.is_alphanumeric() && !is_stray_mark(c) {
            kept.push(c.to_ascii_uppercase());
        }
        // Everything else is whitespace, punctuation (・, 、, ., ･) or a stray mark.
    }

    // Step 4 and 5.
    let mut folded: Vec<char> = Vec::with_capacity(kept.len());
    let mut input = kept.into_iter().peekable();
    while let Some(c) = input.next() {
        match c {
            'ヴ' => {
                let voiced = match input.peek() {
                    Some('ァ') => Some('バ'),
                    Some('ィ') => Some('ビ'),
                    Some('ェ') => Some('ベ'),
                    Some('ォ') => Some('ボ'),
                    Some('ゥ') => Some('ブ'),
                    _ => None,
                };
                if let Some(v) = voiced {
                    input.next();
                    folded.push(v);
                } else if matches!(input.peek(), Some('ャ' | 'ュ' | 'ョ')) {
                    folded.push('ビ');
                } else {
                    folded.push('ブ');
                }
            }
            'ヽ' | 'ヾ' => {
                // Repeats the previous kana; ヾ with voicing. Nothing before it: nothing to repeat.
                if let Some(&prev) = folded.last() {
                    let repeated = if c == 'ヾ' {
                        compose(unvoiced(prev), '\u{3099}').unwrap_or(prev)
                    } else {
                        prev
                    };
                    // ツ with voicing is ヅ, which step 4 writes ズ.
                    folded.push(fold_kana_char(repeated));
                }
            }
            other => folded.push(fold_kana_char(other)),
        }
    }

    // Step 6.
    let mut out = String::with_capacity(folded.len() * 3);
    let mut last: Option<char> = None;
    for c in folded {
        let emitted = if c == CHOON {
            if last == Some(CHOON) {
                continue;
            }
            CHOON
        } else if last.and_then(vowel_of).is_some_and(|v| prolongs(v, c)) {
            CHOON
        } else {
            c
        };
        out.push(emitted);
        last = Some(emitted);
    }
    finish(out)
}

/// Splits a name into family name and given name at the first space of either width
/// (U+0020 or U+3000, or any other whitespace) after trimming.
///
/// Both parts are trimmed but otherwise returned as written: fold them afterwards with
/// [`fold_kana`] or [`crate::fold_kanji_name`]. Without a space the whole name is the family
/// part and the given part is `None`; a caller cannot tell a family name from a given name
/// in an unspaced name, and should compare the whole name instead.
pub fn split_name(s: &str) -> (String, Option<String>) {
    let trimmed = s.trim();
    match trimmed.split_once(char::is_whitespace) {
        Some((family, given)) => {
            let given = given.trim();
            (
                family.to_owned(),
                (!given.is_empty()).then(|| given.to_owned()),
            )
        }
        None => (trimmed.to_owned(), None),
    }
}

fn hiragana_to_katakana(c: char) -> char {
    match c {
        // ぁ..ゖ and ゝゞ sit exactly 0x60 below their katakana.
        '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309E}' => {
            char::from_u32(u32::from(c) + 0x60).unwrap_or(c)
        }
        _ => c,
    }
}

/// Katakana letters (not ・ ー ヽ ヾ), including the small kana extension U+31F0–31FF.
fn is_katakana_letter(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | '\u{31F0}'..='\u{31FF}')
}

/// Step 5 and the one-character spelling variants of step 4.
fn fold_kana_char(c: char) -> char {
    match c {
        'ァ' => 'ア',
        'ィ' => 'イ',
        'ゥ' => 'ウ',
        'ェ' => 'エ',
        'ォ' => 'オ',
        'ッ' => 'ツ',
        'ャ' => 'ヤ',
        'ュ' => 'ユ',
        'ョ' => 'ヨ',
        'ヮ' => 'ワ',
        'ヵ' => 'カ',
        'ヶ' => 'ケ',
        'ヂ' => 'ジ',
        'ヅ' => 'ズ',
        'ヲ' => 'オ',
        'ヰ' => 'イ',
        'ヱ' => 'エ',
        'ヷ' => 'バ',
        'ヸ' => 'ビ',
        'ヹ' => 'ベ',
        'ヺ' => 'ボ',
        'ヴ' => 'ブ',
        'ㇰ' => 'ク',
        'ㇱ' => 'シ',
        'ㇲ' => 'ス',
        'ㇳ' => 'ト',
        'ㇴ' => 'ヌ',
        'ㇵ' => 'ハ',
        'ㇶ' => 'ヒ',
        'ㇷ' => 'フ',
        'ㇸ' => 'ヘ',
        'ㇹ' => 'ホ',
        'ㇺ' => 'ム',
        'ㇻ' => 'ラ',
        'ㇼ' => 'リ',
        'ㇽ' => 'ル',
        'ㇾ' => 'レ',
        'ㇿ' => 'ロ',
        other => other,
    }
}

/// The kana without its voicing mark (ガ → カ), for ヾ.
fn unvoiced(c: char) -> char {
    let mut base = None;
    unicode_normalization::char::decompose_canonical(c, |d| {
        if base.is_none() {
            base = Some(d);
        }
    });
    base.unwrap_or(c)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Vowel {
    A,
    I,
    U,
    E,
    O,
}

/// The vowel a (large, folded) katakana ends in; `None` for ン, ー and non-kana.
fn vowel_of(c: char) -> Option<Vowel> {
    const A: &str = "アカガサザタダナハバパマヤラワ";
    const I: &str = "イキギシジチニヒビピミリ";
    const U: &str = "ウクグスズツヌフブプムユル";
    const E: &str = "エケゲセゼテデネヘベペメレ";
    const O: &str = "オコゴソゾトドノホボポモヨロ";
    [
        (A, Vowel::A),
        (I, Vowel::I),
        (U, Vowel::U),
        (E, Vowel::E),
        (O, Vowel::O),
    ]
    .into_iter()
    .find(|(row, _)| row.contains(c))
    .map(|(_, v)| v)
}

/// Whether vowel kana `c` after a mora ending in `v` writes that mora long.
fn prolongs(v: Vowel, c: char) -> bool {
    matches!(
        (v, c),
        (Vowel::A, 'ア')
            | (Vowel::I, 'イ')
            | (Vowel::U, 'ウ')
            | (Vowel::E, 'エ' | 'イ')
            | (Vowel::O, 'オ' | 'ウ')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_folded_kana_has_a_vowel_or_is_n() {
        // The vowel table must cover every large katakana the fold can emit, or a long vowel
        // after it would be missed.
        for c in '\u{30A1}'..='\u{30FA}' {
            let f = fold_kana_char(c);
            if f == 'ン' {
                continue;
            }
            assert!(vowel_of(f).is_some(), "no vowel for {f} (from {c})");
        }
    }
}
