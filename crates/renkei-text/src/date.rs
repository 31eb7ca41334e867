//! 生年月日: dates in the Gregorian forms systems export and the Japanese era (和暦) forms that
//! people and older systems write.

use crate::chars::{is_kanji_numeral, kanji_numeral_value, nfkc};

/// One Japanese era: its names, its Gregorian first year and its first day.
struct Era {
    names: &'static [&'static str],
    first_year: i32,
    starts: (i32, u8, u8),
}

/// 明治 to 令和. 明治 is counted from 慶応4年1月1日 (1868-01-25), as the 改元の詔 made it
/// retroactive; dates before the switch to the solar calendar (明治6年, 1873) are read as if
/// they were Gregorian, which does not matter for anyone alive.
const ERAS: [Era; 5] = [
    Era {
        names: &["明治", "明", "M"],
        first_year: 1868,
        starts: (1868, 1, 25),
    },
    Era {
        names: &["大正", "大", "T"],
        first_year: 1912,
        starts: (1912, 7, 30),
    },
    Era {
        names: &["昭和", "昭", "S"],
        first_year: 1926,
        starts: (1926, 12, 25),
    },
    Era {
        names: &["平成", "平", "H"],
        first_year: 1989,
        starts: (1989, 1, 8),
    },
    Era {
        names: &["令和", "令", "R"],
        first_year: 2019,
        starts: (2019, 5, 1),
    },
];

/// Folds a date to `(year, month, day)`, or `None` if it is not a valid calendar date.
///
/// Gregorian: `19800102`, `1980-01-02`, `1980/1/2`, `1980.1.2`, `1980年1月2日`, in either width,
/// with a four-digit year (`80/1/2` is `None`).
/// Japanese era: `昭和15年3月2日`, `S15.3.2`, `s15/3/2`, `H2.1.8`, `R1.5.1`, `平成元年1月8日`,
/// `昭和十五年三月二日`, with the era as 明治/大正/昭和/平成/令和, their first kanji, or
/// M/T/S/H/R; 元年 is year 1.
///
/// The month and day must exist (no 2月30日; 2月29日 only in leap years), and an era date must
/// not fall before its era began (令和1年4月1日 never existed). An era date *after* its era
/// ended is accepted (平成31年5月1日, 平成32年): systems kept printing the old era after 改元,
/// and the Gregorian year is still unambiguous. A year alone (`平成元年`) is not a date.
pub fn fold_date(s: &str) -> Option<(i32, u8, u8)> {
    let text: Vec<char> = nfkc(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if let Some((era, rest)) = split_era(&text) {
        let (year, month, day) = parse_ymd(rest, true)?;
        if !(1..=99).contains(&year) {
            return None;
        }
        let year = era.first_year + i32::try_from(year).ok()? - 1;
        let date = checked_date(year, month, day)?;
        return (date >= era.starts).then_some(date);
    }
    if text.len() == 8 && text.iter().all(char::is_ascii_digit) {
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            text.get(range)?.iter().collect::<String>().parse().ok()
        };
        return checked_date(
            i32::try_from(number(0..4)?).ok()?,
            number(4..6)?,
            number(6..8)?,
        );
    }
    let (year, month, day) = parse_ymd(&text, false)?;
    // 80/1/2 could be 1980 or 2080 (or 昭和80年); only a four-digit year is read.
    if year < 1000 {
        return None;
    }
    checked_date(i32::try_from(year).ok()?, month, day)
}

fn split_era(text: &[char]) -> Option<(&'static Era, &[char])> {
    ERAS.iter().find_map(|era| {
        era.names.iter().find_map(|name| {
            let n = name.chars().count();
            let head = text.get(..n)?;
            (head.iter().copied().eq(name.chars()))
                .then(|| (era, text.get(n..).unwrap_or_default()))
        })
    })
}

/// `Y<sep>M<sep>D` with `sep` one of `-` `/` `.` (the same both times) or `Y年M月D日`
/// (日 optional). In an era date the year may be 元.
fn parse_ymd(text: &[char], era: bool) -> Option<(u32, u32, u32)> {
    let mut i = 0;
    let year = if era && text.first() == Some(&'元') {
        i = 1;
        1
    } else {
        take_number(text, &mut i)?
    };
    let sep = *text.get(i)?;
    i += 1;
    let month = take_number(text, &mut i)?;
    let second = *text.get(i)?;
    i += 1;
    let day = take_number(text, &mut i)?;
    let rest = text.get(i..).unwrap_or_default();
    let well_formed = match (sep, second) {
        ('年', '月') => rest.is_empty() || rest == ['日'],
        ('-' | '/' | '.', _) => second == sep && rest.is_empty(),
        _ => false,
    };
    well_formed.then_some((year, month, day))
}

/// A run of ASCII digits (at most 4) or of kanji numerals at `text[*i]`.
fn take_number(text: &[char], i: &mut usize) -> Option<u32> {
    let start = *i;
    let first = *text.get(start)?;
    if first.is_ascii_digit() {
        while text.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        if *i - start > 4 {
            return None;
        }
        return text.get(start..*i)?.iter().collect::<String>().parse().ok();
    }
    while text.get(*i).is_some_and(|&c| is_kanji_numeral(c)) {
        *i += 1;
    }
    let value = kanji_numeral_value(text.get(start..*i)?)?;
    if value.len() > 4 {
        return None;
    }
    value.parse().ok()
}

fn checked_date(year: i32, month: u32, day: u32) -> Option<(i32, u8, u8)> {
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=days).contains(&day) {
        return None;
    }
    Some((year, u8::try_from(month).ok()?, u8::try_from(day).ok()?))
}
