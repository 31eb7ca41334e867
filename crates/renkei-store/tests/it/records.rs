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
            .update_quarantine(id, QuarantineStatus::Resolved, None, now)
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
