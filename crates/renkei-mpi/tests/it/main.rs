//! Requirements of issue 4 items 2, 3, 6 and 7 for `renkei-mpi`. One test binary for the
//! crate (do not add more top-level test files).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cases;
mod csv_io;
mod evaluation;
mod model_io;
mod properties;

use renkei_mpi::{Cluster, LinkRecord, Model, Sex, TrainOptions, link_batch, synth, train};
use std::sync::OnceLock;

/// A background population (synthetic residents) and a model trained on it together with the
/// hand-made records of every test, as `renkei link` would train on its whole input.
pub struct World {
    pub background: Vec<LinkRecord>,
    pub model: Model,
}

pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let (background, _) = synth::generate(1_500, 11);
        let mut training = background.clone();
        training.extend(cases::all_case_records());
        let opts = TrainOptions {
            random_pairs: 200_000,
            ..TrainOptions::default()
        };
        let model = train(&training, &opts);
        World { background, model }
    })
}

/// A record builder with the fields every test sets.
#[derive(Clone)]
pub struct R(pub LinkRecord);

impl R {
    pub fn new(id: &str, facility: &str) -> R {
        R(LinkRecord {
            record_id: id.to_owned(),
            facility: facility.to_owned(),
            local_id: format!("L-{id}"),
            ..LinkRecord::default()
        })
    }
    pub fn kanji(mut self, s: &str) -> R {
        self.0.name_kanji = Some(s.to_owned());
        self
    }
    pub fn kana(mut self, s: &str) -> R {
        self.0.name_kana = Some(s.to_owned());
        self
    }
    pub fn male(mut self) -> R {
        self.0.sex = Some(Sex::Male);
        self
    }
    pub fn female(mut self) -> R {
        self.0.sex = Some(Sex::Female);
        self
    }
    pub fn born(mut self, y: i32, m: u8, d: u8) -> R {
        self.0.birth_date = Some((y, m, d));
        self
    }
    pub fn postal(mut self, s: &str) -> R {
        self.0.postal_code = Some(s.to_owned());
        self
    }
    pub fn address(mut self, s: &str) -> R {
        self.0.address = Some(s.to_owned());
        self
    }
    pub fn card(mut self, insurer: &str, symbol: &str, number: &str, branch: Option<&str>) -> R {
        self.0.insurer_number = Some(insurer.to_owned());
        self.0.insured_symbol = (!symbol.is_empty()).then(|| symbol.to_owned());
        self.0.insured_number = Some(number.to_owned());
        self.0.insured_branch = branch.map(str::to_owned);
        self
    }
    pub fn build(self) -> LinkRecord {
        self.0
    }
}

/// Links the background plus `records`; returns the cluster of each of `records`.
pub fn clusters_of(records: &[LinkRecord]) -> Vec<usize> {
    let w = world();
    let mut all = w.background.clone();
    let base = all.len();
    all.extend(records.iter().cloned());
    let clusters: Vec<Cluster> = link_batch(&all, &w.model, 2, &|_, _| {});
    let mut of = vec![usize::MAX; all.len()];
    for (k, c) in clusters.iter().enumerate() {
        for &m in &c.members {
            of[m] = k;
        }
    }
    of[base..].to_vec()
}
