//! Record heads kept in memory per person. A clinician opens several pages of one patient in a
//! row (summary, timeline, labs, a letter), and every page authorizes and orders on all of the
//! person's heads. A kept entry is used only while the person's `records_version` in the store
//! is the one it was read at, so a change by any process (ingestion, merge, unmerge) is seen
//! by the next page.

use hashlink::LruCache;
use renkei_domain::{PersonId, RecordHead};
use std::sync::{Arc, Mutex, MutexGuard};

/// Persons kept, least recently used dropped first.
const KEPT_PERSONS: usize = 1_024;
/// Heads kept in all (about 250 bytes each); a person with more is read every time.
const KEPT_HEADS: usize = 200_000;

/// One person's heads as read at a records version.
type Kept = (i64, Arc<[RecordHead]>);

pub(crate) struct HeadsCache {
    inner: Mutex<Inner>,
}

struct Inner {
    lru: LruCache<PersonId, Kept>,
    heads: usize,
}

impl Default for HeadsCache {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                lru: LruCache::new(KEPT_PERSONS),
                heads: 0,
            }),
        }
    }
}

impl HeadsCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing here can leave the map half-changed: a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The person's heads if they were kept at exactly `version`.
    pub(crate) fn get(&self, person: PersonId, version: i64) -> Option<Arc<[RecordHead]>> {
        let mut inner = self.lock();
        match inner.lru.get(&person) {
            Some((v, heads)) if *v == version => Some(heads.clone()),
            _ => None,
        }
    }

    /// Keep heads read at `version`. The version must have been read before the heads: then a
    /// write in between makes the entry look older than it is, never newer.
    pub(crate) fn put(&self, person: PersonId, version: i64, heads: Arc<[RecordHead]>) {
        if heads.len() > KEPT_HEADS / 4 {
            return;
        }
        let mut inner = self.lock();
        if let Some((_, old)) = inner.lru.remove(&person) {
            inner.heads -= old.len();
        }
        // Make room first: the map would otherwise drop its oldest entry without telling.
        while inner.heads + heads.len() > KEPT_HEADS || inner.lru.len() >= KEPT_PERSONS {
            match inner.lru.remove_lru() {
                Some((_, (_, old))) => inner.heads -= old.len(),
                None => break,
            }
        }
        inner.heads += heads.len();
        inner.lru.insert(person, (version, heads));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use renkei_domain::{AccessCategory, FacilityId};
    use time::OffsetDateTime;

    fn heads(n: usize) -> Arc<[RecordHead]> {
        (0..n)
            .map(|_| RecordHead {
                id: uuid::Uuid::now_v7(),
                facility_id: FacilityId::new(),
                resource_type: "Observation".into(),
                category: AccessCategory::Labs,
                code: None,
                display: None,
                effective_on: None,
                sensitive: false,
                received_at: OffsetDateTime::UNIX_EPOCH,
            })
            .collect()
    }

    #[test]
    fn kept_heads_are_used_only_at_the_version_they_were_read_at() {
        let cache = HeadsCache::default();
        let p = PersonId::new();
        cache.put(p, 3, heads(5));
        assert_eq!(cache.get(p, 3).map(|h| h.len()), Some(5));
        assert!(cache.get(p, 4).is_none(), "a write since makes them stale");
        assert!(cache.get(PersonId::new(), 3).is_none());
    }

    #[test]
    fn the_total_number_of_kept_heads_stays_bounded() {
        let cache = HeadsCache::default();
        let per = KEPT_HEADS / 4;
        let persons: Vec<PersonId> = (0..6).map(|_| PersonId::new()).collect();
        for p in &persons {
            cache.put(*p, 0, heads(per));
        }
        assert!(cache.lock().heads <= KEPT_HEADS);
        assert!(cache.get(persons[0], 0).is_none(), "the oldest went first");
        assert!(cache.get(persons[5], 0).is_some());
        // Too many heads for one person: not kept at all.
        let big = PersonId::new();
        cache.put(big, 0, heads(per + 1));
        assert!(cache.get(big, 0).is_none());
    }
}
