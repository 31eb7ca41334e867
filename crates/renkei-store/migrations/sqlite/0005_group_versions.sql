-- The source time of the newest input applied to each group, so an older version arriving
-- late (a retry, a re-import) never overwrites a newer one.
CREATE TABLE group_versions (
    person_id     BLOB NOT NULL REFERENCES persons(person_id),
    facility_id   BLOB NOT NULL REFERENCES facilities(facility_id),
    source_group  TEXT NOT NULL,
    source_time   TEXT NOT NULL,
    PRIMARY KEY (person_id, facility_id, source_group)
);
