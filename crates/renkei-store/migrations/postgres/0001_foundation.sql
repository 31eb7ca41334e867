-- Renkei foundation schema (PostgreSQL). Keep in step with ../sqlite/0001_foundation.sql.
-- Native UUID, TIMESTAMPTZ (microseconds) and DATE columns.

-- Reference tables (small masters).
CREATE TABLE facilities (
    facility_id   UUID PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    joined_on     DATE NOT NULL,
    withdrawn_on  DATE,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    user_id               UUID PRIMARY KEY,
    facility_id           UUID NOT NULL REFERENCES facilities(facility_id),
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
    locked_until          TIMESTAMPTZ,
    created_at            TIMESTAMPTZ NOT NULL,
    UNIQUE (facility_id, login)
);

CREATE TABLE recovery_codes (
    user_id    UUID NOT NULL REFERENCES users(user_id),
    code_hash  TEXT NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       UUID NOT NULL REFERENCES users(user_id),
    csrf_token    TEXT NOT NULL,
    stage         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE access_policies (
    version     BIGINT PRIMARY KEY,
    matrix      JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  UUID
);

-- Patient-centred tables: person_id leads every key (the Citus distribution column).
CREATE TABLE persons (
    person_id    UUID PRIMARY KEY,
    name_kanji   TEXT,
    name_kana    TEXT NOT NULL,
    sex          TEXT NOT NULL,
    birth_date   DATE NOT NULL,
    postal_code  TEXT,
    address      TEXT,
    phone        TEXT,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE local_patients (
    person_id    UUID NOT NULL REFERENCES persons(person_id),
    facility_id  UUID NOT NULL REFERENCES facilities(facility_id),
    local_id     TEXT NOT NULL,
    method       TEXT NOT NULL,
    linked_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (person_id, facility_id, local_id),
    UNIQUE (facility_id, local_id)
);

CREATE TABLE consents (
    person_id           UUID NOT NULL REFERENCES persons(person_id),
    consent_id          UUID NOT NULL,
    signed_on           DATE NOT NULL,
    method              TEXT NOT NULL,
    proxy_name          TEXT,
    proxy_relationship  TEXT,
    scope_national      BOOLEAN NOT NULL,
    mode                TEXT NOT NULL,
    registered_at       TIMESTAMPTZ NOT NULL,
    registered_by       UUID NOT NULL REFERENCES facilities(facility_id),
    withdrawn_at        TIMESTAMPTZ,
    PRIMARY KEY (person_id, consent_id)
);

CREATE TABLE care_relationships (
    person_id    UUID NOT NULL REFERENCES persons(person_id),
    facility_id  UUID NOT NULL REFERENCES facilities(facility_id),
    since        TIMESTAMPTZ NOT NULL,
    source       TEXT NOT NULL,
    PRIMARY KEY (person_id, facility_id)
);

CREATE TABLE break_glass_grants (
    person_id    UUID NOT NULL REFERENCES persons(person_id),
    grant_id     UUID NOT NULL,
    user_id      UUID NOT NULL REFERENCES users(user_id),
    facility_id  UUID NOT NULL REFERENCES facilities(facility_id),
    reason       TEXT NOT NULL,
    reason_text  TEXT,
    granted_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (person_id, grant_id)
);

-- Audit log: append-only, one global hash chain. seq is assigned by the application under
-- the audit_head row lock, so two writers can never fork the chain.
CREATE TABLE audit_log (
    seq             BIGINT PRIMARY KEY,
    entry_id        UUID NOT NULL UNIQUE,
    at              TIMESTAMPTZ NOT NULL,
    user_id         UUID,
    facility_id     UUID,
    profession      TEXT,
    action          TEXT NOT NULL,
    person_id       UUID,
    items           JSONB NOT NULL,
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
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY,
    hash       TEXT NOT NULL,
    signed_at  TIMESTAMPTZ NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL
);
