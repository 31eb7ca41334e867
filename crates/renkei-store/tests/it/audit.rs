//! The audit chain as stored: appends stay linked under concurrency, and the stored rows
//! rebuild entries whose hashes still verify.

use crate::{backends, event};
use renkei_domain::audit::{AuditAction, ChainBreak, ChainVerifier};
use renkei_store::{AuditFilter, Checkpoint, Store};

async fn verify_all(store: &Store) -> Result<i64, ChainBreak> {
    let mut v = ChainVerifier::default();
    let mut after = 0;
    loop {
        let batch = store.audit_entries_after(after, 100).await.unwrap();
        if batch.is_empty() {
            return Ok(v.head().0);
        }
        for e in batch {
            let e = e.map_err(|u| ChainBreak::HashMismatch { seq: u.seq })?;
            v.push(&e)?;
            after = e.seq;
        }
    }
}

#[tokio::test]
async fn stored_entries_round_trip_and_verify() {
    for (store, _dir) in backends().await {
        for i in 0..30 {
            let mut ev = event(AuditAction::View);
            ev.items = vec![format!("labs:{i}"), "allergies".into()];
            ev.consent_state = Some("active".into());
            store.append_audit(ev).await.unwrap();
        }
        assert_eq!(verify_all(&store).await, Ok(30), "{}", store.backend_name());
        let (head, _) = store.audit_head().await.unwrap();
        assert_eq!(head, 30);
    }
}

#[tokio::test]
async fn concurrent_appends_never_fork_the_chain() {
    for (store, _dir) in backends().await {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    s.append_audit(event(AuditAction::Search)).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(verify_all(&store).await, Ok(80), "{}", store.backend_name());
    }
}

#[tokio::test]
async fn an_edited_row_breaks_verification_at_that_row() {
    for (store, _dir) in backends().await {
        for _ in 0..5 {
            store.append_audit(event(AuditAction::View)).await.unwrap();
        }
        match &store {
            Store::Sqlite(p) => {
                sqlx::query("UPDATE audit_log SET items = '[\"labs\"]' WHERE seq = 3")
                    .execute(p)
                    .await
                    .unwrap();
            }
            Store::Postgres(p) => {
                sqlx::query("UPDATE audit_log SET items = '[\"labs\"]'::jsonb WHERE seq = 3")
                    .execute(p)
                    .await
                    .unwrap();
            }
        }
        assert_eq!(verify_all(&store).await.map_err(|e| e.seq()), Err(3));
    }
}

#[tokio::test]
async fn export_filter_selects_by_person() {
    for (store, _dir) in backends().await {
        let person = renkei_domain::PersonId::new();
        for i in 0..6 {
            let mut ev = event(AuditAction::View);
            if i % 2 == 0 {
                ev.person_id = Some(person);
            }
            store.append_audit(ev).await.unwrap();
        }
        let filter = AuditFilter {
            person: Some(person),
            ..AuditFilter::default()
        };
        let got = store.audit_entries(&filter, 0, 100).await.unwrap();
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|e| e.event.person_id == Some(person)));
        let none_yet = AuditFilter {
            from: Some(time::OffsetDateTime::now_utc() + time::Duration::hours(1)),
            ..AuditFilter::default()
        };
        assert!(
            store
                .audit_entries(&none_yet, 0, 100)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn checkpoints_are_kept_in_order() {
    for (store, _dir) in backends().await {
        let e = store.append_audit(event(AuditAction::Login)).await.unwrap();
        let cp = Checkpoint {
            seq: e.seq,
            hash: e.hash,
            signed_at: renkei_domain::to_micros(time::OffsetDateTime::now_utc()),
            key_id: "k1".into(),
            signature: "00".into(),
        };
        store.insert_checkpoint(&cp).await.unwrap();
        assert_eq!(store.checkpoints().await.unwrap(), vec![cp.clone()]);
        assert!(store.insert_checkpoint(&cp).await.is_err());
        assert_eq!(store.last_checkpoint_seq().await.unwrap(), Some(e.seq));
    }
}
