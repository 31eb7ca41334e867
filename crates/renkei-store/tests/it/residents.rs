//! Residents, local IDs, consent and grants as stored on each backend.

use crate::{add_facility, backends, event};
use renkei_domain::access::CareSource;
use renkei_domain::audit::AuditAction;
use renkei_domain::consent::{ConsentForm, ConsentMethod, ConsentMode, Proxy};
use renkei_domain::{
    BreakGlassGrant, BreakGlassReason, CareRelationship, Consent, FacilityKind, GrantId,
    LinkMethod, LocalPatient, LocalPatientNumber, Person, PersonId, Sex, UserId,
};
use renkei_store::{NewResident, Store, StoreError};
use time::macros::date;
use time::{Duration, OffsetDateTime};

fn resident(facility: renkei_domain::FacilityId, local: &str) -> NewResident {
    let now = renkei_domain::to_micros(OffsetDateTime::now_utc());
    let person = Person {
        id: PersonId::new(),
        name_kanji: Some("試験　花子".into()),
        name_kana: "シケン ハナコ".into(),
        sex: Sex::Female,
        birth_date: date!(1940 - 02 - 29),
        postal_code: Some("240-0001".into()),
        address: Some("さくら市中央1-2-3".into()),
        phone: None,
        created_at: now,
    };
    let consent = Consent::record(
        person.id,
        ConsentForm {
            signed_on: date!(2026 - 01 - 05),
            method: ConsentMethod::Paper,
            proxy: Some(Proxy {
                name: "試験　太郎".into(),
                relationship: "長男".into(),
            }),
            national: true,
            mode: ConsentMode::Blanket { excluded: vec![] },
        },
        facility,
        now.date(),
        now,
    )
    .unwrap();
    NewResident {
        local: Some(LocalPatient {
            person_id: person.id,
            facility_id: facility,
            local_id: LocalPatientNumber::parse(local).unwrap(),
            method: LinkMethod::Registered,
            linked_at: now,
        }),
        relationship: CareRelationship {
            person_id: person.id,
            facility_id: facility,
            since: now,
            source: CareSource::Registration,
        },
        person,
        consent,
    }
}

async fn audit_len(store: &Store) -> i64 {
    store.audit_head().await.unwrap().0
}

#[tokio::test]
async fn registered_resident_reads_back_whole() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000001", FacilityKind::Hospital).await;
        let r = resident(f.id, "0001234");
        store
            .register_resident(&r, event(AuditAction::RegisterResident))
            .await
            .unwrap();
        assert_eq!(
            store.person(r.person.id).await.unwrap(),
            Some(r.person.clone())
        );
        assert_eq!(
            store.consents(r.person.id).await.unwrap(),
            vec![r.consent.clone()]
        );
        assert_eq!(
            store.person_by_local_id(f.id, "0001234").await.unwrap(),
            Some(r.person.id)
        );
        assert_eq!(
            store.care_relationship(r.person.id, f.id).await.unwrap(),
            Some(r.relationship.clone())
        );
        let list = store.residents_of_facility(f.id, 10, 0).await.unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].active_consents, 1);
    }
}

#[tokio::test]
async fn duplicate_local_id_writes_nothing() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000002", FacilityKind::MedicalClinic).await;
        store
            .register_resident(&resident(f.id, "55"), event(AuditAction::RegisterResident))
            .await
            .unwrap();
        let before = (
            store.count_persons().await.unwrap(),
            audit_len(&store).await,
        );
        let second = resident(f.id, "55");
        let err = store
            .register_resident(&second, event(AuditAction::RegisterResident))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Duplicate("local patient ID")),
            "{err:?}"
        );
        assert_eq!(store.person(second.person.id).await.unwrap(), None);
        assert_eq!(
            (
                store.count_persons().await.unwrap(),
                audit_len(&store).await
            ),
            before,
            "no partial write on {}",
            store.backend_name()
        );
    }
}

#[tokio::test]
async fn consent_is_withdrawn_once() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000003", FacilityKind::Hospital).await;
        let r = resident(f.id, "77");
        store
            .register_resident(&r, event(AuditAction::RegisterResident))
            .await
            .unwrap();
        let at = renkei_domain::to_micros(OffsetDateTime::now_utc());
        store
            .withdraw_consent(
                r.person.id,
                r.consent.id,
                at,
                event(AuditAction::WithdrawConsent),
            )
            .await
            .unwrap();
        let c = store.consents(r.person.id).await.unwrap();
        assert_eq!(c[0].withdrawn_at, Some(at));
        let again = store
            .withdraw_consent(
                r.person.id,
                r.consent.id,
                at,
                event(AuditAction::WithdrawConsent),
            )
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))));
    }
}

#[tokio::test]
async fn linking_a_second_facility_creates_its_care_relationship() {
    for (store, _dir) in backends().await {
        let f1 = add_facility(&store, "141000004", FacilityKind::Hospital).await;
        let f2 = add_facility(&store, "144000005", FacilityKind::Pharmacy).await;
        let r = resident(f1.id, "1");
        store
            .register_resident(&r, event(AuditAction::RegisterResident))
            .await
            .unwrap();
        assert_eq!(
            store.care_relationship(r.person.id, f2.id).await.unwrap(),
            None
        );
        let lp = LocalPatient {
            person_id: r.person.id,
            facility_id: f2.id,
            local_id: LocalPatientNumber::parse("P-9").unwrap(),
            method: LinkMethod::Registered,
            linked_at: renkei_domain::to_micros(OffsetDateTime::now_utc()),
        };
        store
            .link_local_patient(&lp, event(AuditAction::LinkLocalPatient))
            .await
            .unwrap();
        assert!(
            store
                .care_relationship(r.person.id, f2.id)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(store.local_patients(r.person.id).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn grants_read_back_with_their_reason() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000006", FacilityKind::Hospital).await;
        let r = resident(f.id, "2");
        store
            .register_resident(&r, event(AuditAction::RegisterResident))
            .await
            .unwrap();
        let user = crate::users::add_user(&store, f.id, "er.doc").await;
        let now = renkei_domain::to_micros(OffsetDateTime::now_utc());
        let g = BreakGlassGrant {
            id: GrantId::new(),
            user_id: user,
            facility_id: f.id,
            person_id: r.person.id,
            reason: BreakGlassReason::Other("救急搬送、意識レベル低下".into()),
            granted_at: now,
            expires_at: now + Duration::hours(24),
        };
        store
            .insert_grant(&g, event(AuditAction::BreakGlass))
            .await
            .unwrap();
        assert_eq!(store.grants(r.person.id, user).await.unwrap(), vec![g]);
        assert!(
            store
                .grants(r.person.id, UserId::new())
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn access_matrix_versions_must_follow_each_other() {
    for (store, _dir) in backends().await {
        assert_eq!(store.current_matrix().await.unwrap(), None);
        let m = renkei_domain::AccessMatrix::default_policy();
        store
            .insert_matrix(&m, None, event(AuditAction::PolicyChange))
            .await
            .unwrap();
        assert_eq!(store.current_matrix().await.unwrap(), Some(m.clone()));
        let err = store
            .insert_matrix(&m, None, event(AuditAction::PolicyChange))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)));
    }
}

#[tokio::test]
async fn access_facts_of_several_persons_are_what_each_one_read_alone_gives() {
    for (store, _dir) in backends().await {
        let here = add_facility(&store, "141000007", FacilityKind::Hospital).await;
        let there = add_facility(&store, "141000008", FacilityKind::Hospital).await;
        let (a, b) = (resident(here.id, "10"), resident(there.id, "11"));
        for r in [&a, &b] {
            store
                .register_resident(r, event(AuditAction::RegisterResident))
                .await
                .unwrap();
        }
        let user = crate::users::add_user(&store, here.id, "er.doc2").await;
        let now = renkei_domain::to_micros(OffsetDateTime::now_utc());
        let g = BreakGlassGrant {
            id: GrantId::new(),
            user_id: user,
            facility_id: here.id,
            person_id: b.person.id,
            reason: BreakGlassReason::Emergency,
            granted_at: now,
            expires_at: now + Duration::hours(24),
        };
        store
            .insert_grant(&g, event(AuditAction::BreakGlass))
            .await
            .unwrap();
        let nobody = PersonId::new();
        let facts = store
            .access_facts(&[a.person.id, b.person.id, nobody], here.id, user)
            .await
            .unwrap();
        for p in [a.person.id, b.person.id] {
            let f = &facts[&p];
            assert_eq!(f.consents, store.consents(p).await.unwrap());
            assert_eq!(
                f.care_relationship,
                store.care_relationship(p, here.id).await.unwrap()
            );
            assert_eq!(f.grants, store.grants(p, user).await.unwrap());
        }
        assert!(facts[&a.person.id].care_relationship.is_some());
        assert!(facts[&b.person.id].care_relationship.is_none());
        assert_eq!(facts[&b.person.id].grants, vec![g]);
        assert!(facts[&nobody].consents.is_empty());
        let local = store
            .local_ids_at(here.id, &[a.person.id, b.person.id])
            .await
            .unwrap();
        assert_eq!(local.get(&a.person.id).map(String::as_str), Some("10"));
        assert!(
            !local.contains_key(&b.person.id),
            "b is known elsewhere only"
        );
    }
}
