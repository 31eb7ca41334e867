//! The kept online index (名寄せ as residents and demographics arrive): one
//! [`renkei_mpi::Index`] of every live person's records, built once and then updated record by
//! record, with who owns each record. Synchronous and free of I/O; [`crate::App`] holds it
//! behind a lock and feeds it from the store.
//!
//! What it holds, per live person: one record per local patient ID (one record without a local
//! ID for a person who has none) with the demographics that facility last sent by ingestion
//! (SS-MIX2 ADT-00, FHIR Patient) when they told something new, else the person's registered
//! demographics. Demographics from ingestion are not stored in the database, so a rebuild
//! (restart, new model) goes back to the registered ones until they are sent again; what
//! matching them found (match results, merges) is stored.

use renkei_domain::{FacilityId, Person, PersonId, Sex};
use renkei_mpi::{Comparison, Conflict, Index, LinkRecord, Model, Outcome};
use std::collections::HashMap;
use time::OffsetDateTime;

/// The network's view of a person for matching: one record per local patient ID.
pub(crate) fn person_record(
    p: &Person,
    facility: Option<FacilityId>,
    local_id: &str,
) -> LinkRecord {
    LinkRecord {
        record_id: p.id.to_string(),
        facility: facility.map(|f| f.to_string()).unwrap_or_default(),
        local_id: local_id.to_owned(),
        name_kanji: p.name_kanji.clone(),
        name_kana: Some(p.name_kana.clone()),
        sex: match p.sex {
            Sex::Unknown => None,
            s => Some(s),
        },
        birth_date: Some((
            p.birth_date.year(),
            u8::from(p.birth_date.month()),
            p.birth_date.day(),
        )),
        postal_code: p.postal_code.clone(),
        address: p.address.clone(),
        insurer_number: None,
        insured_symbol: None,
        insured_number: None,
        insured_branch: None,
    }
}

/// A facility's patient ID.
type Local = (FacilityId, String);

/// Whose an index record is.
enum Slot {
    /// Registered demographics of a person.
    Person(PersonId),
    /// Demographics a facility sent for its patient: whoever that local ID is linked to now.
    Local(FacilityId, Box<str>),
}

/// A live person in the index.
#[derive(Default)]
struct Held {
    links: Vec<Local>,
    /// Records made from the registered demographics, with the local ID each stands for
    /// (`None`: the person has no local ID). A local ID with arrived demographics has none.
    records: Vec<(Option<Local>, usize)>,
}

/// Demographics that arrived by ingestion for one local patient.
struct Arrived {
    record: usize,
    source_time: Option<OffsetDateTime>,
}

/// What [`Online::arrive`] made of demographics sent by a facility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// Nothing the index did not know for this local patient (or an older version than the one
    /// it holds): nothing to match.
    NoNews,
    /// Taken into the index as this local patient's record: match them.
    News,
}

/// A person proposed by the index.
pub(crate) struct Candidate {
    pub person: PersonId,
    pub comparison: Comparison,
    pub outcome: Outcome,
}

/// The index with who owns each record.
///
/// One record per local patient ID of each live person (one without a local ID for a person
/// who has none): the demographics that facility last sent by ingestion, else the person's
/// registered demographics.
pub(crate) struct Online {
    /// The model version the index was built with.
    pub version: i64,
    /// An update could not be completed (the store could not be read): rebuild before use.
    pub stale: bool,
    index: Index,
    /// By record number.
    slots: Vec<Slot>,
    persons: HashMap<PersonId, Held>,
    owner_of_local: HashMap<Local, PersonId>,
    /// Records made from demographics that arrived by ingestion, by local ID. They stand for
    /// their local ID whoever it is linked to, so a merge or unmerge moves them along.
    arrived: HashMap<Local, Arrived>,
}

impl Online {
    /// Index every live person (CPU-bound: call off the async runtime).
    pub fn build(
        version: i64,
        model: &Model,
        persons: Vec<(Person, Vec<(FacilityId, String)>)>,
    ) -> Online {
        let mut records = Vec::with_capacity(persons.len());
        let mut slots = Vec::with_capacity(persons.len());
        let mut held = HashMap::with_capacity(persons.len());
        let mut owner_of_local = HashMap::with_capacity(persons.len());
        for (p, links) in persons {
            let mut h = Held::default();
            if links.is_empty() {
                h.records.push((None, records.len()));
                records.push(person_record(&p, None, ""));
                slots.push(Slot::Person(p.id));
            }
            for (f, l) in links {
                let local = (f, l);
                h.records.push((Some(local.clone()), records.len()));
                records.push(person_record(&p, Some(f), &local.1));
                slots.push(Slot::Person(p.id));
                owner_of_local.insert(local.clone(), p.id);
                h.links.push(local);
            }
            held.insert(p.id, h);
        }
        Online {
            version,
            stale: false,
            index: Index::build(model, &records),
            slots,
            persons: held,
            owner_of_local,
            arrived: HashMap::new(),
        }
    }

    /// Records in the index.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    fn add(&mut self, rec: &LinkRecord, slot: Slot) -> usize {
        // A new number is the next position; a removed record's number is reused.
        let n = self.index.insert(rec);
        match self.slots.get_mut(n) {
            Some(s) => *s = slot,
            None => self.slots.push(slot),
        }
        n
    }

    /// Take a person out (merged into another, or about to be put back as they now are). Their
    /// local IDs are nobody's until a [`Online::put`] claims them.
    pub fn forget(&mut self, person: PersonId) {
        if let Some(h) = self.persons.remove(&person) {
            for (_, n) in h.records {
                self.index.remove(n);
            }
            for l in h.links {
                if self.owner_of_local.get(&l) == Some(&person) {
                    self.owner_of_local.remove(&l);
                }
            }
        }
    }

    /// Put a live person in as the store has them now (replacing what the index held), with
    /// their local patient IDs: demographics that arrived for those IDs are theirs from now on.
    pub fn put(&mut self, p: &Person, links: &[(FacilityId, String)]) {
        self.forget(p.id);
        let mut h = Held::default();
        if links.is_empty() {
            let n = self.add(&person_record(p, None, ""), Slot::Person(p.id));
            h.records.push((None, n));
        }
        for (f, l) in links {
            let local = (*f, l.clone());
            if !self.arrived.contains_key(&local) {
                let n = self.add(&person_record(p, Some(*f), l), Slot::Person(p.id));
                h.records.push((Some(local.clone()), n));
            }
            self.owner_of_local.insert(local.clone(), p.id);
            h.links.push(local);
        }
        self.persons.insert(p.id, h);
    }

    /// Whether the index holds this person.
    #[cfg(test)]
    pub fn holds(&self, person: PersonId) -> bool {
        self.persons.contains_key(&person)
    }

    /// The person a local patient ID belongs to, as the index knows it.
    pub fn owner_of_local(&self, facility: FacilityId, local_id: &str) -> Option<PersonId> {
        self.owner_of_local
            .get(&(facility, local_id.to_owned()))
            .copied()
    }

    fn owner(&self, n: usize) -> Option<PersonId> {
        match self.slots.get(n)? {
            Slot::Person(p) => Some(*p),
            Slot::Local(f, l) => self.owner_of_local.get(&(*f, l.to_string())).copied(),
        }
    }

    /// Demographics `rec` that `facility` sent for its patient `local_id` (whose owner the index
    /// holds). News when they tell something the local ID's record does not, and are not older
    /// than demographics that arrived before; news become the local ID's record.
    pub fn arrive(
        &mut self,
        facility: FacilityId,
        local_id: &str,
        rec: &LinkRecord,
        source_time: Option<OffsetDateTime>,
    ) -> Arrival {
        let local = (facility, local_id.to_owned());
        let Some(owner) = self.owner_of_local.get(&local).copied() else {
            return Arrival::NoNews;
        };
        let registered = self.persons.get(&owner).and_then(|h| {
            h.records
                .iter()
                .position(|(l, _)| l.as_ref() == Some(&local))
        });
        let current = match self.arrived.get(&local) {
            Some(a) => {
                if let (Some(new), Some(old)) = (source_time, a.source_time)
                    && new < old
                {
                    return Arrival::NoNews;
                }
                Some(a.record)
            }
            None => registered.and_then(|i| {
                self.persons
                    .get(&owner)
                    .and_then(|h| h.records.get(i))
                    .map(|(_, n)| *n)
            }),
        };
        if current.is_some_and(|n| !self.index.adds_to(n, rec)) {
            return Arrival::NoNews;
        }
        if let Some(old) = self.arrived.remove(&local) {
            self.index.remove(old.record);
        } else if let Some(i) = registered
            && let Some(h) = self.persons.get_mut(&owner)
            && i < h.records.len()
        {
            let (_, n) = h.records.swap_remove(i);
            self.index.remove(n);
        }
        let record = self.add(rec, Slot::Local(facility, local_id.into()));
        self.arrived.insert(
            local,
            Arrived {
                record,
                source_time,
            },
        );
        Arrival::News
    }

    /// Persons other than `except` whose records `probe` could be, best first, one entry per
    /// person (their best record). Candidates that are a new person by the model's rules (a
    /// hard conflict, or below the review threshold) are left out; a link to a person of whom
    /// any record conflicts hard with `probe` (another local ID at the probe's facility, another
    /// birth date) is only proposed for review, as batch clustering never puts conflicting
    /// records in one cluster.
    pub fn candidates(&self, probe: &LinkRecord, except: PersonId) -> Vec<Candidate> {
        let all = self.index.candidates_above(probe, f64::NEG_INFINITY);
        let conflicting: Vec<PersonId> = all
            .iter()
            .filter(|(_, c)| c.conflict.is_some_and(Conflict::is_hard))
            .filter_map(|(n, _)| self.owner(*n))
            .collect();
        let floor = self.index.model().thresholds.review;
        let mut out: Vec<Candidate> = Vec::new();
        for (n, c) in all {
            if c.score < floor {
                break; // best first
            }
            let Some(person) = self.owner(n) else {
                continue;
            };
            if person == except || out.iter().any(|x| x.person == person) {
                continue;
            }
            let outcome = match self.index.classify(&c) {
                Outcome::NewPerson => continue,
                Outcome::Link if conflicting.contains(&person) => Outcome::Review,
                o => o,
            };
            out.push(Candidate {
                person,
                comparison: c,
                outcome,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use renkei_mpi::TrainOptions;
    use std::sync::OnceLock;
    use time::macros::{date, datetime};

    fn model() -> &'static Model {
        static MODEL: OnceLock<Model> = OnceLock::new();
        MODEL.get_or_init(|| {
            let (records, _) = renkei_mpi::synth::generate(300, 3);
            let opts = TrainOptions {
                random_pairs: 20_000,
                threads: 2,
                ..TrainOptions::default()
            };
            renkei_mpi::train(&records, &opts)
        })
    }

    fn person(kanji: &str, kana: &str) -> Person {
        Person {
            id: PersonId::new(),
            name_kanji: Some(kanji.into()),
            name_kana: kana.into(),
            sex: Sex::Female,
            birth_date: date!(1941 - 02 - 03),
            postal_code: Some("240-0001".into()),
            address: Some("横浜市中区本町1-2-3".into()),
            phone: None,
            created_at: datetime!(2026-01-01 0:00 UTC),
        }
    }

    #[test]
    fn a_person_put_again_replaces_their_records_and_merged_local_ids_follow_the_survivor() {
        let f = FacilityId::new();
        let a = person("試験　花子", "シケン ハナコ");
        let b = person("試験　花子", "シケン ハナコ");
        let mut online = Online::build(1, model(), vec![(a.clone(), vec![(f, "A1".into())])]);
        assert_eq!(online.len(), 1);
        online.put(&b, &[(f, "B1".into())]);
        online.put(&b, &[(f, "B1".into())]);
        assert_eq!(online.len(), 2, "putting a person twice keeps one copy");
        let probe = person_record(&b, None, "");
        assert_eq!(online.candidates(&probe, b.id).len(), 1);
        // b merged into a: a now has both local IDs.
        online.forget(b.id);
        online.put(&a, &[(f, "A1".into()), (f, "B1".into())]);
        assert_eq!(online.owner_of_local(f, "B1"), Some(a.id));
        assert!(!online.holds(b.id));
        assert!(
            online
                .candidates(&probe, b.id)
                .iter()
                .all(|c| c.person == a.id)
        );
    }

    #[test]
    fn arrived_demographics_are_news_once_and_an_older_version_is_ignored() {
        let f = FacilityId::new();
        let a = person("試験　花子", "シケン ハナコ");
        let mut online = Online::build(1, model(), vec![(a.clone(), vec![(f, "A1".into())])]);
        let mut rec = person_record(&a, Some(f), "A1");
        assert_eq!(
            online.arrive(f, "A1", &rec, None),
            Arrival::NoNews,
            "as registered"
        );
        rec.address = Some("横浜市西区高島2-2-2".into());
        let t1 = datetime!(2026-02-01 0:00 UTC);
        assert_eq!(online.arrive(f, "A1", &rec, Some(t1)), Arrival::News);
        assert_eq!(online.len(), 1, "the local ID's record, replaced");
        assert_eq!(
            online.arrive(f, "A1", &rec, Some(t1)),
            Arrival::NoNews,
            "sent again"
        );
        let mut older = rec.clone();
        older.address = Some("川崎市幸区南幸町3-3-3".into());
        let t0 = datetime!(2026-01-15 0:00 UTC);
        assert_eq!(online.arrive(f, "A1", &older, Some(t0)), Arrival::NoNews);
        assert_eq!(online.arrive(f, "UNKNOWN", &rec, None), Arrival::NoNews);
        // A newer one replaces the earlier arrival.
        assert_eq!(
            online.arrive(f, "A1", &older, Some(datetime!(2026-03-01 0:00 UTC))),
            Arrival::News
        );
        assert_eq!(online.len(), 1);
        // Put again (after a merge, say), the local ID keeps its arrived record.
        online.put(&a, &[(f, "A1".into())]);
        assert_eq!(online.len(), 1);
        assert_eq!(online.arrive(f, "A1", &older, None), Arrival::NoNews);
    }
}
