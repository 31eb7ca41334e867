//! Pairwise evaluation on the synthetic population (issue 4 item 7).

use renkei_mpi::eval::pairwise;
use renkei_mpi::{Cluster, evaluate};

#[test]
fn pairwise_scores_count_record_pairs() {
    let truth: Vec<String> = ["a", "a", "a", "b", "b"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let clusters = vec![
        Cluster {
            cluster_id: "1".into(),
            members: vec![0, 1, 3],
        },
        Cluster {
            cluster_id: "2".into(),
            members: vec![2],
        },
        Cluster {
            cluster_id: "3".into(),
            members: vec![4],
        },
    ];
    let s = pairwise(&truth, &clusters);
    // Predicted pairs: (0,1) (0,3) (1,3); true pairs: (0,1) (0,2) (1,2) (3,4).
    assert_eq!(
        (s.true_positive_pairs, s.predicted_pairs, s.true_pairs),
        (1, 3, 4)
    );
    assert!((s.precision - 1.0 / 3.0).abs() < 1e-12);
    assert!((s.recall - 0.25).abs() < 1e-12);
}

#[test]
fn synthetic_3000_persons_link_with_precision_099_and_recall_095() {
    let report = evaluate(3_000, 20_240_401, 2);
    println!("{report}");
    let s = report.scores;
    assert!(s.precision >= 0.99, "precision {:.5}", s.precision);
    assert!(s.recall >= 0.95, "recall {:.5}", s.recall);
    for t in &report.traps {
        assert!(t.pairs > 0, "no {} in the population", t.kind);
        assert_eq!(t.merged, 0, "{} merged", t.kind);
    }
}
