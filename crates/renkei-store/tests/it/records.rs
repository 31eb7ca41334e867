//! Ingestion storage on both backends: groups stored whole and idempotently, history kept,
//! provisions logged once, quarantine holding bad input once.

use crate::{add_facility, backends, event};
use renkei_domain::access::CareSource;
use renkei_domain::audit::AuditAction;
use renkei_domain::consent::{ConsentForm, ConsentMethod, ConsentMode};
use renkei_domain::record::{GroupOutcome, RecordInput};
use renkei_domain::{
    AccessCategory, CareRelationship, Consent, FacilityKind, Person, PersonId, Sex,
};
use renkei_store::{NewProvision, NewQuarantine, NewResident, QuarantineStatus, Store};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::date;

async fn person(store: &Store, facility: renkei_domain::FacilityId) -> PersonId {
    let now = renkei_domain::to_micros(OffsetDateTime::now_utc());
    let p = Person {
        id: PersonId::new(),
        name_kanji: None,
        name_kana: "シケン タロウ".into(),
        sex: Sex::Male,
        birth_date: date!(1950 - 01 - 01),
        postal_code: None,
        address: None,
        phone: None,
        created_at: now,
    };
    let consent = Consent::record(
        p.id,
        ConsentForm {
            signed_on: date!(2026 - 01 - 01),
            method: ConsentMethod::Paper,
            proxy: None,
            national: false,
            mode: ConsentMode::Blanket { excluded: vec![] },
        },
        facility,
        now.date(),
        now,
    )
    .unwrap();
    let r = NewResident {
        local: None,
        relationship: CareRelationship {
            person_id: p.id,
            facility_id: facility,
            since: now,
            source: CareSource::Registration,
        },
        person: p,
        consent,
    };
    store
        .register_resident(&r, event(AuditAction::RegisterResident))
        .await
        .unwrap();
    r.person.id
}

fn lab(key: &str, value: f64) -> RecordInput {
    RecordInput {
        source_key: key.into(),
        resource_type: "Observation".into(),
        category: AccessCategory::Labs,
        code_system: Some("urn:oid:1.2.392.200119.4.504".into()),
        code: Some("3D010000001926101".into()),
        display: Some("グルコース".into()),
        effective_on: Some(date!(2026 - 03 - 01)),
        sensitive: false,
        resource: json!({"resourceType": "Observation", "valueQuantity": {"value": value}}),
    }
}

fn provision() -> NewProvision {
    NewProvision {
        channel: "ssmix2",
        source_name: Some("0001_20260301_OML-11_000000000000001_20260301101010000_01_1".into()),
        payload_hash: "ab".repeat(32),
        source_time: None,
    }
}

#[tokio::test]
async fn the_same_group_twice_changes_nothing() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000020", FacilityKind::Hospital).await;
        let p = person(&store, f.id).await;
        let now = OffsetDateTime::now_utc();
        let group = "0001|20260301|OML-11|000000000000001";
        let inputs = [lab("GLU", 98.0), lab("HBA1C", 6.1)];
        let first = store
            .store_group(p, f.id, group, &inputs, &provision(), now)
            .await
            .unwrap();
        assert_eq!(
            first,
            GroupOutcome {
                accepted: 2,
                ..Default::default()
            }
        );
        let again = store
            .store_group(p, f.id, group, &inputs, &provision(), now)
            .await
            .unwrap();
        assert_eq!(
            again,
            GroupOutcome {
                unchanged: 2,
                ..Default::default()
            }
        );
        assert_eq!(store.provision_count(f.id).await.unwrap(), 1);
        assert_eq!(store.records_of(p, false).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn an_updated_group_replaces_keeps_history_and_drops_what_is_gone() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000021", FacilityKind::Hospital).await;
        let p = person(&store, f.id).await;
        let now = OffsetDateTime::now_utc();
        let group = "g1";
        store
            .store_group(
                p,
                f.id,
                group,
                &[lab("GLU", 98.0), lab("HBA1C", 6.1)],
                &provision(),
                now,
            )
            .await
            .unwrap();
        let out = store
            .store_group(p, f.id, group, &[lab("GLU", 120.0)], &provision(), now)
            .await
            .unwrap();
        assert_eq!(
            out,
            GroupOutcome {
                replaced: 1,
                deleted: 1,
                ..Default::default()
            }
        );
        let live = store.records_of(p, false).await.unwrap();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].version, 2);
        assert_eq!(live[0].input.resource["valueQuantity"]["value"], 120.0);
        assert_eq!(store.records_of(p, true).await.unwrap().len(), 2);
        assert_eq!(store.provision_count(f.id).await.unwrap(), 2);
    }
}

#[tokio::test]
async fn a_deleted_group_is_hidden_but_kept() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000022", FacilityKind::Hospital).await;
        let p = person(&store, f.id).await;
        let now = OffsetDateTime::now_utc();
        store
            .store_group(p, f.id, "g", &[lab("GLU", 98.0)], &provision(), now)
            .await
            .unwrap();
        let out = store
            .delete_group(p, f.id, "g", &provision(), now)
            .await
            .unwrap();
        assert_eq!(out.deleted, 1);
        assert!(store.records_of(p, false).await.unwrap().is_empty());
        let all = store.records_of(p, true).await.unwrap();
        assert!(all[0].deleted_at.is_some());
        // Deleting again changes nothing.
        assert!(
            store
                .delete_group(p, f.id, "g", &provision(), now)
                .await
                .unwrap()
                .is_noop()
        );
        // A later current file brings it back.
        let back = store
            .store_group(p, f.id, "g", &[lab("GLU", 98.0)], &provision(), now)
            .await
            .unwrap();
        assert_eq!(back.replaced, 1);
    }
}

#[tokio::test]
async fn record_heads_are_the_live_records_in_date_order_with_their_index_columns() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000023", FacilityKind::Hospital).await;
        let p = person(&store, f.id).await;
        let now = OffsetDateTime::now_utc();
        let dated = |key: &str, on: Option<time::Date>, sensitive: bool| RecordInput {
            effective_on: on,
            sensitive,
            ..lab(key, 1.0)
        };
        let inputs = [
            dated("LATE", Some(date!(2026 - 05 - 01)), false),
            dated("EARLY", Some(date!(2025 - 01 - 01)), true),
            dated("UNDATED", None, false),
        ];
        store
            .store_group(p, f.id, "g1", &inputs, &provision(), now)
            .await
            .unwrap();
        store
            .store_group(p, f.id, "g2", &[lab("GONE", 2.0)], &provision(), now)
            .await
            .unwrap();
        store
            .delete_group(p, f.id, "g2", &provision(), now)
            .await
            .unwrap();
        let heads = store.record_heads(p).await.unwrap();
        let records = store.records_of(p, false).await.unwrap();
        let by_key = |k: &str| records.iter().find(|r| r.input.source_key == k).unwrap();
        let order: Vec<uuid::Uuid> = ["UNDATED", "EARLY", "LATE"]
            .iter()
            .map(|k| by_key(k).id)
            .collect();
        assert_eq!(heads.iter().map(|h| h.id).collect::<Vec<_>>(), order);
        for h in &heads {
            let r = records.iter().find(|r| r.id == h.id).unwrap();
            assert_eq!(h.facility_id, r.facility_id);
            assert_eq!(h.resource_type, r.input.resource_type);
            assert_eq!(h.category, r.input.category);
            assert_eq!(h.code, r.input.code);
            assert_eq!(h.display, r.input.display);
            assert_eq!(h.effective_on, r.input.effective_on);
            assert_eq!(h.sensitive, r.input.sensitive);
            assert_eq!(h.received_at, r.received_at);
        }
        // And by id, whole.
        let some = store.records_by_ids(p, &order[1..]).await.unwrap();
        assert_eq!(some.len(), 2);
        assert!(
            store
                .record_heads(PersonId::new())
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn the_same_bad_input_is_held_once() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000023", FacilityKind::Hospital).await;
        let q = NewQuarantine {
            facility_id: f.id,
            channel: "ssmix2",
            source_name: Some("x".into()),
            payload: vec![0x1b, 0x24, 0x42, 0xff, 0x00],
            payload_hash: "cd".repeat(32),
            reason_code: "undecodable".into(),
            reason_detail: "invalid ISO-2022-JP at byte 3".into(),
        };
        let now = OffsetDateTime::now_utc();
        let id = store.quarantine(&q, now).await.unwrap();
        assert_eq!(store.quarantine(&q, now).await.unwrap(), id);
        let held = store
            .quarantined(Some(f.id), Some(QuarantineStatus::Held), 10)
            .await
            .unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].attempts, 2);
        assert_eq!(held[0].payload, q.payload, "original bytes kept exactly");
        store
            .update_quarantine(id, QuarantineStatus::Resolved, None, now, None)
            .await
            .unwrap();
        assert_eq!(
            store.quarantined_one(id).await.unwrap().unwrap().status,
            QuarantineStatus::Resolved
        );
        assert!(
            store
                .quarantined(None, Some(QuarantineStatus::Held), 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

// Batches: `store_groups` works a whole batch out in memory and writes it in few statements;
// it must end exactly as the same writes made one call at a time.

use renkei_domain::FacilityId;
use renkei_store::{GroupWrite, GroupWriteMode, StoreError};
use sqlx::types::Json;
use std::collections::HashMap;
use time::macros::datetime;
use uuid::Uuid;

fn write(
    person: PersonId,
    group: &str,
    records: Vec<RecordInput>,
    mode: GroupWriteMode,
    source_time: Option<OffsetDateTime>,
) -> GroupWrite {
    GroupWrite {
        person,
        group: group.into(),
        records: records.into_iter().map(Into::into).collect(),
        mode,
        provision: NewProvision {
            source_time,
            source_name: Some(format!(
                "{group}-{}",
                source_time.map_or(0, |t| t.unix_timestamp())
            )),
            ..provision()
        },
    }
}

fn replace(p: PersonId, group: &str, records: Vec<RecordInput>) -> GroupWrite {
    write(p, group, records, GroupWriteMode::Replace, None)
}

fn delete(p: PersonId, group: &str) -> GroupWrite {
    write(p, group, Vec::new(), GroupWriteMode::Delete, None)
}

fn ended(mut r: RecordInput, on: time::Date) -> RecordInput {
    r.resource["ended"] = json!(on.to_string());
    r
}

fn snapshot(p: PersonId, group: &str, records: Vec<RecordInput>) -> GroupWrite {
    let mode = GroupWriteMode::Snapshot {
        ended_on: date!(2026 - 04 - 01),
        end: ended,
    };
    write(p, group, records, mode, None)
}

fn timed(mut w: GroupWrite, t: OffsetDateTime) -> GroupWrite {
    w.provision.source_time = Some(t);
    w
}

fn outcome(accepted: u32, unchanged: u32, replaced: u32, deleted: u32, stale: u32) -> GroupOutcome {
    GroupOutcome {
        accepted,
        unchanged,
        replaced,
        deleted,
        stale,
    }
}

macro_rules! fetch_all {
    ($store:expr, $ty:ty, $sql:expr) => {
        match $store {
            Store::Sqlite(pool) => sqlx::query_as::<_, $ty>($sql)
                .fetch_all(pool)
                .await
                .unwrap(),
            Store::Postgres(pool) => sqlx::query_as::<_, $ty>($sql)
                .fetch_all(pool)
                .await
                .unwrap(),
        }
    };
}

type RecordDump = (usize, String, String, i64, String, String, String);
type HistoryDump = (usize, String, String, i64, String, String, OffsetDateTime);
type ProvisionDump = (usize, String, Option<String>, i32, i32, i32, OffsetDateTime);

/// Everything a store holds about `persons`' records, without its generated IDs.
#[derive(Debug, PartialEq)]
struct Dump {
    records: Vec<RecordDump>,
    history: Vec<HistoryDump>,
    provisions: Vec<ProvisionDump>,
    versions: Vec<(usize, String, OffsetDateTime)>,
}

async fn dump(store: &Store, persons: &[PersonId]) -> Dump {
    let idx = |u: Uuid| persons.iter().position(|p| p.as_uuid() == u).unwrap();
    let mut records = Vec::new();
    let mut ids = HashMap::new();
    for (i, p) in persons.iter().enumerate() {
        for r in store.records_of(*p, true).await.unwrap() {
            ids.insert(r.id, (r.source_group.clone(), r.input.source_key.clone()));
            let times = format!("{:?}", (r.received_at, r.updated_at, r.deleted_at));
            records.push((
                i,
                r.source_group,
                r.input.source_key.clone(),
                r.version,
                r.content_hash,
                serde_json::to_string(&r.input).unwrap(),
                times,
            ));
        }
    }
    records.sort();
    let mut history: Vec<HistoryDump> = fetch_all!(
        store,
        (
            Uuid,
            Uuid,
            i64,
            String,
            Json<serde_json::Value>,
            OffsetDateTime
        ),
        "SELECT person_id, record_id, version, content_hash, resource, superseded_at \
         FROM record_history"
    )
    .into_iter()
    .map(|(p, r, v, h, res, at)| {
        let (g, k) = ids[&r].clone();
        (idx(p), g, k, v, h, res.0.to_string(), at)
    })
    .collect();
    history.sort();
    let mut provisions: Vec<ProvisionDump> = fetch_all!(
        store,
        (Uuid, String, Option<String>, i32, i32, i32, OffsetDateTime),
        "SELECT person_id, source_group, source_name, accepted, replaced, deleted, received_at \
         FROM provisions"
    )
    .into_iter()
    .map(|(p, g, n, a, r, d, at)| (idx(p), g, n, a, r, d, at))
    .collect();
    provisions.sort();
    let mut versions: Vec<(usize, String, OffsetDateTime)> = fetch_all!(
        store,
        (Uuid, String, OffsetDateTime),
        "SELECT person_id, source_group, source_time FROM group_versions"
    )
    .into_iter()
    .map(|(p, g, t)| (idx(p), g, t))
    .collect();
    versions.sort();
    Dump {
        records,
        history,
        provisions,
        versions,
    }
}

/// Apply each batch of `make` as one `store_groups` call on one fresh store and one call per
/// write on another; outcomes and stored state must be the same. Returns, per backend, the
/// outcomes of each batch.
async fn batch_equals_one_by_one(
    nine: &str,
    persons: usize,
    make: impl Fn(&[PersonId]) -> Vec<Vec<GroupWrite>>,
) -> Vec<Vec<Vec<GroupOutcome>>> {
    let now = renkei_domain::to_micros(OffsetDateTime::now_utc());
    let mut per_backend = Vec::new();
    for ((batched, _d1), (single, _d2)) in backends().await.into_iter().zip(backends().await) {
        let mut stores: Vec<(Store, FacilityId, Vec<PersonId>)> = Vec::new();
        for store in [batched, single] {
            let f = add_facility(&store, nine, FacilityKind::Hospital).await;
            let mut ps = Vec::new();
            for _ in 0..persons {
                ps.push(person(&store, f.id).await);
            }
            stores.push((store, f.id, ps));
        }
        let (a, fa, pa) = &stores[0];
        let (b, fb, pb) = &stores[1];
        let mut outcomes = Vec::new();
        for (batch_a, batch_b) in make(pa).into_iter().zip(make(pb)) {
            let got = a.store_groups(*fa, &batch_a, now).await.unwrap();
            let mut want = Vec::new();
            for w in batch_b {
                want.extend(b.store_groups(*fb, &[w], now).await.unwrap());
            }
            assert_eq!(got, want, "{}", a.backend_name());
            outcomes.push(got);
        }
        assert_eq!(dump(a, pa).await, dump(b, pb).await, "{}", a.backend_name());
        per_backend.push(outcomes);
    }
    per_backend
}

#[tokio::test]
async fn one_batch_inserts_replaces_and_deletes_a_group_as_one_call_each_would() {
    let runs = batch_equals_one_by_one("141000031", 1, |p| {
        vec![vec![
            replace(p[0], "g", vec![lab("GLU", 98.0), lab("HBA1C", 6.1)]),
            replace(p[0], "g", vec![lab("GLU", 120.0)]),
            delete(p[0], "g"),
            replace(p[0], "g", vec![lab("GLU", 120.0)]),
        ]]
    })
    .await;
    for run in runs {
        assert_eq!(
            run[0],
            vec![
                outcome(2, 0, 0, 0, 0),
                outcome(0, 0, 1, 1, 0),
                outcome(0, 0, 0, 1, 0),
                outcome(0, 0, 1, 0, 0),
            ]
        );
    }
    // The stored result itself: GLU at version 3 with two earlier versions in history.
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000032", FacilityKind::Hospital).await;
        let p = person(&store, f.id).await;
        let now = OffsetDateTime::now_utc();
        let writes = [
            replace(p, "g", vec![lab("GLU", 98.0), lab("HBA1C", 6.1)]),
            replace(p, "g", vec![lab("GLU", 120.0)]),
            delete(p, "g"),
        ];
        store.store_groups(f.id, &writes, now).await.unwrap();
        let all = store.records_of(p, true).await.unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|r| r.deleted_at.is_some()));
        let glu = all.iter().find(|r| r.input.source_key == "GLU").unwrap();
        assert_eq!(glu.version, 2);
        assert_eq!(glu.input.resource["valueQuantity"]["value"], 120.0);
        assert_eq!(store.provision_count(f.id).await.unwrap(), 3);
        let history = dump(&store, &[p]).await.history;
        assert_eq!(history.len(), 1);
        assert_eq!((history[0].2.as_str(), history[0].3), ("GLU", 1));
        assert!(history[0].5.contains("98"));
    }
}

#[tokio::test]
async fn an_older_version_later_in_the_batch_is_stale() {
    let t1 = datetime!(2026-03-01 10:00:00 +09:00);
    let t2 = datetime!(2026-03-01 11:00:00 +09:00);
    let runs = batch_equals_one_by_one("141000033", 1, |p| {
        vec![vec![
            timed(replace(p[0], "g", vec![lab("GLU", 120.0)]), t2),
            timed(replace(p[0], "g", vec![lab("GLU", 98.0)]), t1),
            timed(delete(p[0], "g"), t1),
            timed(replace(p[0], "g", vec![lab("GLU", 120.0)]), t2),
            // No source time: always applied.
            replace(p[0], "g", vec![lab("GLU", 99.0)]),
        ]]
    })
    .await;
    for run in runs {
        assert_eq!(
            run[0],
            vec![
                outcome(1, 0, 0, 0, 0),
                outcome(0, 0, 0, 0, 1),
                outcome(0, 0, 0, 0, 1),
                outcome(0, 1, 0, 0, 0),
                outcome(0, 0, 1, 0, 0),
            ]
        );
    }
}

#[tokio::test]
async fn a_snapshot_after_a_replace_in_the_batch_ends_what_it_no_longer_lists() {
    let runs = batch_equals_one_by_one("141000034", 1, |p| {
        vec![vec![
            replace(p[0], "ppr", vec![lab("X", 1.0), lab("Y", 2.0)]),
            snapshot(p[0], "ppr", vec![lab("X", 1.0)]),
            snapshot(p[0], "ppr", vec![lab("X", 1.0), lab("Z", 3.0)]),
        ]]
    })
    .await;
    for run in runs {
        assert_eq!(
            run[0],
            vec![
                outcome(2, 0, 0, 0, 0),
                outcome(0, 1, 1, 0, 0),
                outcome(1, 2, 0, 0, 0),
            ]
        );
    }
}

#[tokio::test]
async fn a_mixed_batch_over_stored_groups_ends_as_one_call_per_write() {
    let t0 = datetime!(2026-03-01 09:00:00 +09:00);
    let t1 = datetime!(2026-03-01 10:00:00.000001 +09:00);
    let t2 = datetime!(2026-03-01 11:00:00 UTC);
    batch_equals_one_by_one("141000035", 2, |p| {
        let (p0, p1) = (p[0], p[1]);
        vec![
            vec![
                timed(
                    replace(p0, "a", vec![lab("GLU", 98.0), lab("HBA1C", 6.1)]),
                    t1,
                ),
                snapshot(p0, "ppr", vec![lab("X", 1.0), lab("Y", 2.0)]),
                replace(p1, "a", vec![lab("GLU", 100.0)]),
                replace(p1, "b", vec![lab("NA", 140.0), lab("K", 4.0)]),
                replace(p0, "b", vec![lab("CL", 100.0)]),
            ],
            vec![
                timed(
                    replace(p0, "a", vec![lab("GLU", 98.0), lab("HBA1C", 6.1)]),
                    t1,
                ),
                timed(replace(p0, "a", vec![lab("GLU", 99.0)]), t0),
                timed(replace(p0, "a", vec![lab("GLU", 120.0)]), t2),
                timed(
                    replace(p0, "a", vec![lab("GLU", 121.0), lab("HBA1C", 6.1)]),
                    t2,
                ),
                snapshot(p0, "ppr", vec![lab("X", 1.0)]),
                snapshot(p0, "ppr", vec![lab("X", 1.0), lab("Z", 3.0)]),
                delete(p1, "b"),
                replace(p1, "b", vec![lab("NA", 141.0)]),
                delete(p1, "b"),
                replace(p1, "c", vec![lab("GLU", 1.0)]),
                replace(p1, "c", vec![lab("GLU", 2.0)]),
                delete(p1, "c"),
                replace(p1, "c", vec![lab("GLU", 2.0)]),
                delete(p0, "b"),
                delete(p0, "b"),
                replace(p1, "a", vec![]),
                timed(replace(p0, "d", vec![lab("GLU", 5.0)]), t2),
                timed(replace(p0, "d", vec![lab("GLU", 6.0)]), t1),
                replace(p0, "d", vec![lab("GLU", 7.0)]),
                timed(delete(p0, "d"), t2),
                snapshot(p1, "ppr", vec![lab("X", 1.0)]),
            ],
            // Everything again: unchanged, stale or no-op.
            vec![
                timed(
                    replace(p0, "a", vec![lab("GLU", 121.0), lab("HBA1C", 6.1)]),
                    t2,
                ),
                timed(replace(p0, "a", vec![lab("GLU", 1.0)]), t1),
                snapshot(p0, "ppr", vec![lab("X", 1.0), lab("Z", 3.0)]),
                delete(p1, "b"),
            ],
        ]
    })
    .await;
}

#[tokio::test]
async fn a_batch_larger_than_one_statement_ends_as_one_call_per_write() {
    batch_equals_one_by_one("141000036", 2, |p| {
        let groups = |v: f64| -> Vec<GroupWrite> {
            (0..350)
                .flat_map(|i| {
                    let g = format!("g{i}");
                    [
                        replace(p[i % 2], &g, vec![lab("GLU", v), lab("HBA1C", v)]),
                        replace(p[i % 2], &g, vec![lab("GLU", v), lab("NA", v)]),
                    ]
                })
                .collect()
        };
        vec![groups(1.0), groups(2.0)]
    })
    .await;
}

#[tokio::test]
async fn the_same_source_key_twice_in_a_group_fails_the_whole_batch() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000037", FacilityKind::Hospital).await;
        let p = person(&store, f.id).await;
        let now = OffsetDateTime::now_utc();
        let writes = [
            replace(p, "ok", vec![lab("GLU", 1.0)]),
            replace(p, "g", vec![lab("GLU", 1.0), lab("GLU", 2.0)]),
        ];
        let err = store.store_groups(f.id, &writes, now).await.unwrap_err();
        assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
        assert!(store.records_of(p, true).await.unwrap().is_empty());
        assert_eq!(store.provision_count(f.id).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn records_for_a_person_merged_away_meanwhile_land_on_the_survivor() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000031", FacilityKind::Hospital).await;
        let (a, b, c) = (
            person(&store, f.id).await,
            person(&store, f.id).await,
            person(&store, f.id).await,
        );
        // c into b, then b into a: c's pointer still names b.
        for (survivor, merged) in [(b, c), (a, b)] {
            store
                .merge_persons(survivor, merged, None, None, event(AuditAction::Merge))
                .await
                .unwrap();
        }
        // An ingestion that looked the patient up as c before the merges writes now.
        let out = store
            .store_groups(
                f.id,
                &[replace(c, "0001|20260301|OML-11|1", vec![lab("GLU", 98.0)])],
                OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        assert_eq!(out[0].accepted, 1);
        assert_eq!(store.records_of(a, false).await.unwrap().len(), 1);
        for gone in [b, c] {
            assert!(store.records_of(gone, false).await.unwrap().is_empty());
        }
    }
}

#[tokio::test]
async fn an_automatic_link_records_its_match_and_merge_together_or_neither() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000032", FacilityKind::Hospital).await;
        let (a, b, c) = (
            person(&store, f.id).await,
            person(&store, f.id).await,
            person(&store, f.id).await,
        );
        let now = renkei_domain::to_micros(OffsetDateTime::now_utc());
        let m = |person, candidate| renkei_store::MatchResult {
            id: uuid::Uuid::now_v7(),
            person,
            candidate,
            score: 30.0,
            outcome: "link".into(),
            evidence: "[]".into(),
            status: "open".into(),
            decided_by: None,
            decided_at: None,
            created_at: now,
        };
        let linked = m(b, a);
        store
            .record_and_merge(&linked, event(AuditAction::Merge))
            .await
            .unwrap();
        let stored = store.match_result(linked.id).await.unwrap().unwrap();
        assert_eq!(stored.status, "same");
        assert_eq!(store.merges(10).await.unwrap().len(), 1);
        // Into a person merged away since (b): refused, and no match is left behind.
        let refused = m(c, b);
        assert!(
            store
                .record_and_merge(&refused, event(AuditAction::Merge))
                .await
                .is_err()
        );
        assert!(store.match_result(refused.id).await.unwrap().is_none());
        assert_eq!(store.merges(10).await.unwrap().len(), 1);
    }
}
