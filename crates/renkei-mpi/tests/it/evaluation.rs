//! Pairwise evaluation on the synthetic population (issue 4 item 7).

use renkei_mpi::eval::pairwise;
use renkei_mpi::{
    Cluster, LinkRecord, MpiError, assignments, clusters_from_assignments, evaluate,
    evaluate_keeping_population, score_clustering,
};

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

#[test]
fn clusters_from_assignments_reads_another_tools_output() {
    let records: Vec<LinkRecord> = ["r1", "r2", "r3", "r4"]
        .iter()
        .map(|id| LinkRecord {
            record_id: (*id).to_owned(),
            ..LinkRecord::default()
        })
        .collect();
    let rows = [("r3", "x"), ("r1", "x"), ("r2", "y")].map(|(r, c)| (r.to_owned(), c.to_owned()));
    let clusters = clusters_from_assignments(&records, rows).unwrap();
    // r4 has no row: a singleton, in no cluster.
    assert_eq!(
        clusters,
        vec![
            Cluster {
                cluster_id: "x".into(),
                members: vec![0, 2],
            },
            Cluster {
                cluster_id: "y".into(),
                members: vec![1],
            },
        ]
    );
    let unknown = [("r9".to_owned(), "x".to_owned())];
    assert!(matches!(
        clusters_from_assignments(&records, unknown),
        Err(MpiError::Csv { row: 2, .. })
    ));
    let twice = [("r1", "x"), ("r1", "y")].map(|(r, c)| (r.to_owned(), c.to_owned()));
    assert!(matches!(
        clusters_from_assignments(&records, twice),
        Err(MpiError::DuplicateRecordId { row: 3 })
    ));
}

#[test]
fn another_tools_clusters_are_scored_like_ours() {
    let (report, population) = evaluate_keeping_population(300, 7, 1);
    assert_eq!(report.records, population.records.len());
    // Everything in one cluster merges every trap; every record alone merges none.
    let all = Cluster {
        cluster_id: "all".into(),
        members: (0..population.records.len()).collect(),
    };
    let merged = score_clustering(&population, &[all]);
    assert_eq!(merged.clusters, 1);
    assert!((merged.scores.recall - 1.0).abs() < 1e-12);
    assert!(merged.traps.iter().all(|t| t.merged == t.pairs));
    let apart = score_clustering(&population, &[]);
    assert_eq!(apart.clusters, population.records.len());
    assert_eq!(apart.scores.predicted_pairs, 0);
    assert!(apart.traps.iter().all(|t| t.merged == 0));
    // Our clusters, written as another tool would and read back, score as evaluate() did.
    let opts = renkei_mpi::TrainOptions {
        threads: 1,
        ..renkei_mpi::TrainOptions::default()
    };
    let model = renkei_mpi::train(&population.records, &opts);
    let ours = renkei_mpi::link_batch(&population.records, &model, 1, &|_, _| {});
    let rows = assignments(&population.records, &ours);
    let back = clusters_from_assignments(&population.records, rows).unwrap();
    assert_eq!(score_clustering(&population, &back).scores, report.scores);
}
