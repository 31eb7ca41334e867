//! Records folded once for comparison ([`Prepared`]), and the term-frequency tables that the
//! folding and the weights share.

use crate::record::LinkRecord;
use renkei_domain::Sex;
use renkei_text::{
    AddressKey, UNKNOWN_CHAR, fold_address, fold_branch, fold_insured_number, fold_insured_symbol,
    fold_insurer_number, fold_kana, fold_kanji_name, fold_postal_code, split_name,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How often each folded name part occurs in the training records: the term-frequency
/// adjustment of the weights, and the dictionary that splits names written without a space.
///
/// Counts are per record (a person seen at three facilities counts three times), as in
/// Splink's term-frequency tables.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TermFrequencies {
    pub family_kanji: HashMap<String, u32>,
    pub given_kanji: HashMap<String, u32>,
    pub family_kana: HashMap<String, u32>,
    pub given_kana: HashMap<String, u32>,
}

/// Which table of [`TermFrequencies`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    FamilyKanji,
    GivenKanji,
    FamilyKana,
    GivenKana,
}

impl TermFrequencies {
    pub(crate) fn table(&self, t: Table) -> &HashMap<String, u32> {
        match t {
            Table::FamilyKanji => &self.family_kanji,
            Table::GivenKanji => &self.given_kanji,
            Table::FamilyKana => &self.family_kana,
            Table::GivenKana => &self.given_kana,
        }
    }

    fn table_mut(&mut self, t: Table) -> &mut HashMap<String, u32> {
        match t {
            Table::FamilyKanji => &mut self.family_kanji,
            Table::GivenKanji => &mut self.given_kanji,
            Table::FamilyKana => &mut self.family_kana,
            Table::GivenKana => &mut self.given_kana,
        }
    }

    /// Counts the name parts of records whose names are written with a space.
    pub(crate) fn build(records: &[LinkRecord]) -> TermFrequencies {
        let mut tf = TermFrequencies::default();
        for r in records {
            if let Some(k) = &r.name_kanji
                && let (family, Some(given)) = split_name(k)
            {
                tf.add(Table::FamilyKanji, fold_kanji_name(&family));
                tf.add(Table::GivenKanji, fold_kanji_name(&given));
            }
            if let Some(k) = &r.name_kana
                && let (family, Some(given)) = split_name(k)
            {
                tf.add(Table::FamilyKana, fold_kana(&family));
                tf.add(Table::GivenKana, fold_kana(&given));
            }
        }
        tf
    }

    fn add(&mut self, t: Table, key: String) {
        if !key.is_empty() {
            *self.table_mut(t).entry(key).or_insert(0) += 1;
        }
    }

    pub(crate) fn count(&self, t: Table, key: &str) -> u32 {
        self.table(t).get(key).copied().unwrap_or(0)
    }

    /// Total count of a table.
    pub(crate) fn total(&self, t: Table) -> u64 {
        self.table(t).values().map(|&c| u64::from(c)).sum()
    }

    /// Σ f², the chance that two random records share a value of this table.
    pub(crate) fn sum_sq(&self, t: Table) -> f64 {
        let total = self.total(t) as f64;
        if total <= 0.0 {
            return 0.0;
        }
        self.table(t)
            .values()
            .map(|&c| {
                let f = f64::from(c) / total;
                f * f
            })
            .sum()
    }
}

/// Frequencies compiled for lookups during comparison.
#[derive(Debug, Clone, Default)]
pub(crate) struct Frequencies {
    totals: [f64; 4],
    sum_sq: [f64; 4],
}

impl Frequencies {
    pub(crate) fn new(tf: &TermFrequencies) -> Frequencies {
        let all = [
            Table::FamilyKanji,
            Table::GivenKanji,
            Table::FamilyKana,
            Table::GivenKana,
        ];
        let mut f = Frequencies::default();
        for (i, t) in all.into_iter().enumerate() {
            if let Some(slot) = f.totals.get_mut(i) {
                *slot = tf.total(t) as f64;
            }
            if let Some(slot) = f.sum_sq.get_mut(i) {
                *slot = tf.sum_sq(t);
            }
        }
        f
    }

    fn index(t: Table) -> usize {
        match t {
            Table::FamilyKanji => 0,
            Table::GivenKanji => 1,
            Table::FamilyKana => 2,
            Table::GivenKana => 3,
        }
    }

    /// (relative frequency of a value seen `count` times, Σ f² of the table); `None` when the
    /// table is empty. A value never counted is taken as seen once.
    pub(crate) fn freq(&self, t: Table, count: u32) -> Option<(f64, f64)> {
        let i = Self::index(t);
        let total = *self.totals.get(i)?;
        let sum_sq = *self.sum_sq.get(i)?;
        (total > 0.0 && sum_sq > 0.0).then(|| (f64::from(count.max(1)) / total, sum_sq))
    }
}

/// One script (kanji or kana) of a folded name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Name {
    /// The whole name folded, without spaces.
    pub full: Box<str>,
    /// Family and given parts, when the name had a space or its start is a known family name.
    pub split: Option<(Box<str>, Box<str>)>,
    /// Term-frequency counts of the two parts (0 when unsplit).
    pub counts: (u32, u32),
}

/// The insurance card, folded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Card {
    pub insurer: Option<Box<str>>,
    pub symbol: Box<str>,
    pub number: Box<str>,
    pub branch: Option<Box<str>>,
}

/// A record folded for comparison. Built by [`prepare`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prepared {
    pub kanji: Option<Name>,
    pub kana: Option<Name>,
    /// 0 unknown, 1 male, 2 female.
    pub sex: u8,
    pub birth: Option<(i32, u8, u8)>,
    pub postal: Option<u32>,
    pub address: Option<AddressKey>,
    pub card: Option<Card>,
    pub facility: Box<str>,
    pub local_id: Box<str>,
}

/// Folds a record. Names without a space are split at the longest start that the
/// term-frequency tables know as a family name (seen at least twice, with a space) when one
/// character or more is left for the given name.
pub(crate) fn prepare(r: &LinkRecord, tf: &TermFrequencies) -> Prepared {
    let kanji = r.name_kanji.as_deref().and_then(|s| {
        name(
            s,
            fold_kanji_name,
            tf,
            Table::FamilyKanji,
            Table::GivenKanji,
        )
    });
    let kana = r
        .name_kana
        .as_deref()
        .and_then(|s| name(s, fold_kana, tf, Table::FamilyKana, Table::GivenKana));
    let sex = match r.sex {
        Some(Sex::Male) => 1,
        Some(Sex::Female) => 2,
        _ => 0,
    };
    let postal = r
        .postal_code
        .as_deref()
        .and_then(fold_postal_code)
        .and_then(|p| p.parse::<u32>().ok());
    let address = r
        .address
        .as_deref()
        .map(fold_address)
        .filter(|a| !a.body.is_empty())
        .map(|a| AddressKey {
            prefecture: a.prefecture,
            body: a.body,
            building: None,
        });
    let number = r
        .insured_number
        .as_deref()
        .map(fold_insured_number)
        .filter(|n| !n.is_empty());
    let card = number.map(|number| Card {
        insurer: r
            .insurer_number
            .as_deref()
            .and_then(fold_insurer_number)
            .map(String::into_boxed_str),
        symbol: r
            .insured_symbol
            .as_deref()
            .map(fold_insured_symbol)
            .unwrap_or_default()
            .into_boxed_str(),
        number: number.into_boxed_str(),
        branch: r
            .insured_branch
            .as_deref()
            .and_then(fold_branch)
            .map(String::into_boxed_str),
    });
    Prepared {
        kanji,
        kana,
        sex,
        birth: r.birth_date,
        postal,
        address,
        card,
        facility: r.facility.trim().into(),
        local_id: r.local_id.trim().into(),
    }
}

fn name(
    raw: &str,
    fold: fn(&str) -> String,
    tf: &TermFrequencies,
    family_table: Table,
    given_table: Table,
) -> Option<Name> {
    let (family, given) = split_name(raw);
    let split = match given {
        Some(given) => {
            let (f, g) = (fold(&family), fold(&given));
            match (f.is_empty(), g.is_empty()) {
                (false, false) => Some((f, g)),
                _ => None,
            }
        }
        None => dictionary_split(&family, fold, tf, family_table),
    };
    let full = match &split {
        Some((f, g)) => format!("{f}{g}"),
        None => fold(raw),
    };
    if full.is_empty() || full.chars().all(|c| c == UNKNOWN_CHAR) {
        return None;
    }
    let counts = split.as_ref().map_or((0, 0), |(f, g)| {
        (tf.count(family_table, f), tf.count(given_table, g))
    });
    Some(Name {
        full: full.into_boxed_str(),
        split: split.map(|(f, g)| (f.into_boxed_str(), g.into_boxed_str())),
        counts,
    })
}

/// Splits a name written without a space at the longest start (up to 12 characters as
/// written, leaving at least one) whose fold the family-name table has seen twice or more.
///
/// The split is made on the text as written and each part folded on its own, as for a name
/// with a space: folding the whole name first would read a given name's first vowel as a long
/// vowel of the family name (シマツカアケヨ would fold to シマツカーケヨ).
fn dictionary_split(
    raw: &str,
    fold: fn(&str) -> String,
    tf: &TermFrequencies,
    table: Table,
) -> Option<(String, String)> {
    let raw = raw.trim();
    let ends: Vec<usize> = raw
        .char_indices()
        .map(|(i, _)| i)
        .skip(1)
        .take(12)
        .collect();
    ends.iter().rev().find_map(|&end| {
        let f = fold(raw.get(..end)?);
        if f.is_empty() || tf.count(table, &f) < 2 {
            return None;
        }
        let g = fold(raw.get(end..)?);
        (!g.is_empty()).then_some((f, g))
    })
}
