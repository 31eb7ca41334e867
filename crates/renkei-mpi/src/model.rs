//! The Fellegi–Sunter model: m and u per field level, the prior, thresholds and term
//! frequencies; and [`train`], which estimates them from the records by EM.

use crate::block::{self, Blocks, Keys};
use crate::compare::{
    BIRTH, BIRTH_EXACT, FAMILY, FIELD_NAMES, GIVEN, INSURANCE, MISSING, N_FIELDS, POSTAL, SEX,
    levels, levels_of,
};
use crate::prepare::{Frequencies, Prepared, Table, TermFrequencies, prepare};
use crate::record::{LinkRecord, MpiError};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// m and u of one level, and its weight log2(m/u).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LevelParams {
    pub level: String,
    /// P(level | same person).
    pub m: f64,
    /// P(level | different persons).
    pub u: f64,
    /// log2(m / u), clamped to ±[`WEIGHT_LIMIT`].
    pub weight: f64,
}

/// The levels of one field, best first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FieldParams {
    pub field: String,
    pub levels: Vec<LevelParams>,
}

/// Score thresholds in log2 posterior odds (the score of a [`crate::Comparison`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Thresholds {
    /// Link automatically at or above this score (when there is no conflict).
    pub link: f64,
    /// Send to review at or above this score, below `link`.
    pub review: f64,
}

impl Default for Thresholds {
    /// Link at posterior odds of 2^10 (≈ 1000 : 1) under the model; review from odds of 2^-4
    /// (p ≈ 0.06). See the crate documentation for how these were chosen.
    fn default() -> Self {
        Thresholds {
            link: 10.0,
            review: -4.0,
        }
    }
}

/// One EM session of training: the pairs of one blocking rule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionSummary {
    pub blocking: String,
    /// Pairs in the session's blocks.
    pub pairs_in_blocks: u64,
    /// Pairs compared for EM (a deterministic sample when the blocks hold more).
    pub pairs_used: u64,
    /// EM's estimate of the share of those pairs that are one person.
    pub match_share: f64,
    /// Fields whose m this session estimates (those not implied by its blocking rule).
    pub fields_estimated: Vec<String>,
}

/// How the model was trained.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TrainingSummary {
    pub records: usize,
    pub random_pairs: usize,
    pub rounds: usize,
    pub sessions: Vec<SessionSummary>,
    /// Estimated number of record pairs that are one person.
    pub estimated_matching_pairs: f64,
}

/// Largest |weight| of one level, in bits.
pub const WEIGHT_LIMIT: f64 = 30.0;

/// A trained Fellegi–Sunter model. Save it with [`Model::to_json`], inspect it with
/// [`Model::to_report`] (or `Display`).
///
/// The term-frequency tables contain name spellings with their counts (names seen once are
/// not stored): the model file is personal data of the population it was trained on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Model {
    pub version: u32,
    pub fields: Vec<FieldParams>,
    /// λ: the probability that two random records are one person.
    pub prior_match_probability: f64,
    /// log2(λ / (1 − λ)): where every comparison's score starts.
    pub prior_log2_odds: f64,
    pub thresholds: Thresholds,
    /// Weight of "same facility, same local ID" (a fixed rule, not estimated).
    pub same_local_id_weight: f64,
    /// Largest term-frequency adjustment of a name weight, in bits either way.
    pub tf_adjustment_limit: f64,
    /// Blocks with more records than this are not compared (see the crate documentation).
    pub max_block_size: usize,
    pub term_frequencies: TermFrequencies,
    pub training: TrainingSummary,
    #[serde(skip)]
    frequencies: OnceLock<Frequencies>,
}

/// Options of [`train`].
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Random record pairs for estimating u (nearly all are different persons).
    pub random_pairs: usize,
    /// Most blocked pairs one EM session compares (a deterministic sample beyond).
    pub max_pairs_per_session: usize,
    /// See [`Model::max_block_size`].
    pub max_block_size: usize,
    pub em_iterations: usize,
    /// Rounds of (EM for m, prior λ, u re-estimated without the likely matches).
    pub rounds: usize,
    /// Strength of the Dirichlet prior on m and u, in pseudo-pairs.
    pub prior_strength: f64,
    pub seed: u64,
    /// Worker threads (0: all cores).
    pub threads: usize,
    pub thresholds: Thresholds,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            random_pairs: 1_000_000,
            max_pairs_per_session: 2_000_000,
            max_block_size: 2_000,
            em_iterations: 50,
            rounds: 3,
            prior_strength: 20.0,
            seed: 0x005E_ED4E_4BE1,
            threads: 0,
            thresholds: Thresholds::default(),
        }
    }
}

const MODEL_VERSION: u32 = 1;

type Probs = Vec<Vec<f64>>;
type Pattern = [u8; N_FIELDS];
/// A session's pattern histogram, pairs in its blocks, and pairs compared.
type SessionPairs = (Vec<(Pattern, f64)>, u64, u64);

/// Prior m: what a match usually looks like (marriage changes ~6% of family names; about one
/// record in four has moved or changed insurance).
fn prior_m(field: usize) -> &'static [f64] {
    match field {
        FAMILY => &[
            0.80, 0.06, 0.005, 0.005, 0.05, 0.005, 0.003, 0.005, 0.005, 0.062,
        ],
        GIVEN => &[
            0.85, 0.07, 0.003, 0.002, 0.06, 0.003, 0.002, 0.003, 0.002, 0.005,
        ],
        SEX => &[0.99, 0.01],
        BIRTH => &[0.95, 0.005, 0.02, 0.005, 0.02],
        crate::compare::ADDRESS => &[0.65, 0.03, 0.03, 0.04, 0.08, 0.17],
        POSTAL => &[0.75, 0.10, 0.15],
        _ => &[0.55, 0.15, 1e-6, 0.02, 0.28],
    }
}

/// Prior u: what two random residents look like.
fn prior_u(field: usize) -> &'static [f64] {
    match field {
        FAMILY => &[
            0.004, 0.001, 1e-5, 1e-5, 0.001, 0.002, 1e-4, 0.002, 0.02, 0.97,
        ],
        GIVEN => &[
            0.003, 0.001, 1e-5, 1e-5, 0.001, 0.002, 1e-4, 0.002, 0.02, 0.97,
        ],
        SEX => &[0.5, 0.5],
        BIRTH => &[4e-5, 1e-6, 3e-4, 3e-4, 0.99936],
        crate::compare::ADDRESS => &[2e-4, 1e-4, 5e-4, 0.004, 0.08, 0.9152],
        POSTAL => &[0.004, 0.1, 0.896],
        _ => &[1e-7, 1e-6, 1e-6, 1e-5, 0.999988],
    }
}

fn normalized(v: &[f64]) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    v.iter().map(|x| x / s).collect()
}

fn priors(f: fn(usize) -> &'static [f64]) -> Probs {
    (0..N_FIELDS).map(|i| normalized(f(i))).collect()
}

fn at(p: &Probs, f: usize, l: u8) -> f64 {
    p.get(f)
        .and_then(|v| v.get(usize::from(l)))
        .copied()
        .unwrap_or(1.0)
}

impl Model {
    fn from_parts(
        m: &Probs,
        u: &Probs,
        lambda: f64,
        tf: TermFrequencies,
        opts: &TrainOptions,
    ) -> Model {
        let fields = (0..N_FIELDS)
            .map(|f| FieldParams {
                field: FIELD_NAMES.get(f).copied().unwrap_or("?").to_owned(),
                levels: levels_of(f)
                    .iter()
                    .enumerate()
                    .map(|(l, &name)| {
                        let l = u8::try_from(l).unwrap_or(MISSING);
                        let (mv, uv) = (at(m, f, l), at(u, f, l));
                        LevelParams {
                            level: name.to_owned(),
                            m: mv,
                            u: uv,
                            weight: (mv / uv).log2().clamp(-WEIGHT_LIMIT, WEIGHT_LIMIT),
                        }
                    })
                    .collect(),
            })
            .collect();
        let lambda = lambda.clamp(1e-15, 0.5);
        Model {
            version: MODEL_VERSION,
            fields,
            prior_match_probability: lambda,
            prior_log2_odds: (lambda / (1.0 - lambda)).log2(),
            thresholds: opts.thresholds,
            same_local_id_weight: 20.0,
            tf_adjustment_limit: 12.0,
            max_block_size: opts.max_block_size,
            term_frequencies: tf,
            training: TrainingSummary::default(),
            frequencies: OnceLock::new(),
        }
    }

    pub(crate) fn frequencies(&self) -> &Frequencies {
        self.frequencies
            .get_or_init(|| Frequencies::new(&self.term_frequencies))
    }

    /// The weight of `level` of `field`, with the term-frequency adjustment log2(Σf² / f_v)
    /// for names that agree on a value `v` (common names weigh less, rare ones more).
    pub(crate) fn weight(&self, field: usize, level: u8, tf: Option<(Table, u32)>) -> f64 {
        let base = self
            .fields
            .get(field)
            .and_then(|f| f.levels.get(usize::from(level)))
            .map_or(0.0, |l| l.weight);
        match tf.and_then(|(t, c)| self.frequencies().freq(t, c)) {
            Some((freq, sum_sq)) => {
                let lim = self.tf_adjustment_limit;
                base + (sum_sq / freq).log2().clamp(-lim, lim)
            }
            None => base,
        }
    }

    /// Serialises the model (pretty JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Loads a model saved by [`Model::to_json`], checking that its fields and levels are the
    /// ones this version compares.
    pub fn from_json(s: &str) -> Result<Model, MpiError> {
        let model: Model = serde_json::from_str(s).map_err(|e| {
            MpiError::Model(format!(
                "not a model file ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        if model.version != MODEL_VERSION {
            return Err(MpiError::Model(format!(
                "model version {} is not {MODEL_VERSION}",
                model.version
            )));
        }
        let ok = model.fields.len() == N_FIELDS
            && model.fields.iter().enumerate().all(|(f, fp)| {
                FIELD_NAMES.get(f).is_some_and(|n| *n == fp.field)
                    && fp.levels.len() == levels_of(f).len()
                    && fp
                        .levels
                        .iter()
                        .zip(levels_of(f))
                        .all(|(l, n)| l.level == *n && l.weight.is_finite())
            });
        if !ok || !model.prior_log2_odds.is_finite() {
            return Err(MpiError::Model(
                "fields or levels differ from this version's comparisons".to_owned(),
            ));
        }
        Ok(model)
    }

    /// A plain-text report: prior, thresholds, m, u and weight of every level, training
    /// sessions, and the weights of the most common names.
    pub fn to_report(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "prior: λ = {:.3e} (log2 odds {:+.2})",
            self.prior_match_probability, self.prior_log2_odds
        );
        let _ = writeln!(
            s,
            "thresholds (log2 posterior odds): link ≥ {:+.1}, review ≥ {:+.1}",
            self.thresholds.link, self.thresholds.review
        );
        let _ = writeln!(
            s,
            "same facility + same local ID: {:+.1}; term-frequency adjustment within ±{:.1}",
            self.same_local_id_weight, self.tf_adjustment_limit
        );
        for f in &self.fields {
            let _ = writeln!(s, "{}", f.field);
            for l in &f.levels {
                let _ = writeln!(
                    s,
                    "  {:<26} m={:<10.4e} u={:<10.4e} weight={:+7.2}",
                    l.level, l.m, l.u, l.weight
                );
            }
        }
        let t = &self.training;
        let _ = writeln!(
            s,
            "training: {} records, {} random pairs, {} rounds, ~{:.0} matching pairs",
            t.records, t.random_pairs, t.rounds, t.estimated_matching_pairs
        );
        for ses in &t.sessions {
            let _ = writeln!(
                s,
                "  session {}: {} pairs in blocks, {} used, match share {:.4}, estimates m of {}",
                ses.blocking,
                ses.pairs_in_blocks,
                ses.pairs_used,
                ses.match_share,
                ses.fields_estimated.join(", ")
            );
        }
        for (label, table, field) in [
            ("family names (kanji)", Table::FamilyKanji, FAMILY),
            ("given names (kanji)", Table::GivenKanji, GIVEN),
            ("family names (kana)", Table::FamilyKana, FAMILY),
            ("given names (kana)", Table::GivenKana, GIVEN),
        ] {
            let mut top: Vec<(&String, &u32)> = self.term_frequencies.table(table).iter().collect();
            top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let level = if matches!(table, Table::FamilyKana | Table::GivenKana) {
                crate::compare::N_KANA_EQUAL
            } else {
                crate::compare::N_EXACT
            };
            let list: Vec<String> = top
                .iter()
                .take(5)
                .map(|&(name, &c)| {
                    format!("{name} {:+.1}", self.weight(field, level, Some((table, c))))
                })
                .collect();
            let _ = writeln!(s, "most common {label}: {}", list.join(", "));
        }
        s
    }
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_report())
    }
}

/// Runs `f` on a pool of `threads` workers (0: rayon's default).
pub(crate) fn with_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    install(&make_pool(threads), f)
}

/// A pool of `threads` workers (0: rayon's default), or `None` to use the global pool.
pub(crate) fn make_pool(threads: usize) -> Option<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .ok()
}

pub(crate) fn install<T: Send>(
    pool: &Option<rayon::ThreadPool>,
    f: impl FnOnce() -> T + Send,
) -> T {
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// One training session: a blocking rule and the fields whose m it cannot estimate (those
/// the rule makes agree, or that agree through it, such as the address within a postal code).
struct Session {
    keys: &'static [usize],
    excluded: &'static [usize],
}

const SESSIONS: [Session; 4] = [
    Session {
        keys: &[block::BIRTH_DATE],
        excluded: &[BIRTH],
    },
    Session {
        keys: &[block::KANA_FAMILY_YEAR, block::KANJI_FAMILY_YEAR],
        excluded: &[FAMILY, BIRTH],
    },
    Session {
        keys: &[block::POSTAL_SEX_KANA_GIVEN, block::POSTAL_SEX_KANJI_GIVEN],
        excluded: &[POSTAL, SEX, GIVEN, crate::compare::ADDRESS],
    },
    // Records sharing a card are mostly one family: same family name and address. Only the
    // fields that tell family members apart are estimated here.
    Session {
        keys: &[block::INSURANCE],
        excluded: &[INSURANCE, FAMILY, crate::compare::ADDRESS, POSTAL],
    },
];

/// Estimates a model from the records: term frequencies, u from random pairs, m by EM on
/// blocked pairs (one session per blocking rule, as in Splink), and λ from the birth-date
/// session. See the crate documentation for the details.
pub fn train(records: &[LinkRecord], opts: &TrainOptions) -> Model {
    with_pool(opts.threads, || train_inner(records, opts))
}

fn train_inner(records: &[LinkRecord], opts: &TrainOptions) -> Model {
    let mut tf = TermFrequencies::build(records);
    let prepared: Vec<Prepared> = records.par_iter().map(|r| prepare(r, &tf)).collect();
    let keys: Vec<Keys> = prepared.par_iter().map(block::keys).collect();
    let n = prepared.len();
    let all_pairs = (n as f64) * (n.saturating_sub(1) as f64) / 2.0;

    let random = random_histogram(&prepared, opts);
    let random_count: f64 = random.iter().map(|(_, c)| c).sum();
    let sessions: Vec<SessionPairs> = SESSIONS
        .iter()
        .map(|s| session_histogram(&prepared, &keys, s.keys, opts))
        .collect();

    let prior_m = priors(prior_m);
    let prior_u = priors(prior_u);
    let mut m = prior_m.clone();
    let mut u = prior_u.clone();
    let mut lambda = 1e-4;
    let floor = 0.5 / random_count.max(1.0);
    u = estimate_u(
        &random,
        lambda,
        &m,
        &u,
        &prior_u,
        opts.prior_strength,
        floor,
    );
    let mut summaries = Vec::new();
    let mut matching_pairs = 0.0;
    for _round in 0..opts.rounds.max(1) {
        let mut sum_m: Probs = (0..N_FIELDS)
            .map(|f| vec![0.0; levels_of(f).len()])
            .collect();
        let mut sum_w = [0.0f64; N_FIELDS];
        summaries.clear();
        let mut birth_session = None;
        for (s, (hist, in_blocks, used)) in SESSIONS.iter().zip(&sessions) {
            let include: [bool; N_FIELDS] = std::array::from_fn(|f| !s.excluded.contains(&f));
            let (ms, ls) = em(hist, &include, &u, &m, &prior_m, opts);
            let used_f = *used as f64;
            let matches_used = ls * used_f;
            for f in (0..N_FIELDS).filter(|&f| include.get(f).copied().unwrap_or(false)) {
                let w = matches_used.max(1e-9);
                if let (Some(acc), Some(src)) = (sum_m.get_mut(f), ms.get(f)) {
                    for (a, b) in acc.iter_mut().zip(src) {
                        *a += w * b;
                    }
                }
                if let Some(sw) = sum_w.get_mut(f) {
                    *sw += w;
                }
            }
            if s.keys.first() == Some(&block::BIRTH_DATE) {
                birth_session = Some(ls * (*in_blocks as f64));
            }
            summaries.push(SessionSummary {
                blocking: s
                    .keys
                    .iter()
                    .filter_map(|&k| block::BLOCKING_KEYS.get(k).copied())
                    .collect::<Vec<_>>()
                    .join(" | "),
                pairs_in_blocks: *in_blocks,
                pairs_used: *used,
                match_share: ls,
                fields_estimated: (0..N_FIELDS)
                    .filter(|&f| include.get(f).copied().unwrap_or(false))
                    .filter_map(|f| FIELD_NAMES.get(f).map(|s| (*s).to_owned()))
                    .collect(),
            });
        }
        for (f, (mf, w)) in m.iter_mut().zip(sum_w).enumerate() {
            if w > 0.0
                && let Some(acc) = sum_m.get(f)
            {
                *mf = normalized(&acc.iter().map(|x| x / w).collect::<Vec<_>>());
            }
        }
        sanity(&mut m, &u, &prior_m);
        // λ: matches with equal birth dates over the share of matches whose birth dates are
        // equal.
        let birth_exact_m = at(&m, BIRTH, BIRTH_EXACT).max(0.5);
        matching_pairs = birth_session.unwrap_or(0.0) / birth_exact_m;
        lambda = if all_pairs > 0.0 {
            (matching_pairs / all_pairs).clamp(1e-12, 0.5)
        } else {
            1e-4
        };
        u = estimate_u(
            &random,
            lambda,
            &m,
            &u,
            &prior_u,
            opts.prior_strength,
            floor,
        );
        sanity(&mut m, &u, &prior_m);
    }
    // Names seen once are not kept: they weigh as "seen once" anyway.
    for t in [
        &mut tf.family_kanji,
        &mut tf.given_kanji,
        &mut tf.family_kana,
        &mut tf.given_kana,
    ] {
        t.retain(|_, c| *c >= 2);
    }
    let mut model = Model::from_parts(&m, &u, lambda, tf, opts);
    model.training = TrainingSummary {
        records: n,
        random_pairs: random_count as usize,
        rounds: opts.rounds.max(1),
        sessions: summaries,
        estimated_matching_pairs: matching_pairs,
    };
    model
}

/// Keeps estimates sane: agreement on a field's best level must be evidence for a match and
/// its worst level evidence against; a field whose EM estimate breaks that falls back to the
/// prior m.
fn sanity(m: &mut Probs, u: &Probs, prior_m: &Probs) {
    // One card with two 枝番 is two people by rule; EM would give it the m of the twins and
    // family members that share a card. Keep the prior.
    let fixed = at(prior_m, INSURANCE, crate::compare::INSURANCE_OTHER_BRANCH);
    if let Some(mi) = m.get_mut(INSURANCE) {
        if let Some(slot) = mi.get_mut(usize::from(crate::compare::INSURANCE_OTHER_BRANCH)) {
            *slot = 0.0;
        }
        let rest: f64 = mi.iter().sum();
        for v in mi.iter_mut() {
            *v *= (1.0 - fixed) / rest.max(1e-12);
        }
        if let Some(slot) = mi.get_mut(usize::from(crate::compare::INSURANCE_OTHER_BRANCH)) {
            *slot = fixed;
        }
    }
    for f in 0..N_FIELDS {
        let levels = levels_of(f).len();
        let last = u8::try_from(levels.saturating_sub(1)).unwrap_or(0);
        let best = at(m, f, 0) / at(u, f, 0);
        let worst = at(m, f, last) / at(u, f, last);
        if !(best > 2.0 && worst < 1.0)
            && let (Some(mf), Some(pf)) = (m.get_mut(f), prior_m.get(f))
        {
            mf.clone_from(pf);
        }
    }
}

fn log_ratio(p: &Pattern, include: &[bool; N_FIELDS], m: &Probs, u: &Probs) -> f64 {
    let mut lr = 0.0;
    for (f, &l) in p.iter().enumerate() {
        if l != MISSING && include.get(f).copied().unwrap_or(false) {
            lr += at(m, f, l).ln() - at(u, f, l).ln();
        }
    }
    lr
}

fn posterior(lr: f64, lambda: f64) -> f64 {
    let lo = (lambda / (1.0 - lambda)).ln() + lr;
    if lo > 40.0 {
        1.0
    } else if lo < -40.0 {
        0.0
    } else {
        1.0 / (1.0 + (-lo).exp())
    }
}

/// EM for m (u fixed) on one session's pattern histogram. Returns m (fields not included keep
/// their input values) and the session's match share.
fn em(
    hist: &[(Pattern, f64)],
    include: &[bool; N_FIELDS],
    u: &Probs,
    m_start: &Probs,
    prior_m: &Probs,
    opts: &TrainOptions,
) -> (Probs, f64) {
    let mut m = m_start.clone();
    let total: f64 = hist.iter().map(|(_, c)| c).sum();
    if total <= 0.0 {
        return (m, 0.0);
    }
    let mut lambda = 0.5;
    for _ in 0..opts.em_iterations.max(1) {
        let mut acc: Probs = (0..N_FIELDS)
            .map(|f| vec![0.0; levels_of(f).len()])
            .collect();
        let mut matched = 0.0;
        for (p, c) in hist {
            let w = c * posterior(log_ratio(p, include, &m, u), lambda);
            matched += w;
            for (f, &l) in p.iter().enumerate() {
                if l != MISSING
                    && include.get(f).copied().unwrap_or(false)
                    && let Some(slot) = acc.get_mut(f).and_then(|v| v.get_mut(usize::from(l)))
                {
                    *slot += w;
                }
            }
        }
        let mut delta: f64 = 0.0;
        for f in (0..N_FIELDS).filter(|&f| include.get(f).copied().unwrap_or(false)) {
            let (Some(a), Some(pm), Some(mf)) = (acc.get(f), prior_m.get(f), m.get_mut(f)) else {
                continue;
            };
            let sum: f64 = a.iter().sum::<f64>() + opts.prior_strength;
            for ((slot, x), p) in mf.iter_mut().zip(a).zip(pm) {
                let new = ((x + opts.prior_strength * p) / sum).max(1e-9);
                delta = delta.max((new - *slot).abs());
                *slot = new;
            }
        }
        let new_lambda = ((matched + 1.0) / (total + 2.0)).clamp(1e-9, 1.0 - 1e-9);
        delta = delta.max((new_lambda - lambda).abs());
        lambda = new_lambda;
        if delta < 1e-7 {
            break;
        }
    }
    (m, lambda)
}

/// u from random pairs, each weighted by its posterior probability of being two persons.
fn estimate_u(
    random: &[(Pattern, f64)],
    lambda: f64,
    m: &Probs,
    u_prev: &Probs,
    prior_u: &Probs,
    strength: f64,
    floor: f64,
) -> Probs {
    let include = [true; N_FIELDS];
    let mut acc: Probs = (0..N_FIELDS)
        .map(|f| vec![0.0; levels_of(f).len()])
        .collect();
    for (p, c) in random {
        let w = c * (1.0 - posterior(log_ratio(p, &include, m, u_prev), lambda));
        for (f, &l) in p.iter().enumerate() {
            if l != MISSING
                && let Some(slot) = acc.get_mut(f).and_then(|v| v.get_mut(usize::from(l)))
            {
                *slot += w;
            }
        }
    }
    acc.iter()
        .zip(prior_u)
        .map(|(a, pu)| {
            let sum: f64 = a.iter().sum::<f64>() + strength;
            let raw: Vec<f64> = a
                .iter()
                .zip(pu)
                .map(|(x, p)| ((x + strength * p) / sum).max(floor))
                .collect();
            normalized(&raw)
        })
        .collect()
}

fn histogram(items: impl IntoIterator<Item = Pattern>) -> HashMap<Pattern, f64> {
    let mut h = HashMap::new();
    for p in items {
        *h.entry(p).or_insert(0.0) += 1.0;
    }
    h
}

fn merge(mut a: HashMap<Pattern, f64>, b: HashMap<Pattern, f64>) -> HashMap<Pattern, f64> {
    if a.len() < b.len() {
        return merge(b, a);
    }
    for (k, v) in b {
        *a.entry(k).or_insert(0.0) += v;
    }
    a
}

fn sorted(h: HashMap<Pattern, f64>) -> Vec<(Pattern, f64)> {
    let mut v: Vec<(Pattern, f64)> = h.into_iter().collect();
    v.sort_by_key(|a| a.0);
    v
}

fn random_histogram(prepared: &[Prepared], opts: &TrainOptions) -> Vec<(Pattern, f64)> {
    let n = prepared.len();
    if n < 2 {
        return Vec::new();
    }
    let all = (n as u128) * (n as u128 - 1) / 2;
    let count = usize::try_from(all.min(opts.random_pairs as u128)).unwrap_or(opts.random_pairs);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(opts.seed);
    let pairs: Vec<(u32, u32)> = (0..count)
        .map(|_| {
            let i = rng.gen_range(0..n);
            let mut j = rng.gen_range(0..n - 1);
            if j >= i {
                j += 1;
            }
            (u32::try_from(i).unwrap_or(0), u32::try_from(j).unwrap_or(0))
        })
        .collect();
    let h = pairs
        .par_chunks(4096)
        .map(|chunk| {
            histogram(chunk.iter().filter_map(|&(i, j)| {
                let (a, b) = (prepared.get(i as usize)?, prepared.get(j as usize)?);
                Some(levels(a, b).0)
            }))
        })
        .reduce(HashMap::new, merge);
    sorted(h)
}

/// Deterministic pair sampling: keep a pair when its hash falls under `rate`.
pub(crate) fn keep_pair(i: usize, j: usize, seed: u64, rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    let mut z = ((i as u64) << 32 | (j as u64 & 0xFFFF_FFFF)) ^ seed;
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z as f64) < rate * (u64::MAX as f64)
}

/// Pattern histogram of one session's blocked pairs; (histogram, pairs in blocks, pairs used).
fn session_histogram(
    prepared: &[Prepared],
    keys: &[Keys],
    session_keys: &[usize],
    opts: &TrainOptions,
) -> SessionPairs {
    let blocks = Blocks::build(keys, session_keys, opts.max_block_size);
    let total = blocks.total_pairs();
    let rate = if total == 0 {
        1.0
    } else {
        (opts.max_pairs_per_session as f64 / total as f64).min(1.0)
    };
    let h = blocks
        .blocks
        .par_iter()
        .map(|b| {
            let mut h = HashMap::new();
            blocks.for_each_pair(keys, b, |i, j| {
                if keep_pair(i, j, opts.seed, rate)
                    && let (Some(a), Some(c)) = (prepared.get(i), prepared.get(j))
                {
                    *h.entry(levels(a, c).0).or_insert(0.0) += 1.0;
                }
            });
            h
        })
        .reduce(HashMap::new, merge);
    let used = h.values().sum::<f64>() as u64;
    (sorted(h), total, used)
}
