-- 名寄せ: the trained model, match results with their evidence and decisions, and merges with
-- what they moved (so an unmerge restores exactly the earlier state).
CREATE TABLE mpi_models (
    version     INTEGER PRIMARY KEY,
    model       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE match_results (
    person_id     BLOB NOT NULL REFERENCES persons(person_id),
    match_id      BLOB NOT NULL,
    candidate_id  BLOB NOT NULL REFERENCES persons(person_id),
    score         REAL NOT NULL,
    outcome       TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    status        TEXT NOT NULL,
    decided_by    BLOB,
    decided_at    TEXT,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (person_id, match_id)
);
CREATE INDEX match_results_status ON match_results(status, created_at);

CREATE TABLE person_merges (
    survivor_id  BLOB NOT NULL REFERENCES persons(person_id),
    merge_id     BLOB NOT NULL,
    merged_id    BLOB NOT NULL REFERENCES persons(person_id),
    moved        TEXT NOT NULL,
    merged_at    TEXT NOT NULL,
    merged_by    BLOB,
    unmerged_at  TEXT,
    PRIMARY KEY (survivor_id, merge_id)
);

ALTER TABLE persons ADD COLUMN merged_into BLOB;
