//! 住所 and 郵便番号: folding addresses into a comparison key, comparing two keys by how much of
//! the address they share, and folding postal codes.
//!
//! An address is folded into three parts: the prefecture (optional, because facilities often
//! leave it out), the body (municipality, town and block number — the part compared), and the
//! building with its room (split off, because it is written in too many ways to compare).
//!
//! The folding is a heuristic on free text, not a parse against an address database: it does
//! not know every town name, and reads 十条 (a town in 北区) as 10条, like 北10条 in 札幌. It only
//! has to fold two spellings of one address to one key, and any rule it applies to one side it
//! applies to the other, so a misread town name still compares equal to itself.

use crate::chars::{
    CHOON, finish, is_hyphen_like, is_ideograph, is_kanji_numeral, is_stray_mark,
    kanji_numeral_value, nfkc,
};
use crate::kanji::itaiji;
use std::fmt;

/// A folded address (住所), for comparison only.
///
/// `Display` writes the prefecture, the body, then a space and the building; folding that text
/// again gives the same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AddressKey {
    /// 都道府県 as written in full (`神奈川県`, `東京都`), when the address named one.
    pub prefecture: Option<String>,
    /// Municipality, town and block number: `横浜市中区山下町1-2-3`. 丁目/番地/番/号 are written as
    /// `-`, numerals as ASCII digits, with no spaces and no 大字/字 or 郡.
    pub body: String,
    /// Building and room after the block number (`ハイツ桜201`, `マンション3F`, `101`).
    pub building: Option<String>,
}

impl fmt::Display for AddressKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.prefecture {
            f.write_str(p)?;
        }
        f.write_str(&self.body)?;
        if let Some(b) = &self.building {
            write!(f, " {b}")?;
        }
        Ok(())
    }
}

/// How much of two addresses is the same, from most to least. See [`address_prefix_level`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressMatch {
    /// Same body (municipality, town and every block number). Building is not compared.
    Exact,
    /// Same municipality, town, and first two block numbers (丁目 and 番), different or
    /// missing 号.
    SameBlock,
    /// Same municipality, town and first block number (丁目, or 番地 where the town has no
    /// 丁目), then different or missing.
    SameChome,
    /// Same municipality and town (町・字), different or missing block numbers.
    SameTown,
    /// Same municipality (市区町村, with the ward of a designated city), different town.
    SameCity,
    /// Different municipality, different prefecture, or either address empty.
    Different,
}

/// The 47 prefectures as written in full; the body never starts with one of these.
pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// 政令指定都市: their addresses name a ward (区) after the city, and the ward is part of the
/// municipality.
const DESIGNATED_CITIES: [&str; 20] = [
    "札幌市",
    "仙台市",
    "さいたま市",
    "千葉市",
    "横浜市",
    "川崎市",
    "相模原市",
    "新潟市",
    "静岡市",
    "浜松市",
    "名古屋市",
    "京都市",
    "大阪市",
    "堺市",
    "神戸市",
    "岡山市",
    "広島市",
    "北九州市",
    "福岡市",
    "熊本市",
];

/// Words after a number that make the number part of a town name (北1条, 3番町, 第5地割)
/// rather than the block number.
const TOWN_CONTINUATIONS: [char; 9] = ['条', '線', '地', '町', '丁', '区', '通', '軒', '番'];

/// Block-number words, longest first so 番地 is not read as 番.
const BLOCK_MARKERS: [&str; 4] = ["丁目", "番地", "番", "号"];

/// Folds an address (住所) into an [`AddressKey`].
///
/// Steps: NFKC (full-width digits and letters to ASCII, half-width kana to full-width);
/// variation selectors and stray combining marks dropped; itaiji folded as for names (髙, 﨑);
/// ASCII upper-cased; a leading 〒 and postal code dropped; 大字 and 字 removed; the prefecture
/// split off; 郡 (county) names removed, since people leave them out and a 町村 name is enough
/// within a prefecture; ヶ/ケ/ヵ/が between kanji written ケ (霞ヶ関, 霞が関) and の/ノ between
/// kanji written ノ; kanji numerals before or after a block word written in ASCII digits
/// (一丁目 → 1丁目, 二十三番 → 23番, 百五 → 105); 丁目, 番地, 番, 号, every hyphen-like
/// character (‐ - ‒ – — ― − ⁃ － ﹣, and ー or ｰ after a digit) and の between numbers written
/// as one `-`, trailing `-` (from a final 号) dropped; spaces removed.
///
/// The block number is the first run of numbers joined by `-` that is not part of a town name
/// (北1条 and 3番町 are town names). Whatever follows it is the building: after a space, after
/// a non-number, or a fourth number (`1-2-3-201` is room 201 of 1-2-3). In the building,
/// `号室` and `室` are dropped and `階` after a digit is written `F`.
///
/// Kanji numerals elsewhere stay as written: 四日市, 八王子, 六本木 are names, not numbers.
pub fn fold_address(s: &str) -> AddressKey {
    let mut text = prepare(s);
    let mut prefecture: Option<String> = None;
    // Postal code, prefecture and county lead the address in that order. Taking them off
    // until none is left makes the key the same whatever order nonsense input has them in.
    loop {
        let before = text.len();
        text = strip_leading_postal_codes(&text).to_owned();
        if prefecture.is_none()
            && let Some(p) = PREFECTURES.iter().find(|p| text.starts_with(**p))
        {
            prefecture = Some((*p).to_owned());
            text = text
                .get(p.len()..)
                .unwrap_or_default()
                .trim_start()
                .to_owned();
        }
        text = strip_county(&text);
        if text.len() == before {
            break;
        }
    }
    let chars: Vec<char> = text.chars().collect();
    let chars = normalize_ke_no(&chars);
    let chars = convert_numbers(&chars);
    let (body, building) = split_block(&chars);
    AddressKey {
        prefecture,
        body: finish(body),
        building: building.map(finish),
    }
}

/// Compares two folded addresses by the longest shared prefix of municipality, town and
/// block numbers.
///
/// A prefecture missing on one side is taken to match; two different prefectures are
/// [`AddressMatch::Different`]. Buildings are not compared. The municipality is read from
/// the body as the text up to the first 市, 区, 町 or 村 (with the ward of a 政令指定都市,
/// and 四日市市 or 十日町市 whole); the block numbers are the `-`-joined numbers at the end of
/// the body; the town is what lies between. Both addresses must name their municipality for
/// anything better than `Different`: `山下町1-2-3` alone shares no municipality with
/// `横浜市中区山下町1-2-3`.
pub fn address_prefix_level(a: &AddressKey, b: &AddressKey) -> AddressMatch {
    if let (Some(pa), Some(pb)) = (&a.prefecture, &b.prefecture)
        && pa != pb
    {
        return AddressMatch::Different;
    }
    if a.body.is_empty() || b.body.is_empty() {
        return AddressMatch::Different;
    }
    if a.body == b.body {
        return AddressMatch::Exact;
    }
    let (pa, pb) = (parts(&a.body), parts(&b.body));
    if pa.city.is_empty() || pa.city != pb.city {
        return AddressMatch::Different;
    }
    if pa.town != pb.town {
        return AddressMatch::SameCity;
    }
    match (pa.numbers.first(), pb.numbers.first()) {
        (Some(x), Some(y)) if x == y => match (pa.numbers.get(1), pb.numbers.get(1)) {
            (Some(x), Some(y)) if x == y => AddressMatch::SameBlock,
            _ => AddressMatch::SameChome,
        },
        _ => AddressMatch::SameTown,
    }
}

/// Folds a postal code (郵便番号) to its 7 digits.
///
/// Accepts full-width digits, a leading 〒, and hyphens or spaces anywhere (`〒240-0001`,
/// `２４０－０００１`, `2400001`). Anything else, or a number of digits other than 7, is `None`.
pub fn fold_postal_code(s: &str) -> Option<String> {
    let mut digits = String::with_capacity(7);
    for c in nfkc(s).chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !(c.is_whitespace() || is_hyphen_like(c) || c == CHOON || c == '〒') {
            return None;
        }
    }
    (digits.len() == 7).then_some(digits)
}

/// NFKC, per-character folds, 大字/字 removed, and every space dropped except one after a
/// number.
fn prepare(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in nfkc(s).chars() {
        if is_stray_mark(c) {
            continue;
        }
        let c = if c.is_whitespace() || matches!(c, '、' | ',' | '，') {
            ' '
        } else if is_hyphen_like(c) {
            '-'
        } else {
            itaiji(c).unwrap_or(c).to_ascii_uppercase()
        };
        out.push(c);
    }
    // 大字 and 字 only introduce a town name (大字南矢幅, 平字田町); they appear in one record
    // and not in the next.
    let out = out.replace("大字", "").replace('字', "");
    // A space means something only where it ends a number (`1-2-3 101`: room 101). Anywhere
    // else it is dropped now, so that `東京 都` is read as 東京都 and later steps never see a
    // space inside a word.
    let mut kept = String::with_capacity(out.len());
    let mut last: Option<char> = None;
    for c in out.chars() {
        if c == ' ' && !last.is_some_and(|p| p.is_ascii_digit() || is_kanji_numeral(p)) {
            continue;
        }
        kept.push(c);
        last = Some(c);
    }
    // Compose now what the removals put side by side, before anything counts characters.
    finish(kept.trim_end().to_owned())
}

fn strip_leading_postal_codes(s: &str) -> &str {
    let mut rest = s.trim_start();
    while let Some(after_mark) = rest.strip_prefix('〒') {
        rest = after_mark
            .trim_start_matches(|c: char| c.is_ascii_digit() || c == '-' || c == ' ' || c == CHOON);
    }
    rest
}

/// Removes a county (郡) name at the start: `愛甲郡愛川町` → `愛川町`.
///
/// 郡 must come after one to four characters (spaces not counted) that are not numbers, and
/// not be followed by 市 or 山市, so that 郡山市, 蒲郡市 and 大和郡山市 stay whole.
fn strip_county(s: &str) -> String {
    let mut current = s.to_owned();
    loop {
        let mut name_len = 0;
        let mut county_end = None;
        for (i, c) in current.char_indices() {
            if c == '郡' && name_len >= 1 {
                county_end = Some(i + c.len_utf8());
                break;
            }
            if c == ' ' {
                continue;
            }
            if c.is_ascii_digit() || c == '-' || name_len == 4 {
                break;
            }
            name_len += 1;
        }
        let Some(end) = county_end else {
            return current;
        };
        let rest = current.get(end..).unwrap_or_default();
        if rest.starts_with('市') || rest.starts_with("山市") {
            return current;
        }
        current = rest.trim_start().to_owned();
    }
}

fn prev_non_space(v: &[char], i: usize) -> Option<char> {
    v.get(..i)?.iter().rev().copied().find(|&c| c != ' ')
}

fn next_non_space(v: &[char], i: usize) -> Option<char> {
    v.get(i..)?.iter().copied().find(|&c| c != ' ')
}

/// ヶ/ケ/ヵ/が/ガ between kanji → ケ; の/ノ between kanji → ノ.
fn normalize_ke_no(v: &[char]) -> Vec<char> {
    v.iter()
        .enumerate()
        .map(|(i, &c)| {
            let between_kanji = prev_non_space(v, i).is_some_and(is_ideograph)
                && next_non_space(v, i + 1).is_some_and(is_ideograph);
            match c {
                'ヶ' | 'ケ' | 'ヵ' | 'が' | 'ガ' if between_kanji => 'ケ',
                'の' | 'ノ' if between_kanji => 'ノ',
                other => other,
            }
        })
        .collect()
}

fn starts_with_at(v: &[char], i: usize, word: &str) -> bool {
    let mut rest = v.get(i..).unwrap_or_default().iter();
    word.chars().all(|w| rest.next() == Some(&w))
}

fn ends_with_word(v: &[char], word: &str) -> bool {
    let n = word.chars().count();
    v.len() >= n && starts_with_at(v, v.len() - n, word)
}

/// Whether a kanji numeral run ending before `v[next]` is a number: followed by a block word,
/// 条/線/地割, a hyphen, or の and another number; or preceded by a block word or hyphen.
fn numeric_context(out: &[char], v: &[char], next: usize) -> bool {
    let mut after = next;
    while v.get(after) == Some(&' ') {
        after += 1;
    }
    if starts_with_at(v, after, "番町") {
        // 一番町, 三番町: town names, not block 1 or 3.
        return false;
    }
    let followed = ["丁目", "番地", "番", "号", "地割", "条", "線", "-"]
        .iter()
        .any(|w| starts_with_at(v, after, w))
        || v.get(after) == Some(&CHOON)
        || (matches!(v.get(after), Some('の' | 'ノ'))
            && next_non_space(v, after + 1)
                .is_some_and(|c| c.is_ascii_digit() || is_kanji_numeral(c)));
    if followed {
        return true;
    }
    let trimmed = trim_end_spaces(out);
    ["丁目", "番地", "番", "号", "-"]
        .iter()
        .any(|w| ends_with_word(trimmed, w))
        || trimmed.last() == Some(&CHOON)
        || (matches!(trimmed.last(), Some('の' | 'ノ'))
            && ends_with_number(
                trimmed
                    .get(..trimmed.len().saturating_sub(1))
                    .unwrap_or_default(),
            ))
}

/// Whether `out` ends with a number, or with the hyphen after one (`12`, `12 `, `12-`).
fn ends_with_number(out: &[char]) -> bool {
    let trimmed = trim_end_spaces(out);
    match trimmed.last() {
        Some(p) if p.is_ascii_digit() => true,
        Some('-') => prev_non_space(trimmed, trimmed.len().saturating_sub(1))
            .is_some_and(|p| p.is_ascii_digit()),
        _ => false,
    }
}

fn trim_end_spaces(v: &[char]) -> &[char] {
    let end = v.iter().rposition(|&c| c != ' ').map_or(0, |p| p + 1);
    v.get(..end).unwrap_or_default()
}

/// Kanji numerals next to a block word or hyphen → ASCII digits; 丁目/番地/番/号, ー and の
/// after a number → `-`; `-` never doubled.
///
/// One left-to-right pass, so that each decision sees the words before it already converted
/// (一丁目の二: 二 follows `1-` by the time it is read) exactly as a second fold would.
fn convert_numbers(v: &[char]) -> Vec<char> {
    let mut out: Vec<char> = Vec::with_capacity(v.len());
    let mut i = 0;
    while let Some(&c) = v.get(i) {
        if is_kanji_numeral(c) {
            let start = i;
            while v.get(i).is_some_and(|&c| is_kanji_numeral(c)) {
                i += 1;
            }
            let run = v.get(start..i).unwrap_or_default();
            match kanji_numeral_value(run).filter(|_| numeric_context(&out, v, i)) {
                Some(value) => out.extend(value.chars()),
                None => out.extend_from_slice(run),
            }
            continue;
        }
        // After a number, or after the hyphen that ends one: 1丁目番地 is 1-, and so is 1-番地.
        let after_digit = ends_with_number(&out);
        if after_digit && starts_with_at(v, i, "号室") {
            // Room: keep 室 so the building fold can see it; the 号 is not a block number.
            i += 1;
            continue;
        }
        if after_digit && !starts_with_at(v, i, "番町") {
            if let Some(word) = BLOCK_MARKERS.iter().find(|w| starts_with_at(v, i, w)) {
                push_hyphen(&mut out);
                i += word.chars().count();
                continue;
            }
            if c == CHOON {
                push_hyphen(&mut out);
                i += 1;
                continue;
            }
        }
        if c == '-' {
            push_hyphen(&mut out);
            i += 1;
            continue;
        }
        if matches!(c, 'の' | 'ノ') {
            let number_follows =
                next_non_space(v, i + 1).is_some_and(|n| n.is_ascii_digit() || is_kanji_numeral(n));
            if after_digit && number_follows {
                push_hyphen(&mut out);
                i += 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Pushes `-`, dropping spaces before it when it follows a number, and never two in a row.
fn push_hyphen(out: &mut Vec<char>) {
    if prev_non_space(out, out.len()).is_some_and(|p| p.is_ascii_digit() || p == '-') {
        while out.last() == Some(&' ') {
            out.pop();
        }
    }
    if out.last() != Some(&'-') {
        out.push('-');
    }
}

/// Splits the folded text into body and building at the block number.
fn split_block(v: &[char]) -> (String, Option<String>) {
    let mut body = String::new();
    let mut i = 0;
    while let Some(&c) = v.get(i) {
        if c == ' ' {
            i += 1;
            continue;
        }
        if !c.is_ascii_digit() {
            body.push(c);
            i += 1;
            continue;
        }
        let run = read_number_run(v, i);
        let continues_town = v
            .get(run.end)
            .is_some_and(|n| TOWN_CONTINUATIONS.contains(n));
        if continues_town {
            body.push_str(&run.parts.join("-"));
            if run.trailing_hyphen {
                body.push('-');
            }
            i = run.end;
            continue;
        }
        let (block, extra) = run.parts.split_at(run.parts.len().min(3));
        body.push_str(&block.join("-"));
        let mut building_raw: Vec<char> = extra.join("-").chars().collect();
        if !building_raw.is_empty() {
            building_raw.push(' ');
        }
        building_raw.extend_from_slice(v.get(run.end..).unwrap_or_default());
        return (body, fold_building(&building_raw));
    }
    (body, None)
}

struct NumberRun {
    parts: Vec<String>,
    trailing_hyphen: bool,
    /// Index just after the run (after a trailing hyphen, before any space after the run).
    end: usize,
}

/// Reads `12-3 - 4-` from `v[start]`: numbers joined by hyphens, spaces allowed around a
/// hyphen but not between two numbers.
fn read_number_run(v: &[char], start: usize) -> NumberRun {
    let mut parts = Vec::new();
    let mut i = start;
    loop {
        let mut part = String::new();
        while let Some(&d) = v.get(i).filter(|d| d.is_ascii_digit()) {
            part.push(d);
            i += 1;
        }
        parts.push(part);
        let mut j = i;
        while v.get(j) == Some(&' ') {
            j += 1;
        }
        if v.get(j) != Some(&'-') {
            return NumberRun {
                parts,
                trailing_hyphen: false,
                end: i,
            };
        }
        j += 1;
        let after_hyphen = j;
        while v.get(j) == Some(&' ') {
            j += 1;
        }
        if v.get(j).is_some_and(|d| d.is_ascii_digit()) {
            i = j;
        } else {
            return NumberRun {
                parts,
                trailing_hyphen: true,
                end: after_hyphen,
            };
        }
    }
}

/// Building and room: spaces and edge hyphens dropped, 室 dropped at the end, 階 after a digit
/// written F.
fn fold_building(v: &[char]) -> Option<String> {
    let mut out: Vec<char> = Vec::with_capacity(v.len());
    for &c in v {
        match c {
            ' ' => {}
            '階' if out.last().is_some_and(char::is_ascii_digit) => out.push('F'),
            other => out.push(other),
        }
    }
    while let Some('-' | '室') = out.last() {
        out.pop();
    }
    let start = out.iter().position(|&c| c != '-').unwrap_or(out.len());
    let folded: String = out.get(start..).unwrap_or_default().iter().collect();
    (!folded.is_empty()).then_some(folded)
}

/// Municipality, town and block numbers of a folded body.
struct Parts<'a> {
    city: &'a str,
    town: &'a str,
    numbers: Vec<&'a str>,
}

fn parts(body: &str) -> Parts<'_> {
    // The block numbers are the digits and hyphens at the end, starting with a digit.
    let tail_start = body
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_ascii_digit() || c == '-')
        .last()
        .map_or(body.len(), |(i, _)| i);
    let tail_start = body
        .get(tail_start..)
        .and_then(|t| t.find(|c: char| c.is_ascii_digit()))
        .map_or(body.len(), |off| tail_start + off);
    let (head, tail) = body.split_at_checked(tail_start).unwrap_or((body, ""));
    let numbers = tail.split('-').filter(|p| !p.is_empty()).collect();
    let city_len = city_length(head);
    let (city, town) = head.split_at_checked(city_len).unwrap_or((head, ""));
    Parts {
        city,
        town,
        numbers,
    }
}

/// Byte length of the municipality at the start of `head` (0 when none is found).
fn city_length(head: &str) -> usize {
    if let Some(city) = DESIGNATED_CITIES.iter().find(|c| head.starts_with(**c)) {
        let rest = head.get(city.len()..).unwrap_or_default();
        // Ward names are one to four characters (北区, 花見川区); a 区 further on is not a ward.
        return match rest.char_indices().take(5).find(|&(_, c)| c == '区') {
            Some((i, _)) => city.len() + i + '区'.len_utf8(),
            None => city.len(),
        };
    }
    for (i, c) in head.char_indices().skip(1) {
        if !matches!(c, '市' | '区' | '町' | '村') {
            continue;
        }
        let mut end = i + c.len_utf8();
        // 四日市市, 廿日市市 (市 twice); 大町市, 十日町市 (a 町 inside a city name).
        let rest = head.get(end..).unwrap_or_default();
        if matches!(c, '市' | '町' | '村') && rest.starts_with('市') {
            end += '市'.len_utf8();
        }
        return end;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_reads_city_town_and_numbers() {
        let p = parts("横浜市中区山下町1-2-3");
        assert_eq!((p.city, p.town), ("横浜市中区", "山下町"));
        assert_eq!(p.numbers, vec!["1", "2", "3"]);
        let p = parts("千代田区丸の内1");
        assert_eq!((p.city, p.town), ("千代田区", "丸の内"));
        let p = parts("四日市市諏訪町1-5");
        assert_eq!((p.city, p.town), ("四日市市", "諏訪町"));
        let p = parts("十日町市本町1");
        assert_eq!((p.city, p.town), ("十日町市", "本町"));
        let p = parts("札幌市中央区北1条西2-1-1");
        assert_eq!((p.city, p.town), ("札幌市中央区", "北1条西"));
        assert_eq!(p.numbers, vec!["2", "1", "1"]);
        let p = parts("町田市原町田");
        assert_eq!((p.city, p.town), ("町田市", "原町田"));
        assert!(p.numbers.is_empty());
    }

    #[test]
    fn county_names_are_removed_but_not_from_city_names() {
        assert_eq!(strip_county("愛甲郡愛川町"), "愛川町");
        assert_eq!(strip_county("郡山市"), "郡山市");
        assert_eq!(strip_county("蒲郡市"), "蒲郡市");
        assert_eq!(strip_county("大和郡山市"), "大和郡山市");
    }
}
