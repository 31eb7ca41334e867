//! Blocking: which pairs are compared at all.
//!
//! Each record gets up to [`N_KEYS`] keys (64-bit hashes, 0 for "no key"). Two records are
//! compared when they share a key. A pair that shares several keys is compared once, under
//! the first of them in the order given: when enumerating key `k`, a pair that also shares an
//! earlier key is skipped, so no pair list needs to be kept in memory.

use crate::prepare::Prepared;
use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

pub(crate) const BIRTH_DATE: usize = 0;
pub(crate) const KANA_FAMILY_YEAR: usize = 1;
pub(crate) const KANJI_FAMILY_YEAR: usize = 2;
pub(crate) const POSTAL_SEX_KANA_GIVEN: usize = 3;
pub(crate) const POSTAL_SEX_KANJI_GIVEN: usize = 4;
pub(crate) const INSURANCE: usize = 5;
pub(crate) const N_KEYS: usize = 6;

/// Names of the blocking keys, for reports.
pub const BLOCKING_KEYS: [&str; N_KEYS] = [
    "birth_date",
    "kana_family_name+birth_year",
    "kanji_family_name+birth_year",
    "postal_code+sex+kana_given_name",
    "postal_code+sex+kanji_given_name",
    "insurer+symbol+number",
];

pub(crate) type Keys = [u64; N_KEYS];

fn hash_of(tag: usize, parts: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    tag.hash(&mut h);
    parts.hash(&mut h);
    match h.finish() {
        0 => 1,
        v => v,
    }
}

/// The blocking keys of one record.
///
/// The postal-code key is refined by sex *and* the given name: postal code and sex alone make
/// blocks of thousands of records at a million records (quadratic in the block), and the given
/// name is the part of the name that stays through marriage, which is what this key is for
/// (a changed family name together with a typo in the birth year, or no birth date).
pub(crate) fn keys(p: &Prepared) -> Keys {
    let mut k = [0u64; N_KEYS];
    let year = p.birth.map(|b| b.0);
    let family = |n: &crate::prepare::Name| -> Box<str> {
        n.split
            .as_ref()
            .map_or_else(|| n.full.clone(), |s| s.0.clone())
    };
    let given =
        |n: &crate::prepare::Name| -> Option<Box<str>> { n.split.as_ref().map(|s| s.1.clone()) };
    if let Some(b) = p.birth {
        set(&mut k, BIRTH_DATE, hash_of(BIRTH_DATE, b));
    }
    if let (Some(y), Some(n)) = (year, &p.kana) {
        set(
            &mut k,
            KANA_FAMILY_YEAR,
            hash_of(KANA_FAMILY_YEAR, (family(n), y)),
        );
    }
    if let (Some(y), Some(n)) = (year, &p.kanji) {
        set(
            &mut k,
            KANJI_FAMILY_YEAR,
            hash_of(KANJI_FAMILY_YEAR, (family(n), y)),
        );
    }
    if let Some(postal) = p.postal
        && p.sex != 0
    {
        if let Some(g) = p.kana.as_ref().and_then(given) {
            set(
                &mut k,
                POSTAL_SEX_KANA_GIVEN,
                hash_of(POSTAL_SEX_KANA_GIVEN, (postal, p.sex, g)),
            );
        }
        if let Some(g) = p.kanji.as_ref().and_then(given) {
            set(
                &mut k,
                POSTAL_SEX_KANJI_GIVEN,
                hash_of(POSTAL_SEX_KANJI_GIVEN, (postal, p.sex, g)),
            );
        }
    }
    if let Some(c) = &p.card {
        set(
            &mut k,
            INSURANCE,
            hash_of(
                INSURANCE,
                (c.insurer.as_deref().unwrap_or(""), &c.symbol, &c.number),
            ),
        );
    }
    k
}

fn set(k: &mut Keys, i: usize, v: u64) {
    if let Some(slot) = k.get_mut(i) {
        *slot = v;
    }
}

/// One block: records `members[start..start + len]` share key `key`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block {
    pub key: usize,
    pub start: usize,
    pub len: usize,
}

impl Block {
    pub(crate) fn pairs(&self) -> u64 {
        let n = self.len as u64;
        n * n.saturating_sub(1) / 2
    }
}

/// Blocks of the given keys, in key order.
pub(crate) struct Blocks {
    pub members: Vec<u32>,
    pub blocks: Vec<Block>,
    /// Keys used, in order (earlier keys win the pair).
    pub order: Vec<usize>,
    /// Records in blocks skipped for being larger than the limit.
    pub skipped_records: u64,
    /// (key, hash) of the skipped blocks: a pair sharing one of them was not compared there.
    skipped: HashSet<(usize, u64)>,
}

impl Blocks {
    /// Groups records by each key in `order`. Blocks of one record are dropped; blocks of more
    /// than `max_block` records are skipped and counted (a placeholder birth date such as
    /// 1900-01-01 would otherwise compare everyone who has it with everyone else).
    pub(crate) fn build(keys: &[Keys], order: &[usize], max_block: usize) -> Blocks {
        let mut members = Vec::new();
        let mut blocks = Vec::new();
        let mut skipped_records = 0u64;
        let mut skipped = HashSet::new();
        for &k in order {
            let mut items: Vec<(u64, u32)> = keys
                .iter()
                .enumerate()
                .filter_map(|(i, ks)| {
                    let h = ks.get(k).copied().unwrap_or(0);
                    (h != 0)
                        .then(|| (h, u32::try_from(i).ok()))
                        .and_then(|(h, i)| Some((h, i?)))
                })
                .collect();
            items.sort_unstable();
            for run in items.chunk_by(|x, y| x.0 == y.0) {
                if run.len() < 2 {
                    continue;
                }
                if run.len() > max_block {
                    skipped_records += run.len() as u64;
                    if let Some(&(h, _)) = run.first() {
                        skipped.insert((k, h));
                    }
                    continue;
                }
                blocks.push(Block {
                    key: k,
                    start: members.len(),
                    len: run.len(),
                });
                members.extend(run.iter().map(|&(_, i)| i));
            }
        }
        Blocks {
            members,
            blocks,
            order: order.to_vec(),
            skipped_records,
            skipped,
        }
    }

    pub(crate) fn total_pairs(&self) -> u64 {
        self.blocks.iter().map(Block::pairs).sum()
    }

    /// Calls `f(i, j)` for each pair of `block` not already covered by an earlier key.
    pub(crate) fn for_each_pair(
        &self,
        keys: &[Keys],
        block: &Block,
        mut f: impl FnMut(usize, usize),
    ) {
        let earlier: Vec<usize> = self
            .order
            .iter()
            .copied()
            .take_while(|&k| k != block.key)
            .collect();
        let Some(ids) = self.members.get(block.start..block.start + block.len) else {
            return;
        };
        for (x, &i) in ids.iter().enumerate() {
            let (i, ki) = (i as usize, keys.get(i as usize));
            for &j in ids.iter().skip(x + 1) {
                let j = j as usize;
                let kj = keys.get(j);
                let seen = match (ki, kj) {
                    (Some(ki), Some(kj)) => earlier.iter().any(|&e| {
                        let (a, b) = (
                            ki.get(e).copied().unwrap_or(0),
                            kj.get(e).copied().unwrap_or(0),
                        );
                        a != 0 && a == b && !self.skipped.contains(&(e, a))
                    }),
                    _ => false,
                };
                if !seen {
                    f(i, j);
                }
            }
        }
    }
}
