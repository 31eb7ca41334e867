-- Every read of records starts from the person (the primary key and records_timeline), and
-- ingestion finds a group's records through the UNIQUE (person, facility, group, key) index.
-- These two were never used by a query and cost a write per record on ingestion.
DROP INDEX records_source;
DROP INDEX records_code;
