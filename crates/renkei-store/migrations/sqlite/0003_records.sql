-- Clinical records, their history, what facilities provided, and quarantined input.
-- Keep in step with ../postgres/0003_records.sql.

CREATE TABLE records (
    person_id     BLOB NOT NULL REFERENCES persons(person_id),
    record_id     BLOB NOT NULL,
    facility_id   BLOB NOT NULL REFERENCES facilities(facility_id),
    source_group  TEXT NOT NULL,
    source_key    TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    category      TEXT NOT NULL,
    code_system   TEXT,
    code          TEXT,
    display       TEXT,
    effective_on  TEXT,
    sensitive     BOOLEAN NOT NULL,
    resource      TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    version       INTEGER NOT NULL,
    received_at   TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    deleted_at    TEXT,
    PRIMARY KEY (person_id, record_id),
    UNIQUE (person_id, facility_id, source_group, source_key)
);
CREATE INDEX records_source ON records(facility_id, source_group);
CREATE INDEX records_timeline ON records(person_id, effective_on);
CREATE INDEX records_code ON records(person_id, category, code);

-- Every earlier content of a record, so a replacement or deletion loses nothing.
CREATE TABLE record_history (
    person_id     BLOB NOT NULL,
    record_id     BLOB NOT NULL,
    version       INTEGER NOT NULL,
    resource      TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    superseded_at TEXT NOT NULL,
    PRIMARY KEY (person_id, record_id, version)
);

-- 情報提供の記録: what a facility provided for whom, and when.
CREATE TABLE provisions (
    person_id     BLOB NOT NULL REFERENCES persons(person_id),
    provision_id  BLOB NOT NULL,
    facility_id   BLOB NOT NULL REFERENCES facilities(facility_id),
    channel       TEXT NOT NULL,
    source_group  TEXT NOT NULL,
    source_name   TEXT,
    payload_hash  TEXT NOT NULL,
    accepted      INTEGER NOT NULL,
    replaced      INTEGER NOT NULL,
    deleted       INTEGER NOT NULL,
    received_at   TEXT NOT NULL,
    PRIMARY KEY (person_id, provision_id)
);
CREATE INDEX provisions_facility ON provisions(facility_id, received_at);

-- Input that could not be taken, with its original bytes and the reason.
CREATE TABLE quarantine (
    facility_id    BLOB NOT NULL REFERENCES facilities(facility_id),
    quarantine_id  BLOB NOT NULL,
    channel        TEXT NOT NULL,
    source_name    TEXT,
    payload        BLOB NOT NULL,
    payload_hash   TEXT NOT NULL,
    reason_code    TEXT NOT NULL,
    reason_detail  TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    received_at    TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (facility_id, quarantine_id)
);
CREATE INDEX quarantine_status ON quarantine(status, received_at);
