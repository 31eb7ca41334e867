//! Error analysis on synthetic data (a developer tool, like a test):
//! `cargo run --release -p renkei-mpi --example analyze -- PERSONS SEED [EXAMPLES]`
//! prints false merges with their evidence and the missed pairs grouped by reason.
//! `LINK=8` overrides the link threshold.
#![allow(clippy::indexing_slicing)]
use renkei_mpi::*;
use std::collections::HashMap;

fn levels(c: &Comparison) -> String {
    c.fields
        .iter()
        .skip(1)
        .map(|f| format!("{}={}({:+.1})", f.field, f.level, f.weight))
        .collect::<Vec<_>>()
        .join(" ")
}

fn show(r: &LinkRecord) -> String {
    format!(
        "{} | {:?} | {:?} | {:?} | {:?} | {:?} | {:?} | {:?}/{:?}/{:?}/{:?} | {}:{}",
        r.record_id,
        r.name_kanji,
        r.name_kana,
        r.sex,
        r.birth_date,
        r.postal_code,
        r.address,
        r.insurer_number,
        r.insured_symbol,
        r.insured_number,
        r.insured_branch,
        r.facility,
        r.local_id
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let persons = args.next().and_then(|s| s.parse().ok()).unwrap_or(3_000);
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let show_n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let pop = synth::population(persons, seed);
    let recs = &pop.records;
    let mut opts = TrainOptions::default();
    if let Some(l) = std::env::var("LINK").ok().and_then(|s| s.parse().ok()) {
        opts.thresholds.link = l;
    }
    let model = train(recs, &opts);
    let out = link_batch_detailed(recs, &model, 0, &|_, _| {});
    let s = eval::pairwise(&pop.truth, &out.clusters);
    println!("precision {:.5} recall {:.5}", s.precision, s.recall);
    let mut cl = vec![0usize; recs.len()];
    for (k, c) in out.clusters.iter().enumerate() {
        for &m in &c.members {
            cl[m] = k;
        }
    }
    // false positives: clusters with >1 person
    let mut fp_shown = 0;
    for c in &out.clusters {
        let mut persons: HashMap<&str, Vec<usize>> = HashMap::new();
        for &m in &c.members {
            persons.entry(pop.truth[m].as_str()).or_default().push(m);
        }
        if persons.len() > 1 && fp_shown < show_n {
            fp_shown += 1;
            println!(
                "=== FALSE MERGE cluster {} ({} persons)",
                c.cluster_id,
                persons.len()
            );
            for (p, ms) in &persons {
                for &m in ms {
                    println!("  {p} {}", show(&recs[m]));
                }
            }
            let ms: Vec<usize> = c.members.clone();
            for i in 0..ms.len() {
                for j in i + 1..ms.len() {
                    if pop.truth[ms[i]] != pop.truth[ms[j]] {
                        let cmp = compare(&model, &recs[ms[i]], &recs[ms[j]]);
                        println!(
                            "    {} ~ {}: score {:+.1} {:?} {:?} {}",
                            recs[ms[i]].record_id,
                            recs[ms[j]].record_id,
                            cmp.score,
                            classify(&model, &cmp),
                            cmp.conflict,
                            levels(&cmp)
                        );
                    }
                }
            }
        }
    }
    // false negatives: group by reason
    let mut by_person: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in pop.truth.iter().enumerate() {
        by_person.entry(t.as_str()).or_default().push(i);
    }
    let mut reasons: HashMap<String, usize> = HashMap::new();
    let mut examples: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
    for ms in by_person.values() {
        for i in 0..ms.len() {
            for j in i + 1..ms.len() {
                let (a, b) = (ms[i], ms[j]);
                if cl[a] == cl[b] {
                    continue;
                }
                let c = compare(&model, &recs[a], &recs[b]);
                let o = classify(&model, &c);
                let key = match (o, c.conflict) {
                    (_, Some(conf)) => format!(
                        "conflict {:?} score {}",
                        conf,
                        (c.score / 4.0).floor() * 4.0
                    ),
                    (Outcome::Link, None) => {
                        "link edge but not merged (transitive conflict or not blocked)".into()
                    }
                    (Outcome::Review, None) => {
                        format!("review score {}", (c.score / 4.0).floor() * 4.0)
                    }
                    (Outcome::NewPerson, None) => {
                        format!("new person score {}", (c.score / 4.0).floor() * 4.0)
                    }
                };
                *reasons.entry(key.clone()).or_default() += 1;
                examples.entry(key).or_default().push((a, b));
            }
        }
    }
    let mut rs: Vec<_> = reasons.into_iter().collect();
    rs.sort_by_key(|a| std::cmp::Reverse(a.1));
    for (k, n) in &rs {
        println!("--- missed {n}: {k}");
        for &(a, b) in examples[k].iter().take(show_n.min(3)) {
            let c = compare(&model, &recs[a], &recs[b]);
            println!(
                "   {}\n   {}\n     score {:+.1} {}",
                show(&recs[a]),
                show(&recs[b]),
                c.score,
                levels(&c)
            );
        }
    }
}
