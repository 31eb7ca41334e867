-- Credentials facility systems (the gateway) use to upload: only a digest of the token is kept.
CREATE TABLE facility_credentials (
    credential_id  UUID PRIMARY KEY,
    facility_id    UUID NOT NULL REFERENCES facilities(facility_id),
    token_hash     TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ
);
CREATE INDEX facility_credentials_facility ON facility_credentials(facility_id);
