//! Accounts and sessions as stored on each backend.

use crate::{add_facility, backends, event};
use renkei_domain::audit::AuditAction;
use renkei_domain::{FacilityId, FacilityKind, LoginName, Profession, Role, User, UserId};
use renkei_store::{NewUser, Session, SessionStage, Store, StoreError};
use time::OffsetDateTime;

pub async fn add_user(store: &Store, facility: FacilityId, login: &str) -> UserId {
    let u = NewUser {
        user: User {
            id: UserId::new(),
            facility_id: facility,
            login: LoginName::parse(login).unwrap(),
            display_name: "試験 医師".into(),
            profession: Profession::Physician,
            roles: vec![Role::Clinical, Role::FacilityAdmin],
            active: true,
        },
        password_hash: "$argon2id$fake".into(),
        must_change_password: true,
        totp_secret: Some("JBSWY3DPEHPK3PXP".into()),
        totp_confirmed: true,
        recovery_code_hashes: vec!["ab".repeat(32)],
    };
    store
        .insert_user(&u, event(AuditAction::AdminChange))
        .await
        .unwrap();
    u.user.id
}

#[tokio::test]
async fn user_reads_back_with_roles_and_credentials() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000010", FacilityKind::Hospital).await;
        let id = add_user(&store, f.id, "dr.test").await;
        let acc = store.user_account(f.id, "dr.test").await.unwrap().unwrap();
        assert_eq!(acc.user.id, id);
        assert_eq!(acc.user.roles, vec![Role::Clinical, Role::FacilityAdmin]);
        assert!(acc.must_change_password && acc.totp_confirmed);
        assert_eq!(store.users_of_facility(f.id).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn login_names_are_unique_per_facility_only() {
    for (store, _dir) in backends().await {
        let f1 = add_facility(&store, "141000011", FacilityKind::Hospital).await;
        let f2 = add_facility(&store, "141000012", FacilityKind::Hospital).await;
        add_user(&store, f1.id, "clerk").await;
        add_user(&store, f2.id, "clerk").await;
        let dup = NewUser {
            user: User {
                id: UserId::new(),
                facility_id: f1.id,
                login: LoginName::parse("clerk").unwrap(),
                display_name: "x".into(),
                profession: Profession::Clerk,
                roles: vec![Role::Clerk],
                active: true,
            },
            password_hash: "h".into(),
            must_change_password: false,
            totp_secret: None,
            totp_confirmed: false,
            recovery_code_hashes: Vec::new(),
        };
        let err = store
            .insert_user(&dup, event(AuditAction::AdminChange))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Duplicate("login name")));
    }
}

#[tokio::test]
async fn sessions_and_recovery_codes() {
    for (store, _dir) in backends().await {
        let f = add_facility(&store, "141000013", FacilityKind::Hospital).await;
        let user = add_user(&store, f.id, "nurse1").await;
        let now = renkei_domain::to_micros(OffsetDateTime::now_utc());
        let s = Session {
            token_hash: "abc".into(),
            user_id: user,
            csrf_token: "csrf".into(),
            stage: SessionStage::EnrolTotp,
            created_at: now,
            last_seen_at: now,
        };
        store
            .start_session(&s, event(AuditAction::Login))
            .await
            .unwrap();
        store
            .set_totp(
                user,
                "SECRET",
                true,
                &["h1".into(), "h2".into()],
                Some("abc"),
                None,
            )
            .await
            .unwrap();
        let back = store.session("abc").await.unwrap().unwrap();
        assert_eq!(back.stage, SessionStage::Full);
        assert!(store.use_recovery_code(user, "h1", now).await.unwrap());
        assert!(!store.use_recovery_code(user, "h1", now).await.unwrap());
        assert!(!store.use_recovery_code(user, "zz", now).await.unwrap());
        store
            .set_password(user, "new", false, event(AuditAction::AdminChange))
            .await
            .unwrap();
        assert!(
            store.session("abc").await.unwrap().is_none(),
            "password change ends sessions"
        );
    }
}
