//! The model is estimated from the data, inspectable, and saved (issue 4 item 2).

use crate::world;
use renkei_mpi::{Model, MpiError, compare, link_batch, synth};
use std::cell::RefCell;

#[test]
fn model_round_trips_through_json() {
    let m = &world().model;
    let back = Model::from_json(&m.to_json()).unwrap();
    // JSON keeps floats to within an ulp.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(1.0);
    for (f, g) in m.fields.iter().zip(&back.fields) {
        assert_eq!(f.field, g.field);
        for (l, k) in f.levels.iter().zip(&g.levels) {
            assert_eq!(l.level, k.level);
            assert!(
                close(l.m, k.m) && close(l.u, k.u) && close(l.weight, k.weight),
                "{l:?} {k:?}"
            );
        }
    }
    assert_eq!(back.term_frequencies, m.term_frequencies);
    assert_eq!(back.thresholds, m.thresholds);
    let (records, _) = synth::generate(20, 3);
    for pair in records.windows(2) {
        let (a, b) = (
            compare(m, &pair[0], &pair[1]),
            compare(&back, &pair[0], &pair[1]),
        );
        assert!(close(a.score, b.score), "{a:?} {b:?}");
        assert_eq!(a.conflict, b.conflict);
    }
}

#[test]
fn a_broken_model_file_is_refused_without_quoting_it() {
    let e = Model::from_json("{\"version\": \"サトウ ヒロシ\"}").unwrap_err();
    assert!(matches!(e, MpiError::Model(_)));
    assert!(!e.to_string().contains("サトウ"), "{e}");
    let mut m = world().model.clone();
    m.fields[1].levels.pop();
    assert!(Model::from_json(&m.to_json()).is_err());
}

#[test]
fn em_estimates_are_sane_and_reported() {
    let m = &world().model;
    for f in &m.fields {
        let first = &f.levels[0];
        let last = f.levels.last().unwrap();
        assert!(first.weight > 0.0, "{}: {first:?}", f.field);
        assert!(last.weight < 0.0, "{}: {last:?}", f.field);
        let (sm, su): (f64, f64) = f
            .levels
            .iter()
            .fold((0.0, 0.0), |a, l| (a.0 + l.m, a.1 + l.u));
        assert!(
            (sm - 1.0).abs() < 1e-6 && (su - 1.0).abs() < 1e-6,
            "{}",
            f.field
        );
    }
    // Matches agree on birth date far more often than random pairs.
    let birth = m.fields.iter().find(|f| f.field == "birth_date").unwrap();
    assert!(
        birth.levels[0].m > 0.8 && birth.levels[0].u < 1e-3,
        "{birth:?}"
    );
    assert!(m.prior_log2_odds < -5.0, "{}", m.prior_log2_odds);
    let report = m.to_report();
    for needle in [
        "prior",
        "family_name",
        "kanji_unknown_char",
        "session birth_date",
        "most common family names",
    ] {
        assert!(report.contains(needle), "{needle} missing from\n{report}");
    }
}

#[test]
fn link_batch_reports_progress_up_to_the_total() {
    let w = world();
    let seen = RefCell::new(Vec::new());
    let clusters = link_batch(&w.background, &w.model, 1, &|done, total| {
        seen.borrow_mut().push((done, total))
    });
    let seen = seen.into_inner();
    let &(done, total) = seen.last().unwrap();
    assert_eq!(done, total);
    assert!(seen.windows(2).all(|p| p[0].0 <= p[1].0));
    let members: usize = clusters.iter().map(|c| c.members.len()).sum();
    assert_eq!(members, w.background.len());
}
