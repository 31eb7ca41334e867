-- Renkei foundation schema (SQLite). Keep in step with ../postgres/0001_foundation.sql.
-- UUIDs are 16-byte BLOBs, times are UTC text written by sqlx, dates are YYYY-MM-DD text.

-- Reference tables (small masters).
CREATE TABLE facilities (
    facility_id   BLOB PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    joined_on     TEXT NOT NULL,
    withdrawn_on  TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE users (
    user_id               BLOB PRIMARY KEY,
    facility_id           BLOB NOT NULL REFERENCES facilities(facility_id),
    login                 TEXT NOT NULL,
    display_name          TEXT NOT NULL,
    profession            TEXT NOT NULL,
    roles                 TEXT NOT NULL,
    active                BOOLEAN NOT NULL,
    password_hash         TEXT NOT NULL,
    must_change_password  BOOLEAN NOT NULL,
    totp_secret           TEXT,
    totp_confirmed        BOOLEAN NOT NULL,
    failed_logins         INTEGER NOT NULL DEFAULT 0,
    locked_until          TEXT,
    created_at            TEXT NOT NULL,
    UNIQUE (facility_id, login)
);

CREATE TABLE recovery_codes (
    user_id    BLOB NOT NULL REFERENCES users(user_id),
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       BLOB NOT NULL REFERENCES users(user_id),
    csrf_token    TEXT NOT NULL,
    stage         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE access_policies (
    version     INTEGER PRIMARY KEY,
    matrix      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  BLOB
);

-- Patient-centred tables: person_id leads every key (the Citus distribution column).
CREATE TABLE persons (
    person_id    BLOB PRIMARY KEY,
    name_kanji   TEXT,
    name_kana    TEXT NOT NULL,
    sex          TEXT NOT NULL,
    birth_date   TEXT NOT NULL,
    postal_code  TEXT,
    address      TEXT,
    phone        TEXT,
    created_at   TEXT NOT NULL
);

CREATE TABLE local_patients (
    person_id    BLOB NOT NULL REFERENCES persons(person_id),
    facility_id  BLOB NOT NULL REFERENCES facilities(facility_id),
    local_id     TEXT NOT NULL,
    method       TEXT NOT NULL,
    linked_at    TEXT NOT NULL,
    PRIMARY KEY (person_id, facility_id, local_id),
    UNIQUE (facility_id, local_id)
);

CREATE TABLE consents (
    person_id           BLOB NOT NULL REFERENCES persons(person_id),
    consent_id          BLOB NOT NULL,
    signed_on           TEXT NOT NULL,
    method              TEXT NOT NULL,
    proxy_name          TEXT,
    proxy_relationship  TEXT,
    scope_national      BOOLEAN NOT NULL,
    mode                TEXT NOT NULL,
    registered_at       TEXT NOT NULL,
    registered_by       BLOB NOT NULL REFERENCES facilities(facility_id),
    withdrawn_at        TEXT,
    PRIMARY KEY (person_id, consent_id)
);

CREATE TABLE care_relationships (
    person_id    BLOB NOT NULL REFERENCES persons(person_id),
    facility_id  BLOB NOT NULL REFERENCES facilities(facility_id),
    since        TEXT NOT NULL,
    source       TEXT NOT NULL,
    PRIMARY KEY (person_id, facility_id)
);

CREATE TABLE break_glass_grants (
    person_id    BLOB NOT NULL REFERENCES persons(person_id),
    grant_id     BLOB NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users(user_id),
    facility_id  BLOB NOT NULL REFERENCES facilities(facility_id),
    reason       TEXT NOT NULL,
    reason_text  TEXT,
    granted_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    PRIMARY KEY (person_id, grant_id)
);

-- Audit log: append-only, one global hash chain. seq is assigned by the application under
-- the audit_head row lock, so two writers can never fork the chain.
CREATE TABLE audit_log (
    seq             INTEGER PRIMARY KEY,
    entry_id        BLOB NOT NULL UNIQUE,
    at              TEXT NOT NULL,
    user_id         BLOB,
    facility_id     BLOB,
    profession      TEXT,
    action          TEXT NOT NULL,
    person_id       BLOB,
    items           TEXT NOT NULL,
    consent_state   TEXT,
    access_method   TEXT,
    outcome         TEXT NOT NULL,
    request_id      TEXT,
    client_addr     TEXT,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_log_person ON audit_log(person_id, seq);
CREATE INDEX audit_log_user ON audit_log(user_id, seq);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_checkpoints (
    seq        INTEGER PRIMARY KEY,
    hash       TEXT NOT NULL,
    signed_at  TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL
);
