-- The latest demographics a facility's system sent for one of its patients (SS-MIX2 ADT-00, a
-- FHIR Patient), as the 名寄せ matcher reads them, so that matching keeps using them after a
-- restart. Keyed by the facility's patient ID: merges and unmerges move local patients, not
-- these rows. Keep in step with ../sqlite/0010_arrived_demographics.sql.
CREATE TABLE arrived_demographics (
    facility_id  UUID NOT NULL REFERENCES facilities(facility_id),
    local_id     TEXT NOT NULL,
    record       TEXT NOT NULL,
    source_time  TIMESTAMPTZ,
    received_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (facility_id, local_id)
);
