-- Bumped whenever a person's records change (ingestion, merge, unmerge), so that the viewer
-- can keep a person's record heads in memory and know with the person row whether they are
-- still current.
ALTER TABLE persons ADD COLUMN records_version BIGINT NOT NULL DEFAULT 0;
