//! 漢字氏名: folding kanji names, the 異体字 (itaiji) table, unknown-character markers and the
//! short list of characters that are "similar" but not equal.
//!
//! # Equal, similar, different
//!
//! Two spellings are **equal** here only when they are the same character in different
//! clothes: a 旧字体 and its 新字体 (齋 and 斎), a 俗字 and its standard form (髙 and 高), a glyph
//! variant chosen with a variation selector (辻 with one or two dots). They are folded to one
//! character by [`fold_kanji_name`].
//!
//! Two characters are **similar** when they are different characters that are often confused
//! in one name: 斎藤 and 斉藤 are both real, different registered surnames, but a clerk who hears
//! "サイトウ" types either. They are *not* folded; [`kanji_similar`] names them so the matcher can
//! give partial credit. Keeping this list short is deliberate: every pair on it makes two real
//! people look more alike.
//!
//! # Source of the table
//!
//! [`ITAIJI_KYUJITAI`] are 康熙字典体 (旧字体) → 新字体 pairs as printed side by side in the
//! 常用漢字表 (内閣告示, 2010), where the 康熙字典体 is given in brackets after each 新字体, and in
//! 人名用漢字 別表第二 of 戸籍法施行規則, which lists the old forms that may be used in names
//! with their new forms. Only characters seen in names and place names are listed.
//!
//! [`ITAIJI_SURNAME`] are 異体字 and 俗字 of surname characters that 漢和 dictionaries (e.g.
//! 大漢和辞典) give as the same character, and that the 戸籍統一文字 / MJ文字情報 used by 戸籍 and
//! 住基 systems keep as separate glyphs of one character: 髙 (はしごだか), 﨑 and 嵜 (たつさき), 邉,
//! 濵, 嶋 and 嶌, 冨, 𠮷 (つちよし) …. Facility systems that cannot store them write the
//! standard form, so the same person appears both ways.
//!
//! Deliberately **not** folded: 龍/竜 (both name characters in their own right; similar),
//! 斎/斉 (different characters; similar), 辺/部 (渡辺 and 渡部 are different surnames that share
//! the reading ワタナベ; the kana name already compares the reading).

use crate::chars::{finish, is_ideograph, is_stray_mark, nfkc};

/// The one marker for a character the sending system could not represent.
///
/// Old systems print ■ or 〓 (geta) for a kanji outside their character set; conversions
/// produce U+FFFD or `?`. [`fold_kanji_name`] writes all of them as this character so callers
/// can treat it as a wildcard.
pub const UNKNOWN_CHAR: char = '〓';

/// Folds a kanji name (漢字氏名) into a comparison key.
///
/// Steps: variation selectors (U+FE00–FE0F, U+E0100–E01EF) dropped; NFKC (full-width Latin to
/// ASCII, half-width kana to full-width, compatibility ideographs such as 神 (U+FA19) to
/// their unified form); whitespace of either width and middle dots (・ ･ ·) removed; ■, 〓,
/// U+FFFD and `?` written as [`UNKNOWN_CHAR`]; the itaiji table applied; 々 spelled out
/// (佐々木 → 佐佐木: both spellings are registered for one surname); ASCII upper-cased.
///
/// Hiragana and katakana are kept as written: さくら and サクラ are different registered names.
pub fn fold_kanji_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last: Option<char> = None;
    for c in nfkc(s).chars() {
        if c.is_whitespace() || is_middle_dot(c) || is_stray_mark(c) {
            continue;
        }
        let folded = if is_unknown_marker(c) {
            UNKNOWN_CHAR
        } else if c == '々' {
            match last {
                Some(p) if is_ideograph(p) || p == UNKNOWN_CHAR => p,
                _ => c,
            }
        } else {
            itaiji(c).unwrap_or(c).to_ascii_uppercase()
        };
        out.push(folded);
        last = Some(folded);
    }
    finish(out)
}

/// Whether a name contains a marker for a character the sending system could not represent
/// (■, 〓, U+FFFD, `?`, in either width).
pub fn has_unknown_chars(s: &str) -> bool {
    s.chars()
        .any(|c| is_unknown_marker(c) || matches!(c, '\u{FF1F}'))
}

/// Compares two kanji names where either side may contain unknown characters.
///
/// After [`fold_kanji_name`], the names must have the same number of characters and each
/// position must be equal or [`UNKNOWN_CHAR`] on one side. An unknown character stands for
/// exactly one character: 渡〓 matches 渡辺 but not 渡辺辺. Names with no unknown character
/// compare as plain equality of the folded names. A name made only of markers matches every
/// name of its length, so callers should weigh a match through markers below an exact one.
pub fn kanji_eq_with_unknown(a: &str, b: &str) -> bool {
    let a: Vec<char> = fold_kanji_name(a).chars().collect();
    let b: Vec<char> = fold_kanji_name(b).chars().collect();
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(&x, &y)| x == y || x == UNKNOWN_CHAR || y == UNKNOWN_CHAR)
}

/// Whether two kanji are a known confusion: different characters that clerks often type for
/// one another in a name. Both are folded through the itaiji table first, so 齋 and 齊 are
/// similar because 斎 and 斉 are.
///
/// Equal characters (after folding) are *not* similar: check equality first.
///
/// The pairs, each a different character with one reading in names:
/// - 斎/斉 (サイ: 斎藤, 斉藤; old forms 齋, 齊)
/// - 竜/龍 (リュウ: 龍 is the 旧字体 of 竜, but both are chosen on purpose in given names)
/// - 藤/籐 (トウ: 佐藤 typed with 籐, rattan)
/// - 荻/萩 (荻原 オギワラ and 萩原 ハギワラ are different surnames whose kanji are misread for one
///   another; the kana name tells them apart)
pub fn kanji_similar(a: char, b: char) -> bool {
    let (a, b) = (fold_char(a), fold_char(b));
    a != b
        && SIMILAR
            .iter()
            .any(|&(x, y)| (a == x && b == y) || (a == y && b == x))
}

/// Whether two kanji names differ only by similar characters (see [`kanji_similar`]):
/// same length after [`fold_kanji_name`], every position equal, unknown on one side, or
/// similar, and at least one position similar. 斉藤 and 斎藤 are similar; 斎藤 and 斎藤 are not
/// (they are equal).
pub fn kanji_name_similar(a: &str, b: &str) -> bool {
    let a: Vec<char> = fold_kanji_name(a).chars().collect();
    let b: Vec<char> = fold_kanji_name(b).chars().collect();
    if a.len() != b.len() {
        return false;
    }
    let mut any_similar = false;
    for (&x, &y) in a.iter().zip(&b) {
        if x == y || x == UNKNOWN_CHAR || y == UNKNOWN_CHAR {
            continue;
        }
        if kanji_similar(x, y) {
            any_similar = true;
        } else {
            return false;
        }
    }
    any_similar
}

/// The itaiji fold of one character, as [`fold_kanji_name`] does it (for addresses too).
pub(crate) fn itaiji(c: char) -> Option<char> {
    itaiji_kyujitai(c).or_else(|| itaiji_surname(c))
}

fn fold_char(c: char) -> char {
    let mut buf = [0u8; 4];
    let normalized = nfkc(c.encode_utf8(&mut buf));
    let mut folded = normalized.chars();
    match (folded.next(), folded.next()) {
        (Some(single), None) => itaiji(single).unwrap_or(single),
        _ => c,
    }
}

fn is_unknown_marker(c: char) -> bool {
    matches!(c, '■' | '〓' | '\u{FFFD}' | '?')
}

fn is_middle_dot(c: char) -> bool {
    matches!(c, '・' | '･' | '·' | '\u{2027}')
}

const SIMILAR: &[(char, char)] = &[('斎', '斉'), ('竜', '龍'), ('藤', '籐'), ('荻', '萩')];

/// Declares a table both as data (for tests and documentation) and as a `match` (for speed:
/// the fold runs on every name of a million-record batch).
macro_rules! itaiji_table {
    ($(#[$doc:meta])* $table:ident, $lookup:ident: $($from:literal => $to:literal),* $(,)?) => {
        $(#[$doc])*
        pub const $table: &[(char, char)] = &[$(($from, $to)),*];

        fn $lookup(c: char) -> Option<char> {
            match c {
                $($from => Some($to),)*
                _ => None,
            }
        }
    };
}

itaiji_table! {
    /// 康熙字典体 (旧字体) → 新字体, from the 常用漢字表 (2010) and 人名用漢字 別表第二.
    ITAIJI_KYUJITAI, itaiji_kyujitai:
    '亞' => '亜', '圓' => '円', '鹽' => '塩', '櫻' => '桜', '奧' => '奥', '應' => '応',
    '歐' => '欧', '價' => '価', '會' => '会', '畫' => '画', '壞' => '壊', '懷' => '懐',
    '繪' => '絵', '擴' => '拡', '覺' => '覚', '學' => '学', '嶽' => '岳', '樂' => '楽',
    '卷' => '巻', '陷' => '陥', '勸' => '勧', '寬' => '寛', '關' => '関', '歡' => '歓',
    '觀' => '観', '氣' => '気', '歸' => '帰', '僞' => '偽', '戲' => '戯', '犧' => '犠',
    '舊' => '旧', '據' => '拠', '擧' => '挙', '峽' => '峡', '挾' => '挟', '狹' => '狭',
    '曉' => '暁', '區' => '区', '驅' => '駆', '勳' => '勲', '徑' => '径', '莖' => '茎',
    '惠' => '恵', '溪' => '渓', '經' => '経', '螢' => '蛍', '輕' => '軽', '繼' => '継',
    '鷄' => '鶏', '藝' => '芸', '儉' => '倹', '劍' => '剣', '圈' => '圏', '檢' => '検',
    '權' => '権', '獻' => '献', '縣' => '県', '險' => '険', '顯' => '顕', '驗' => '験',
    '嚴' => '厳', '效' => '効', '廣' => '広', '恆' => '恒', '鑛' => '鉱', '號' => '号',
    '國' => '国', '濟' => '済', '碎' => '砕', '齋' => '斎', '劑' => '剤', '雜' => '雑',
    '參' => '参', '慘' => '惨', '棧' => '桟', '蠶' => '蚕', '贊' => '賛', '殘' => '残',
    '絲' => '糸', '齒' => '歯', '兒' => '児', '辭' => '辞', '濕' => '湿', '實' => '実',
    '舍' => '舎', '寫' => '写', '釋' => '釈', '壽' => '寿', '收' => '収', '從' => '従',
    '澁' => '渋', '獸' => '獣', '縱' => '縦', '肅' => '粛', '處' => '処', '緖' => '緒',
    '敍' => '叙', '將' => '将', '燒' => '焼', '稱' => '称', '證' => '証', '奬' => '奨',
    '乘' => '乗', '剩' => '剰', '壤' => '壌', '孃' => '嬢', '條' => '条', '淨' => '浄',
    '狀' => '状', '疊' => '畳', '讓' => '譲', '釀' => '醸', '觸' => '触', '囑' => '嘱',
    '眞' => '真', '愼' => '慎', '寢' => '寝', '盡' => '尽', '圖' => '図', '粹' => '粋',
    '醉' => '酔', '隨' => '随', '髓' => '髄', '數' => '数', '樞' => '枢', '聲' => '声',
    '靜' => '静', '齊' => '斉', '攝' => '摂', '竊' => '窃', '專' => '専', '戰' => '戦',
    '淺' => '浅', '潛' => '潜', '纖' => '繊', '踐' => '践', '錢' => '銭', '禪' => '禅',
    '雙' => '双', '壯' => '壮', '搜' => '捜', '插' => '挿', '爭' => '争', '總' => '総',
    '聰' => '聡', '莊' => '荘', '裝' => '装', '騷' => '騒', '增' => '増', '藏' => '蔵',
    '臟' => '臓', '卽' => '即', '屬' => '属', '續' => '続', '墮' => '堕', '對' => '対',
    '體' => '体', '帶' => '帯', '滯' => '滞', '臺' => '台', '瀧' => '滝', '擇' => '択',
    '澤' => '沢', '單' => '単', '擔' => '担', '膽' => '胆', '團' => '団', '彈' => '弾',
    '斷' => '断', '癡' => '痴', '遲' => '遅', '晝' => '昼', '蟲' => '虫', '鑄' => '鋳',
    '廳' => '庁', '聽' => '聴', '敕' => '勅', '鎭' => '鎮', '遞' => '逓', '鐵' => '鉄',
    '轉' => '転', '點' => '点', '傳' => '伝', '黨' => '党', '盜' => '盗', '燈' => '灯',
    '當' => '当', '鬭' => '闘', '德' => '徳', '獨' => '独', '讀' => '読', '屆' => '届',
    '繩' => '縄', '貳' => '弐', '惱' => '悩', '腦' => '脳', '霸' => '覇', '廢' => '廃',
    '拜' => '拝', '賣' => '売', '麥' => '麦', '發' => '発', '髮' => '髪', '拔' => '抜',
    '蠻' => '蛮', '祕' => '秘', '濱' => '浜', '甁' => '瓶', '拂' => '払', '佛' => '仏',
    '竝' => '並', '變' => '変', '邊' => '辺', '辨' => '弁', '辯' => '弁', '瓣' => '弁',
    '舖' => '舗', '穗' => '穂', '寶' => '宝', '豐' => '豊', '沒' => '没', '飜' => '翻',
    '每' => '毎', '萬' => '万', '滿' => '満', '默' => '黙', '彌' => '弥', '譯' => '訳',
    '藥' => '薬', '與' => '与', '豫' => '予', '餘' => '余', '譽' => '誉', '搖' => '揺',
    '樣' => '様', '謠' => '謡', '來' => '来', '賴' => '頼', '亂' => '乱', '覽' => '覧',
    '兩' => '両', '獵' => '猟', '綠' => '緑', '壘' => '塁', '淚' => '涙', '勵' => '励',
    '禮' => '礼', '隸' => '隷', '靈' => '霊', '齡' => '齢', '曆' => '暦', '歷' => '歴',
    '戀' => '恋', '爐' => '炉', '勞' => '労', '樓' => '楼', '郞' => '郎', '錄' => '録',
    '灣' => '湾', '黑' => '黒', '榮' => '栄', '營' => '営', '衞' => '衛', '驛' => '駅',
}

itaiji_table! {
    /// 異体字 and 俗字 of surname and place-name characters → the standard form.
    ITAIJI_SURNAME, itaiji_surname:
    '髙' => '高', '﨑' => '崎', '嵜' => '崎', '碕' => '崎', '邉' => '辺', '濵' => '浜',
    '嶋' => '島', '嶌' => '島', '槇' => '槙', '瀨' => '瀬', '冨' => '富', '舘' => '館',
    '淵' => '渕', '檜' => '桧', '曾' => '曽', '峯' => '峰', '𠮷' => '吉', '戶' => '戸',
    '靑' => '青', '淸' => '清', '內' => '内', '藪' => '薮', '鷗' => '鴎', '禰' => '祢',
    '頴' => '穎', '篭' => '籠', '桒' => '桑', '邨' => '村', '埜' => '野',
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn all_pairs() -> impl Iterator<Item = (char, char)> {
        ITAIJI_KYUJITAI.iter().chain(ITAIJI_SURNAME).copied()
    }

    #[test]
    fn table_sources_are_distinct_from_their_targets_and_reachable() {
        let mut seen = HashSet::new();
        for (from, to) in all_pairs() {
            assert_ne!(from, to, "{from} maps to itself");
            assert!(seen.insert(from), "{from} is listed twice");
            // NFKC runs first; a source it rewrites would never be looked up.
            assert_eq!(
                nfkc(&from.to_string()),
                from.to_string(),
                "{from} changes under NFKC"
            );
            assert_eq!(
                nfkc(&to.to_string()),
                to.to_string(),
                "{to} changes under NFKC"
            );
            assert!(is_ideograph(from) && is_ideograph(to));
        }
    }

    #[test]
    fn table_targets_are_never_sources_so_one_pass_is_enough() {
        let sources: HashSet<char> = all_pairs().map(|(f, _)| f).collect();
        for (from, to) in all_pairs() {
            assert!(!sources.contains(&to), "{from} → {to} → {:?}", itaiji(to));
        }
    }

    #[test]
    fn similar_pairs_are_not_folded_together() {
        for &(a, b) in SIMILAR {
            assert_ne!(fold_char(a), fold_char(b));
            assert_eq!(itaiji(a), None);
            assert_eq!(itaiji(b), None);
        }
    }
}
