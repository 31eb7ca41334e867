-- The viewer reads a person's live record heads (what authorization, ordering and paging
-- need) before it loads the few resources a page shows. This partial index holds exactly those
-- columns in the timeline's order, so the heads of a person with a thousand records are a few
-- adjacent index pages instead of a thousand table pages spread over the whole file.
-- deleted_at (always NULL here) is listed so that SQLite sees the index as covering the
-- query's condition. It replaces records_timeline, which it covers.
CREATE INDEX records_heads ON records (
    person_id, effective_on, received_at, source_key,
    record_id, facility_id, resource_type, category, code, display, sensitive, deleted_at
) WHERE deleted_at IS NULL;
DROP INDEX records_timeline;
