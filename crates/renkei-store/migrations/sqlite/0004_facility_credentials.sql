-- Credentials facility systems (the gateway) use to upload: only a digest of the token is kept.
CREATE TABLE facility_credentials (
    credential_id  BLOB PRIMARY KEY,
    facility_id    BLOB NOT NULL REFERENCES facilities(facility_id),
    token_hash     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    revoked_at     TEXT
);
CREATE INDEX facility_credentials_facility ON facility_credentials(facility_id);
