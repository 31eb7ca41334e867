-- Clinical records, their history, what facilities provided, and quarantined input.
-- Keep in step with ../sqlite/0003_records.sql.

CREATE TABLE records (
    person_id     UUID NOT NULL REFERENCES persons(person_id),
    record_id     UUID NOT NULL,
    facility_id   UUID NOT NULL REFERENCES facilities(facility_id),
    source_group  TEXT NOT NULL,
    source_key    TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    category      TEXT NOT NULL,
    code_system   TEXT,
    code          TEXT,
    display       TEXT,
    effective_on  DATE,
    sensitive     BOOLEAN NOT NULL,
    resource      JSONB NOT NULL,
    content_hash  TEXT NOT NULL,
    version       BIGINT NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    deleted_at    TIMESTAMPTZ,
    PRIMARY KEY (person_id, record_id),
    UNIQUE (person_id, facility_id, source_group, source_key)
);
CREATE INDEX records_source ON records(facility_id, source_group);
CREATE INDEX records_timeline ON records(person_id, effective_on);
CREATE INDEX records_code ON records(person_id, category, code);

-- Every earlier content of a record, so a replacement or deletion loses nothing.
CREATE TABLE record_history (
    person_id     UUID NOT NULL,
    record_id     UUID NOT NULL,
    version       BIGINT NOT NULL,
    resource      JSONB NOT NULL,
    content_hash  TEXT NOT NULL,
    superseded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (person_id, record_id, version)
);

-- 情報提供の記録: what a facility provided for whom, and when.
CREATE TABLE provisions (
    person_id     UUID NOT NULL REFERENCES persons(person_id),
    provision_id  UUID NOT NULL,
    facility_id   UUID NOT NULL REFERENCES facilities(facility_id),
    channel       TEXT NOT NULL,
    source_group  TEXT NOT NULL,
    source_name   TEXT,
    payload_hash  TEXT NOT NULL,
    accepted      INTEGER NOT NULL,
    replaced      INTEGER NOT NULL,
    deleted       INTEGER NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (person_id, provision_id)
);
CREATE INDEX provisions_facility ON provisions(facility_id, received_at);

-- Input that could not be taken, with its original bytes and the reason.
CREATE TABLE quarantine (
    facility_id    UUID NOT NULL REFERENCES facilities(facility_id),
    quarantine_id  UUID NOT NULL,
    channel        TEXT NOT NULL,
    source_name    TEXT,
    payload        BYTEA NOT NULL,
    payload_hash   TEXT NOT NULL,
    reason_code    TEXT NOT NULL,
    reason_detail  TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (facility_id, quarantine_id)
);
CREATE INDEX quarantine_status ON quarantine(status, received_at);
