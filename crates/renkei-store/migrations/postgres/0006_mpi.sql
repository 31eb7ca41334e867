-- 名寄せ: the trained model, match results with their evidence and decisions, and merges with
-- what they moved (so an unmerge restores exactly the earlier state).
CREATE TABLE mpi_models (
    version     BIGINT PRIMARY KEY,
    model       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE match_results (
    person_id     UUID NOT NULL REFERENCES persons(person_id),
    match_id      UUID NOT NULL,
    candidate_id  UUID NOT NULL REFERENCES persons(person_id),
    score         DOUBLE PRECISION NOT NULL,
    outcome       TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    status        TEXT NOT NULL,
    decided_by    UUID,
    decided_at    TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (person_id, match_id)
);
CREATE INDEX match_results_status ON match_results(status, created_at);

CREATE TABLE person_merges (
    survivor_id  UUID NOT NULL REFERENCES persons(person_id),
    merge_id     UUID NOT NULL,
    merged_id    UUID NOT NULL REFERENCES persons(person_id),
    moved        TEXT NOT NULL,
    merged_at    TIMESTAMPTZ NOT NULL,
    merged_by    UUID,
    unmerged_at  TIMESTAMPTZ,
    PRIMARY KEY (survivor_id, merge_id)
);

ALTER TABLE persons ADD COLUMN merged_into UUID;
