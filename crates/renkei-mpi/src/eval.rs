//! Pairwise scores against ground truth, and the end-to-end evaluation that
//! `renkei bench link` runs.

use crate::link::{Cluster, Index, link_batch_detailed};
use crate::model::{TrainOptions, train, with_pool};
use crate::record::{LinkRecord, MpiError};
use crate::synth::{self, Population, TrapKind};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::time::Instant;

/// Pairwise precision, recall and F1: a pair of records is predicted when both are in one
/// cluster, and true when both belong to one person.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub true_positive_pairs: u64,
    pub predicted_pairs: u64,
    pub true_pairs: u64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Scores `clusters` (indices into the records) against `truth` (the person of each record).
/// Records in no cluster count as singletons. With no predicted pairs precision is 1; with
/// no true pairs recall is 1.
pub fn pairwise(truth: &[String], clusters: &[Cluster]) -> Scores {
    let mut true_sizes: HashMap<&str, u64> = HashMap::new();
    for t in truth {
        *true_sizes.entry(t.as_str()).or_insert(0) += 1;
    }
    let true_pairs: u64 = true_sizes.values().map(|&n| pairs(n)).sum();
    let mut predicted = 0u64;
    let mut tp = 0u64;
    for c in clusters {
        predicted += pairs(c.members.len() as u64);
        let mut by_person: HashMap<&str, u64> = HashMap::new();
        for &m in &c.members {
            if let Some(t) = truth.get(m) {
                *by_person.entry(t.as_str()).or_insert(0) += 1;
            }
        }
        tp += by_person.values().map(|&n| pairs(n)).sum::<u64>();
    }
    let precision = if predicted == 0 {
        1.0
    } else {
        tp as f64 / predicted as f64
    };
    let recall = if true_pairs == 0 {
        1.0
    } else {
        tp as f64 / true_pairs as f64
    };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Scores {
        precision,
        recall,
        f1,
        true_positive_pairs: tp,
        predicted_pairs: predicted,
        true_pairs,
    }
}

/// How many trap pairs of one kind the clusters merged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrapResult {
    pub kind: &'static str,
    pub pairs: usize,
    pub merged: usize,
}

/// Online matching latency: an index of all records but the last `queries`, then for each of
/// those, `candidates` followed by `insert`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnlineTiming {
    pub index_build_secs: f64,
    pub indexed_records: usize,
    pub queries: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub persons: usize,
    pub seed: u64,
    pub threads: usize,
    pub records: usize,
    pub generate_secs: f64,
    pub train_secs: f64,
    pub link_secs: f64,
    /// Train plus link: what `renkei link` spends after reading its input.
    pub total_secs: f64,
    pub scores: Scores,
    pub clusters: usize,
    pub review_pairs: usize,
    pub pairs_compared: u64,
    pub merges_refused: usize,
    pub traps: Vec<TrapResult>,
    pub online: OnlineTiming,
    /// The trained model's report.
    pub model_report: String,
}

/// Pairwise scores and trap results of one clustering of a [`Population`]'s records: what
/// [`evaluate`] reports for its own clusters, and what `renkei bench link --splink` reports
/// for another tool's clusters of the same records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusteringScores {
    pub scores: Scores,
    /// Clusters, singletons included.
    pub clusters: usize,
    pub traps: Vec<TrapResult>,
}

/// Scores `clusters` (indices into `population.records`; records in no cluster are
/// singletons) against the population's truth: pairwise scores, and for each trap kind how
/// many of its pairs of persons share a cluster.
pub fn score_clustering(population: &Population, clusters: &[Cluster]) -> ClusteringScores {
    let scores = pairwise(&population.truth, clusters);
    let mut cluster_of = vec![usize::MAX; population.records.len()];
    for (k, c) in clusters.iter().enumerate() {
        for &m in &c.members {
            if let Some(slot) = cluster_of.get_mut(m) {
                *slot = k;
            }
        }
    }
    // Records in no cluster are singletons: give each a cluster number of its own.
    let mut next = clusters.len();
    for slot in cluster_of.iter_mut().filter(|s| **s == usize::MAX) {
        *slot = next;
        next += 1;
    }
    let mut clusters_of_person: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in population.truth.iter().enumerate() {
        if let Some(&c) = cluster_of.get(i) {
            clusters_of_person.entry(t.as_str()).or_default().push(c);
        }
    }
    let traps = [TrapKind::Twins, TrapKind::FatherAndSon, TrapKind::Strangers]
        .into_iter()
        .map(|kind| {
            let of_kind: Vec<_> = population.traps.iter().filter(|t| t.kind == kind).collect();
            let merged = of_kind
                .iter()
                .filter(|t| {
                    let a = clusters_of_person.get(t.persons.0.as_str());
                    let b = clusters_of_person.get(t.persons.1.as_str());
                    matches!((a, b), (Some(a), Some(b)) if a.iter().any(|x| b.contains(x)))
                })
                .count();
            TrapResult {
                kind: kind.as_str(),
                pairs: of_kind.len(),
                merged,
            }
        })
        .collect();
    ClusteringScores {
        scores,
        clusters: next,
        traps,
    }
}

/// Clusters from `(record_id, cluster_id)` rows, as [`crate::write_clusters`] and other
/// linkage tools write them, over `records`. A record with no row is a singleton. Errors
/// name the row (the line number of a CSV with a header: the first row is line 2), never the
/// value: an unknown `record_id`, or one given twice.
pub fn clusters_from_assignments<I>(
    records: &[LinkRecord],
    rows: I,
) -> Result<Vec<Cluster>, MpiError>
where
    I: IntoIterator<Item = (String, String)>,
{
    let position: HashMap<&str, usize> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.record_id.as_str(), i))
        .collect();
    let mut seen = vec![false; records.len()];
    let mut by_cluster: HashMap<String, usize> = HashMap::new();
    let mut clusters: Vec<Cluster> = Vec::new();
    for (k, (record_id, cluster_id)) in rows.into_iter().enumerate() {
        let row = k as u64 + 2;
        let Some(&i) = position.get(record_id.as_str()) else {
            return Err(MpiError::Csv {
                row,
                problem: "record_id is not in the input".to_owned(),
            });
        };
        match seen.get_mut(i) {
            Some(s) if !*s => *s = true,
            _ => return Err(MpiError::DuplicateRecordId { row }),
        }
        let c = *by_cluster.entry(cluster_id).or_insert_with_key(|id| {
            clusters.push(Cluster {
                cluster_id: id.clone(),
                members: Vec::new(),
            });
            clusters.len() - 1
        });
        if let Some(cluster) = clusters.get_mut(c) {
            cluster.members.push(i);
        }
    }
    for c in &mut clusters {
        c.members.sort_unstable();
    }
    Ok(clusters)
}

/// Generates `persons` residents with `seed`, trains a model on them, links them with
/// `threads` workers (0: all cores), and scores the clusters; then times online matching.
pub fn evaluate(persons: usize, seed: u64, threads: usize) -> EvalReport {
    evaluate_keeping_population(persons, seed, threads).0
}

/// [`evaluate`], also returning the population it generated (records, truth and traps), so
/// that another tool can be run on the same records and scored with [`score_clustering`].
pub fn evaluate_keeping_population(
    persons: usize,
    seed: u64,
    threads: usize,
) -> (EvalReport, Population) {
    let t0 = Instant::now();
    let population = synth::population(persons, seed);
    let generate_secs = t0.elapsed().as_secs_f64();
    let records = &population.records;

    let t1 = Instant::now();
    let opts = TrainOptions {
        threads,
        ..TrainOptions::default()
    };
    let model = train(records, &opts);
    let train_secs = t1.elapsed().as_secs_f64();

    let t2 = Instant::now();
    let out = link_batch_detailed(records, &model, threads, &|_, _| {});
    let link_secs = t2.elapsed().as_secs_f64();
    let ClusteringScores { scores, traps, .. } = score_clustering(&population, &out.clusters);

    let queries = (records.len() / 10).min(1000);
    let split = records.len() - queries;
    let t3 = Instant::now();
    let (head, tail) = records.split_at(split);
    let mut index = with_pool(threads, || Index::build(&model, head));
    let index_build_secs = t3.elapsed().as_secs_f64();
    let mut times: Vec<f64> = tail
        .iter()
        .map(|r| {
            let t = Instant::now();
            let c = index.candidates(r);
            std::hint::black_box(&c);
            index.insert(r);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| -> f64 {
        if times.is_empty() {
            return 0.0;
        }
        let i = ((times.len() as f64 - 1.0) * p).round() as usize;
        times.get(i).copied().unwrap_or(0.0)
    };
    let online = OnlineTiming {
        index_build_secs,
        indexed_records: split,
        queries,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        max_ms: times.last().copied().unwrap_or(0.0),
    };

    let report = EvalReport {
        persons,
        seed,
        threads,
        records: records.len(),
        generate_secs,
        train_secs,
        link_secs,
        total_secs: train_secs + link_secs,
        scores,
        clusters: out.clusters.len(),
        review_pairs: out.review.len(),
        pairs_compared: out.stats.pairs_compared,
        merges_refused: out.stats.merges_refused,
        traps,
        online,
        model_report: model.to_report(),
    };
    (report, population)
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.scores;
        writeln!(
            f,
            "{} persons, {} records (seed {}, {} threads)",
            self.persons,
            self.records,
            self.seed,
            if self.threads == 0 {
                "all".to_owned()
            } else {
                self.threads.to_string()
            }
        )?;
        writeln!(
            f,
            "pairwise precision {:.5}  recall {:.5}  F1 {:.5}  ({} true positive of {} predicted, {} true pairs)",
            s.precision, s.recall, s.f1, s.true_positive_pairs, s.predicted_pairs, s.true_pairs
        )?;
        writeln!(
            f,
            "time: generate {:.2} s, train {:.2} s, link {:.2} s (train + link {:.2} s)",
            self.generate_secs, self.train_secs, self.link_secs, self.total_secs
        )?;
        writeln!(
            f,
            "{} clusters, {} review pairs, {} pairs compared, {} merges refused for conflicts",
            self.clusters, self.review_pairs, self.pairs_compared, self.merges_refused
        )?;
        for t in &self.traps {
            writeln!(
                f,
                "trap {}: {} of {} pairs merged",
                t.kind, t.merged, t.pairs
            )?;
        }
        let o = &self.online;
        writeln!(
            f,
            "online: index of {} records built in {:.2} s; {} queries p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            o.indexed_records, o.index_build_secs, o.queries, o.p50_ms, o.p99_ms, o.max_ms
        )
    }
}
