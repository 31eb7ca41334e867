//! Batch linking ([`link_batch`]) with conflict-aware clustering, and the online [`Index`].

use crate::block::{self, Blocks, Keys, N_KEYS};
use crate::compare::{Comparison, Outcome, cluster_conflict, evidence, outcome, score_pair};
use crate::model::{Model, install, make_pool};
use crate::prepare::{Prepared, prepare};
use crate::record::LinkRecord;
use rayon::prelude::*;
use std::collections::HashMap;

/// One person as found by linking: indices into the input records, ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub cluster_id: String,
    pub members: Vec<usize>,
}

/// A pair left for a person to decide.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewPair {
    pub a: usize,
    pub b: usize,
    pub score: f64,
}

/// Everything [`link_batch_detailed`] found.
#[derive(Debug, Clone, Default)]
pub struct LinkOutput {
    pub clusters: Vec<Cluster>,
    /// Review pairs between records that ended in different clusters, best first.
    pub review: Vec<ReviewPair>,
    pub stats: LinkStats,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkStats {
    pub records: usize,
    pub pairs_in_blocks: u64,
    pub pairs_compared: u64,
    pub link_edges: usize,
    /// Link edges not merged because the two clusters held a conflicting pair.
    pub merges_refused: usize,
    /// Link edges of ambiguous records (sent to review instead).
    pub ambiguous_links: usize,
    pub records_in_oversized_blocks: u64,
}

/// Links a batch: blocks, compares, and clusters the Link pairs (see [`link_batch_detailed`]).
/// `progress(done, total)` is called on the calling thread with compared block pairs.
pub fn link_batch(
    records: &[LinkRecord],
    model: &Model,
    threads: usize,
    progress: &dyn Fn(u64, u64),
) -> Vec<Cluster> {
    link_batch_detailed(records, model, threads, progress).clusters
}

/// Links a batch and also returns the review pairs and counts.
///
/// Clustering: Link edges are taken strongest first; an edge joins two clusters only if no
/// record of one conflicts with any record of the other ([`crate::Conflict`]: different sex,
/// birth dates beyond typo levels, same facility with other local IDs, other members of one
/// insurance card, or given names that differ). So two records that conflict never end up in
/// one cluster through a third. A record that fits two clusters which conflict with each other
/// (nearly as well) is ambiguous: it stays alone and its links go to review.
pub fn link_batch_detailed(
    records: &[LinkRecord],
    model: &Model,
    threads: usize,
    progress: &dyn Fn(u64, u64),
) -> LinkOutput {
    let pool = make_pool(threads);
    let tf = &model.term_frequencies;
    let (prepared, keys, blocks) = install(&pool, || {
        let prepared: Vec<Prepared> = records.par_iter().map(|r| prepare(r, tf)).collect();
        let keys: Vec<Keys> = prepared.par_iter().map(block::keys).collect();
        let order: Vec<usize> = (0..N_KEYS).collect();
        let blocks = Blocks::build(&keys, &order, model.max_block_size);
        (prepared, keys, blocks)
    });
    let total = blocks.total_pairs();
    progress(0, total);

    let mut edges: Vec<(f64, u32, u32)> = Vec::new();
    let mut reviews: Vec<(f64, u32, u32)> = Vec::new();
    let mut compared = 0u64;
    let mut done = 0u64;
    // Chunks of blocks holding about 1% of the pairs each, for progress.
    let step = (total / 100).max(10_000);
    let mut start = 0;
    while start < blocks.blocks.len() {
        let mut end = start;
        let mut chunk_pairs = 0u64;
        while end < blocks.blocks.len() && chunk_pairs < step {
            chunk_pairs += blocks.blocks.get(end).map_or(0, block::Block::pairs);
            end += 1;
        }
        let chunk = blocks.blocks.get(start..end).unwrap_or_default();
        let (e, r, c) = install(&pool, || {
            chunk
                .par_iter()
                .map(|b| {
                    let mut e = Vec::new();
                    let mut r = Vec::new();
                    let mut c = 0u64;
                    blocks.for_each_pair(&keys, b, |i, j| {
                        let (Some(pa), Some(pb)) = (prepared.get(i), prepared.get(j)) else {
                            return;
                        };
                        c += 1;
                        let s = score_pair(model, pa, pb);
                        let (i, j) = (i as u32, j as u32);
                        match outcome(model, s.score, s.conflict) {
                            Outcome::Link => e.push((s.score, i, j)),
                            Outcome::Review => r.push((s.score, i, j)),
                            Outcome::NewPerson => {}
                        }
                    });
                    (e, r, c)
                })
                .reduce(
                    || (Vec::new(), Vec::new(), 0),
                    |mut a, b| {
                        a.0.extend(b.0);
                        a.1.extend(b.1);
                        (a.0, a.1, a.2 + b.2)
                    },
                )
        });
        edges.extend(e);
        reviews.extend(r);
        compared += c;
        done += chunk_pairs;
        progress(done.min(total), total);
        start = end;
    }

    let link_edges = edges.len();
    let (clusters, assignment, refused, held) = cluster(&prepared, edges);
    let ambiguous_links = held.len();
    reviews.extend(held);
    let mut review: Vec<ReviewPair> = reviews
        .into_iter()
        .filter(|&(_, i, j)| assignment.get(i as usize) != assignment.get(j as usize))
        .map(|(score, a, b)| ReviewPair {
            a: a as usize,
            b: b as usize,
            score,
        })
        .collect();
    review.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then(x.a.cmp(&y.a))
            .then(x.b.cmp(&y.b))
    });
    LinkOutput {
        clusters,
        review,
        stats: LinkStats {
            records: records.len(),
            pairs_in_blocks: total,
            pairs_compared: compared,
            link_edges,
            merges_refused: refused,
            ambiguous_links,
            records_in_oversized_blocks: blocks.skipped_records,
        },
    }
}

/// A scored pair of record indices.
type Edge = (f64, u32, u32);
/// Clusters, the cluster of each record, refused merges, links of ambiguous records.
type Clustered = (Vec<Cluster>, Vec<usize>, usize, Vec<Edge>);

/// How much weaker (in bits) than a record's best accepted link a refused link may be and still
/// make the record ambiguous.
const AMBIGUITY_MARGIN: f64 = 10.0;

struct Union {
    root: Vec<usize>,
    members: Vec<Vec<usize>>,
    best: Vec<f64>,
    refused: Vec<(f64, u32, u32)>,
}

/// Union of Link edges (sorted strongest first), refusing merges across conflicts.
fn union(prepared: &[Prepared], edges: &[(f64, u32, u32)]) -> Union {
    let n = prepared.len();
    let mut u = Union {
        root: (0..n).collect(),
        members: (0..n).map(|i| vec![i]).collect(),
        best: vec![f64::NEG_INFINITY; n],
        refused: Vec::new(),
    };
    for &(score, i, j) in edges {
        let (Some(&ri), Some(&rj)) = (u.root.get(i as usize), u.root.get(j as usize)) else {
            continue;
        };
        if ri == rj {
            continue;
        }
        let (ma, mb) = (
            u.members.get(ri).map(Vec::as_slice).unwrap_or_default(),
            u.members.get(rj).map(Vec::as_slice).unwrap_or_default(),
        );
        if conflicting(prepared, ma, mb) {
            u.refused.push((score, i, j));
            continue;
        }
        for k in [i as usize, j as usize] {
            if let Some(b) = u.best.get_mut(k) {
                *b = b.max(score);
            }
        }
        let (keep, gone) = if ma.len() >= mb.len() {
            (ri, rj)
        } else {
            (rj, ri)
        };
        let moved = u
            .members
            .get_mut(gone)
            .map(std::mem::take)
            .unwrap_or_default();
        for &x in &moved {
            if let Some(r) = u.root.get_mut(x) {
                *r = keep;
            }
        }
        if let Some(m) = u.members.get_mut(keep) {
            m.extend(moved);
        }
    }
    u
}

fn conflicting(prepared: &[Prepared], a: &[usize], b: &[usize]) -> bool {
    a.iter().any(|&x| {
        b.iter().any(|&y| match (prepared.get(x), prepared.get(y)) {
            (Some(p), Some(q)) => cluster_conflict(p, q).is_some(),
            _ => true,
        })
    })
}

/// Clusters Link edges: union strongest first, refusing merges across conflicts; then
/// **ambiguous records** are taken out. A record is ambiguous when a refused link of it was
/// nearly as strong as its best accepted one (within [`AMBIGUITY_MARGIN`] bits) and the record
/// itself conflicts with nobody on the other side: it fits two clusters that cannot be one
/// person (a record without a birth date that matches a father and a son with one name, or a
/// record without a given name that matches both twins). Such records stay on their own and
/// their links go to review.
///
/// Returns clusters (ordered by their first record), the cluster index of each record, the
/// refused merges, and the links of ambiguous records.
fn cluster(prepared: &[Prepared], mut edges: Vec<(f64, u32, u32)>) -> Clustered {
    edges.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let first = union(prepared, &edges);
    let mut ambiguous = vec![false; prepared.len()];
    let mut any = false;
    for &(score, i, j) in &first.refused {
        for (x, y) in [(i as usize, j as usize), (j as usize, i as usize)] {
            let own = first.root.get(x).and_then(|&r| first.members.get(r));
            let other = first.root.get(y).and_then(|&r| first.members.get(r));
            let (Some(own), Some(other)) = (own, other) else {
                continue;
            };
            let best = first.best.get(x).copied().unwrap_or(f64::NEG_INFINITY);
            if own.len() > 1
                && score >= best - AMBIGUITY_MARGIN
                && !conflicting(prepared, &[x], other)
                && let Some(a) = ambiguous.get_mut(x)
            {
                *a = true;
                any = true;
            }
        }
    }
    let (result, held) = if any {
        let is_amb = |k: u32| ambiguous.get(k as usize).copied().unwrap_or(false);
        let (held, kept): (Vec<_>, Vec<_>) =
            edges.iter().partition(|&&(_, i, j)| is_amb(i) || is_amb(j));
        (union(prepared, &kept), held)
    } else {
        (first, Vec::new())
    };
    let refused = result.refused.len();
    let n = prepared.len();
    let mut clusters = Vec::new();
    let mut assignment = vec![0usize; n];
    let mut index_of_root: HashMap<usize, usize> = HashMap::new();
    for i in 0..n {
        let r = result.root.get(i).copied().unwrap_or(i);
        let c = *index_of_root.entry(r).or_insert_with(|| {
            let mut m = result.members.get(r).cloned().unwrap_or_default();
            m.sort_unstable();
            clusters.push(Cluster {
                cluster_id: String::new(),
                members: m,
            });
            clusters.len() - 1
        });
        if let Some(a) = assignment.get_mut(i) {
            *a = c;
        }
    }
    let width = clusters.len().to_string().len().max(6);
    for (k, c) in clusters.iter_mut().enumerate() {
        c.cluster_id = format!("c{:0width$}", k + 1);
    }
    (clusters, assignment, refused, held)
}

/// `(record_id, cluster_id)` for every record, in input order, for [`crate::write_clusters`].
pub fn assignments(records: &[LinkRecord], clusters: &[Cluster]) -> Vec<(String, String)> {
    let mut out: Vec<Option<String>> = vec![None; records.len()];
    for c in clusters {
        for &m in &c.members {
            if let Some(slot) = out.get_mut(m) {
                *slot = Some(c.cluster_id.clone());
            }
        }
    }
    records
        .iter()
        .zip(out)
        .map(|(r, c)| (r.record_id.clone(), c.unwrap_or_default()))
        .collect()
}

/// An index of prepared records for online matching: the blocking keys of every record in
/// hash maps, so a new record is compared only with the records that share a key.
///
/// Holds its own copy of the model. Record numbers are positions: the records it was built
/// from keep theirs, and [`Index::insert`] returns the number of each new record. Removing a
/// record renumbers nothing; its number is free and goes to a record inserted later, so an
/// index that is kept for years and updated all the time does not grow with its history.
pub struct Index {
    model: Model,
    /// `None`: removed.
    records: Vec<Option<Prepared>>,
    keys: Vec<HashMap<u64, Vec<u32>>>,
    live: usize,
    /// Numbers of removed records, for reuse.
    free: Vec<u32>,
}

impl Index {
    /// Indexes `records` (in parallel on the global rayon pool).
    pub fn build(model: &Model, records: &[LinkRecord]) -> Index {
        let tf = &model.term_frequencies;
        let prepared: Vec<Prepared> = records.par_iter().map(|r| prepare(r, tf)).collect();
        let n = prepared.len();
        let mut index = Index {
            model: model.clone(),
            records: Vec::with_capacity(n),
            keys: (0..N_KEYS).map(|_| HashMap::new()).collect(),
            live: 0,
            free: Vec::new(),
        };
        for p in prepared {
            index.push(p);
        }
        // Room for a quarter more records, so that inserts do not pause to grow the tables.
        index.reserve(n / 4 + 1024);
        index
    }

    /// Makes room for `additional` more records without reallocating (an insert that has to
    /// grow a table of a million entries takes milliseconds).
    pub fn reserve(&mut self, additional: usize) {
        self.records.reserve(additional);
        for map in &mut self.keys {
            map.reserve(additional);
        }
    }

    /// Records in the index (removed ones not counted).
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether record `n` is in the index (inserted and not removed).
    pub fn contains(&self, n: usize) -> bool {
        matches!(self.records.get(n), Some(Some(_)))
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Adds a record; returns its number (a removed record's, if there is one).
    pub fn insert(&mut self, rec: &LinkRecord) -> usize {
        let p = prepare(rec, &self.model.term_frequencies);
        self.push(p)
    }

    fn push(&mut self, p: Prepared) -> usize {
        let keys = block::keys(&p);
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(slot) = self.records.get_mut(id as usize) {
                    *slot = Some(p);
                }
                id
            }
            None => {
                let id = u32::try_from(self.records.len()).unwrap_or(u32::MAX);
                self.records.push(Some(p));
                id
            }
        };
        for (map, &k) in self.keys.iter_mut().zip(keys.iter()) {
            if k != 0 {
                map.entry(k).or_default().push(id);
            }
        }
        self.live += 1;
        id as usize
    }

    /// Takes record `n` out: no later search finds it. Returns whether it was there.
    pub fn remove(&mut self, n: usize) -> bool {
        let Some(p) = self.records.get_mut(n).and_then(Option::take) else {
            return false;
        };
        let id = u32::try_from(n).unwrap_or(u32::MAX);
        for (map, &k) in self.keys.iter_mut().zip(block::keys(&p).iter()) {
            if k == 0 {
                continue;
            }
            if let Some(ids) = map.get_mut(&k) {
                if let Some(at) = ids.iter().position(|&x| x == id) {
                    ids.swap_remove(at);
                }
                if ids.is_empty() {
                    map.remove(&k);
                }
            }
        }
        self.live -= 1;
        self.free.push(id);
        true
    }

    /// Whether `rec` tells anything that record `n` does not: a field present in `rec` whose
    /// folded value differs from record `n`'s (missing there included). Spelling that folds
    /// alike (width, itaiji, 丁目/番地 or hyphens, a prefecture left out) is no news; a field
    /// `rec` lacks is no news either. `true` when record `n` is not in the index.
    pub fn adds_to(&self, n: usize, rec: &LinkRecord) -> bool {
        let Some(Some(old)) = self.records.get(n) else {
            return true;
        };
        let new = prepare(rec, &self.model.term_frequencies);
        fn news<T: PartialEq>(new: &Option<T>, old: &Option<T>) -> bool {
            new.is_some() && new != old
        }
        news(&new.kanji, &old.kanji)
            || news(&new.kana, &old.kana)
            || (new.sex != 0 && new.sex != old.sex)
            || news(&new.birth, &old.birth)
            || news(&new.postal, &old.postal)
            || match (&new.address, &old.address) {
                (None, _) => false,
                (Some(_), None) => true,
                // The prefecture is optional in an address: only a different one is news.
                (Some(a), Some(b)) => {
                    a.body != b.body
                        || (a.prefecture.is_some()
                            && b.prefecture.is_some()
                            && a.prefecture != b.prefecture)
                }
            }
            || news(&new.card, &old.card)
    }

    /// Indexed records that share a blocking key with `rec` and score at least the model's
    /// review threshold, best first, with their evidence. A candidate may still carry a
    /// conflict: decide each with [`Index::classify`].
    pub fn candidates(&self, rec: &LinkRecord) -> Vec<(usize, Comparison)> {
        self.candidates_above(rec, self.model.thresholds.review)
    }

    /// Like [`Index::candidates`] with another score floor (`f64::NEG_INFINITY` for every
    /// blocked record).
    pub fn candidates_above(&self, rec: &LinkRecord, floor: f64) -> Vec<(usize, Comparison)> {
        let p = prepare(rec, &self.model.term_frequencies);
        let keys = block::keys(&p);
        let limit = self.model.max_block_size;
        let mut seen: Vec<u32> = Vec::new();
        for (map, &k) in self.keys.iter().zip(keys.iter()) {
            if k == 0 {
                continue;
            }
            if let Some(ids) = map.get(&k)
                && ids.len() <= limit
            {
                seen.extend_from_slice(ids);
            }
        }
        seen.sort_unstable();
        seen.dedup();
        let mut scored: Vec<(usize, crate::compare::Scored)> = seen
            .into_iter()
            .filter_map(|i| {
                let other = self.records.get(i as usize)?.as_ref()?;
                let s = score_pair(&self.model, &p, other);
                (s.score >= floor).then_some((i as usize, s))
            })
            .collect();
        scored.sort_by(|x, y| y.1.score.total_cmp(&x.1.score).then(x.0.cmp(&y.0)));
        scored
            .into_iter()
            .map(|(i, s)| (i, evidence(&self.model, &s)))
            .collect()
    }

    /// The outcome of a comparison under this index's model.
    pub fn classify(&self, c: &Comparison) -> Outcome {
        crate::compare::classify(&self.model, c)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use crate::model::{TrainOptions, train};
    use crate::synth;
    use std::sync::OnceLock;

    fn world() -> &'static (Vec<LinkRecord>, Model) {
        static WORLD: OnceLock<(Vec<LinkRecord>, Model)> = OnceLock::new();
        WORLD.get_or_init(|| {
            let (records, _) = synth::generate(400, 7);
            let opts = TrainOptions {
                random_pairs: 20_000,
                threads: 2,
                ..TrainOptions::default()
            };
            let model = train(&records, &opts);
            (records, model)
        })
    }

    /// (record_id, score) of every candidate above the floor, as a comparable list.
    fn found(index: &Index, ids: &[String], rec: &LinkRecord) -> Vec<(String, i64)> {
        let mut out: Vec<(String, i64)> = index
            .candidates_above(rec, f64::NEG_INFINITY)
            .into_iter()
            .map(|(i, c)| (ids[i].clone(), (c.score * 1e6).round() as i64))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_removed_record_is_never_found_again_and_the_others_still_are() {
        let (records, model) = world();
        let mut index = Index::build(model, records);
        let r = &records[10];
        let before = index.candidates(r);
        assert_eq!(before.first().map(|(i, _)| *i), Some(10), "itself first");
        assert!(index.remove(10));
        assert!(!index.contains(10));
        assert_eq!(index.len(), records.len() - 1);
        let after = index.candidates(r);
        assert!(after.iter().all(|(i, _)| *i != 10));
        let others = |v: &[(usize, Comparison)]| -> Vec<usize> {
            v.iter().map(|(i, _)| *i).filter(|&i| i != 10).collect()
        };
        assert_eq!(others(&after), others(&before), "nothing else changed");
        assert!(!index.remove(10), "removing twice does nothing");
        assert_eq!(index.len(), records.len() - 1);
        // The freed number goes to the next record; the others keep theirs.
        let other = &records[11];
        assert_eq!(index.insert(other), 10);
        assert_eq!(index.insert(r), records.len());
        assert_eq!(
            index.candidates(r).first().map(|(i, _)| *i),
            Some(records.len())
        );
        let found: Vec<usize> = index.candidates(other).iter().map(|(i, _)| *i).collect();
        assert!(found.contains(&10) && found.contains(&11), "{found:?}");
    }

    #[test]
    fn inserts_and_removes_answer_like_an_index_built_from_what_remains() {
        let (records, model) = world();
        let (head, tail) = records.split_at(records.len() / 2);
        let mut kept = Index::build(model, head);
        let mut ids: Vec<String> = head.iter().map(|r| r.record_id.clone()).collect();
        for r in tail {
            assert_eq!(kept.insert(r), ids.len());
            ids.push(r.record_id.clone());
        }
        let mut remaining = Vec::new();
        for (n, r) in records.iter().enumerate() {
            if n % 3 == 0 {
                assert!(kept.remove(n));
            } else {
                remaining.push(r.clone());
            }
        }
        // Removed and put back under a reused number.
        for n in (1..records.len()).step_by(5).filter(|n| n % 3 != 0) {
            let r = &records[n];
            assert!(kept.remove(n));
            let again = kept.insert(r);
            ids[again].clone_from(&r.record_id);
        }
        let fresh = Index::build(model, &remaining);
        let fresh_ids: Vec<String> = remaining.iter().map(|r| r.record_id.clone()).collect();
        assert_eq!(kept.len(), fresh.len());
        for probe in records.iter().step_by(7) {
            assert_eq!(
                found(&kept, &ids, probe),
                found(&fresh, &fresh_ids, probe),
                "probe {}",
                probe.record_id
            );
        }
    }

    #[test]
    fn news_is_a_field_that_differs_after_folding_not_a_spelling() {
        let (records, model) = world();
        let kana_only = LinkRecord {
            record_id: "k".into(),
            facility: "F".into(),
            local_id: "1".into(),
            name_kana: Some("ワタナベ ユウコ".into()),
            sex: Some(renkei_domain::Sex::Female),
            birth_date: Some((1979, 3, 15)),
            postal_code: Some("410-1101".into()),
            address: Some("静岡県裾野市今里100番地".into()),
            ..LinkRecord::default()
        };
        let mut index = Index::build(model, records);
        let n = index.insert(&kana_only);
        let with = |f: &dyn Fn(&mut LinkRecord)| {
            let mut r = kana_only.clone();
            f(&mut r);
            index.adds_to(n, &r)
        };
        assert!(!with(&|_| {}));
        assert!(!with(&|r| r.name_kana = Some("ﾜﾀﾅﾍﾞ　ﾕｳｺ".into())), "width");
        assert!(
            !with(&|r| r.address = Some("裾野市今里１００".into())),
            "prefecture, 番地"
        );
        assert!(!with(&|r| r.postal_code = None), "a field left out");
        assert!(!with(&|r| r.sex = None));
        assert!(
            with(&|r| r.name_kanji = Some("渡辺 裕子".into())),
            "kanji now known"
        );
        assert!(
            with(&|r| r.address = Some("静岡県沼津市大手町1-2-3".into())),
            "moved"
        );
        assert!(with(&|r| r.postal_code = Some("410-0801".into())));
        assert!(with(&|r| {
            r.insurer_number = Some("39221015".into());
            r.insured_number = Some("123".into());
        }));
        assert!(index.remove(n));
        assert!(
            index.adds_to(n, &kana_only),
            "a removed record knows nothing"
        );
    }
}
