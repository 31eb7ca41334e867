//! The clinician viewer over HTTP: each page and API call that shows patient data is
//! authorized for what it shows and writes exactly one audit entry.

use super::*;
use renkei_domain::record::RecordInput;
use renkei_domain::{AccessCategory, PersonId};
use renkei_store::NewProvision;

/// A resident registered at the hospital with an allergy, a medicine, two lab results and a
/// diagnosis from the hospital.
async fn patient(n: &Net) -> PersonId {
    patient_with_local_id(n, "0501").await
}

async fn patient_with_local_id(n: &Net, local_id: &str) -> PersonId {
    let (cookie, csrf) = n
        .signed_in(
            "1410000010",
            &format!("clerk{local_id}"),
            Profession::Clerk,
            &[Role::Clerk],
        )
        .await;
    let (_, _, body) = n
        .send(json_req(
            Method::POST,
            "/api/v1/residents",
            Some(&cookie),
            Some(&csrf),
            resident_json(local_id),
        ))
        .await;
    let person: PersonId = serde_json::from_str::<Value>(&body).unwrap()["person_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let f = n
        .app
        .store
        .facility_by_code("1410000010")
        .await
        .unwrap()
        .unwrap();
    let rec =
        |key: &str, ty: &str, cat: AccessCategory, display: &str, date: &str, resource: Value| {
            RecordInput {
                source_key: key.into(),
                resource_type: ty.into(),
                category: cat,
                code_system: None,
                code: Some(format!("C-{key}")),
                display: Some(display.into()),
                effective_on: Some(
                    time::Date::parse(
                        date,
                        &time::macros::format_description!("[year]-[month]-[day]"),
                    )
                    .unwrap(),
                ),
                sensitive: false,
                resource,
            }
        };
    let lab = |key: &str, date: &str, v: f64, flag: Option<&str>| {
        let mut r = json!({"resourceType": "Observation", "code": {"text": "HbA1c"},
            "valueQuantity": {"value": v, "unit": "%"},
            "referenceRange": [{"low": {"value": 4.9}, "high": {"value": 6.0}}]});
        if let Some(f) = flag {
            r["interpretation"] = json!([{"coding": [{"code": f}]}]);
        }
        let mut input = rec(key, "Observation", AccessCategory::Labs, "HbA1c", date, r);
        input.code = Some("3D045000001906202".into());
        input
    };
    let today = renkei_app::today_jst(time::OffsetDateTime::now_utc());
    let recent = (today - time::Duration::days(10)).to_string();
    let inputs = vec![
        rec(
            "a1",
            "AllergyIntolerance",
            AccessCategory::Allergies,
            "ペニシリン系",
            "2026-02-01",
            json!({"resourceType": "AllergyIntolerance", "code": {"text": "ペニシリン系"}}),
        ),
        rec(
            "m1",
            "MedicationRequest",
            AccessCategory::Medications,
            "アモキシシリンカプセル250mg",
            &recent,
            json!({"resourceType": "MedicationRequest", "dosageInstruction": [{"text": "1日3回毎食後"}]}),
        ),
        rec(
            "c1",
            "Condition",
            AccessCategory::Diagnoses,
            "２型糖尿病",
            "2026-02-01",
            json!({"resourceType": "Condition", "code": {"text": "２型糖尿病"}}),
        ),
        lab("l1", "2026-03-01", 7.9, Some("H")),
        lab("l2", "2026-06-01", 7.1, Some("H")),
    ];
    n.app
        .store
        .store_group(
            person,
            f.id,
            &format!("test-{local_id}"),
            &inputs,
            &NewProvision {
                channel: "fhir",
                source_name: None,
                payload_hash: "00".into(),
                source_time: None,
            },
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    person
}

async fn last_entries(n: &Net, after: i64) -> Vec<renkei_domain::AuditEntry> {
    n.app
        .store
        .audit_entries(&Default::default(), after, 100)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_physician_with_a_care_relationship_sees_the_summary_and_one_entry_is_written() {
    let n = net(None).await;
    let person = patient(&n).await;
    let (cookie, _) = n
        .signed_in(
            "1410000010",
            "dr.a",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let before = n.audit_len().await;
    let (status, _, page) = n
        .send(get(&format!("/patients/{person}"), Some(&cookie)))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"allergy-banner\"") && page.contains("ペニシリン系"));
    assert!(page.contains("アモキシシリン"));
    assert!(
        page.contains("アレルギー注意"),
        "allergy-conflict warning shown"
    );
    assert!(page.contains("id=\"latest-labs\"") && page.contains("7.1"));
    let entries = last_entries(&n, before).await;
    assert_eq!(entries.len(), 1, "exactly one audit entry");
    let e = &entries[0].event;
    assert_eq!(e.action, AuditAction::View);
    assert_eq!(e.person_id, Some(person));
    assert!(e.items.contains(&"summary".to_owned()));
    assert!(
        e.items.contains(&"demographics".to_owned()),
        "name and birth date shown"
    );
    assert_eq!(e.access_method.as_deref(), Some("care-relationship"));
    assert_eq!(e.consent_state.as_deref(), Some("active"));

    for path in ["timeline", "labs"] {
        let before = n.audit_len().await;
        let (status, _, page) = n
            .send(get(&format!("/patients/{person}/{path}"), Some(&cookie)))
            .await;
        assert_eq!(status, StatusCode::OK);
        if path == "labs" {
            assert!(page.contains("<svg"), "trend chart");
            assert!(page.contains("7.9 H"));
        }
        assert_eq!(last_entries(&n, before).await.len(), 1, "{path}: one entry");
    }
}

#[tokio::test]
async fn an_account_without_the_clinical_role_reads_no_record_and_the_refusal_is_audited() {
    let n = net(None).await;
    let person = patient(&n).await;
    // A physician's account that only administers its facility's users.
    let (cookie, csrf) = n
        .signed_in(
            "1410000010",
            "dr.admin",
            Profession::Physician,
            &[Role::FacilityAdmin],
        )
        .await;
    for path in ["", "/timeline", "/labs"] {
        let before = n.audit_len().await;
        let (status, _, page) = n
            .send(get(&format!("/patients/{person}{path}"), Some(&cookie)))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            !page.contains("ペニシリン系"),
            "{path}: nothing of the record"
        );
        let entries = last_entries(&n, before).await;
        assert_eq!(entries.len(), 1, "{path}: exactly one audit entry");
        assert_eq!(entries[0].event.person_id, Some(person));
        assert_eq!(
            entries[0].event.outcome,
            AuditOutcome::Denied("role-required".into())
        );
    }
    // Nor may it search for a patient or break the glass; each refusal is one entry too, and
    // the search's entry does not repeat what was typed.
    let before = n.audit_len().await;
    let (status, _, body) = n
        .send(get(
            "/api/v1/persons?q=%E3%82%B7%E3%82%B1%E3%83%B3",
            Some(&cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(!body.contains("シケン"));
    let entries = last_entries(&n, before).await;
    assert_eq!(entries.len(), 1, "one entry for the refused search");
    assert_eq!(entries[0].event.action, AuditAction::Search);
    assert_eq!(entries[0].event.person_id, None);
    assert_eq!(entries[0].event.items, vec!["person-search".to_owned()]);
    assert_eq!(
        entries[0].event.outcome,
        AuditOutcome::Denied("role-required".into())
    );
    let before = n.audit_len().await;
    let (status, _, body) = n
        .send(json_req(
            Method::POST,
            &format!("/api/v1/persons/{person}/break-glass"),
            Some(&cookie),
            Some(&csrf),
            json!({"reason": "emergency"}),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let entries = last_entries(&n, before).await;
    assert_eq!(
        entries.len(),
        1,
        "one entry for the refused break-the-glass"
    );
    assert_eq!(entries[0].event.action, AuditAction::BreakGlass);
    assert_eq!(entries[0].event.person_id, Some(person));
    assert_eq!(
        entries[0].event.outcome,
        AuditOutcome::Denied("role-required".into())
    );
}

#[tokio::test]
async fn a_care_worker_does_not_receive_what_the_matrix_hides() {
    let n = net(None).await;
    let person = patient(&n).await;
    // A care worker at the hospital itself (the kind allows labs; the profession does not).
    let (cookie, _) = n
        .signed_in(
            "1410000010",
            "cw.b",
            Profession::CareWorker,
            &[Role::Clinical],
        )
        .await;
    let (status, _, page) = n
        .send(get(&format!("/patients/{person}"), Some(&cookie)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("ペニシリン系") && page.contains("アモキシシリン"));
    assert!(
        !page.contains("id=\"latest-labs\"") && !page.contains("HbA1c"),
        "labs absent, not greyed"
    );
    assert!(
        !page.contains("２型糖尿病"),
        "diagnoses absent for care workers"
    );
    let before = n.audit_len().await;
    let (status, _, body) = n
        .send(get(
            &format!("/api/v1/persons/{person}/timeline?category=labs"),
            Some(&cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("rule4-profession-matrix"), "{body}");
    let entries = last_entries(&n, before).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].event.outcome,
        AuditOutcome::Denied("rule4-profession-matrix".into())
    );
}

#[tokio::test]
async fn a_council_that_hides_demographics_hides_name_sex_and_birth_date_from_the_summary() {
    let n = net(None).await;
    let person = patient(&n).await;
    let mut matrix = n.app.matrix().await.unwrap();
    matrix
        .by_profession
        .get_mut(&Profession::Physician)
        .unwrap()
        .remove(&AccessCategory::Demographics);
    n.app.set_matrix(None, matrix).await.unwrap();
    let (cookie, _) = n
        .signed_in(
            "1410000010",
            "dr.d",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let before = n.audit_len().await;
    let (status, _, page) = n
        .send(get(&format!("/patients/{person}"), Some(&cookie)))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("ペニシリン系"), "the clinical sections stay");
    let entries = last_entries(&n, before).await;
    assert_eq!(entries.len(), 1);
    assert!(
        !entries[0].event.items.contains(&"demographics".to_owned()),
        "the audit entry names only what was shown"
    );
    for hidden in ["花子", "ハナコ", "1940-01-02", "女　"] {
        assert!(!page.contains(hidden), "{hidden} must be absent: {page}");
    }
    let (status, _, body) = n
        .send(get(
            &format!("/api/v1/persons/{person}/summary"),
            Some(&cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["person"].is_null(), "{}", v["person"]);
    assert!(!body.contains("1940-01-02") && !body.contains("シケン"));
}

#[tokio::test]
async fn a_page_after_new_records_or_a_merge_shows_them_though_heads_are_kept_between_pages() {
    let n = net(None).await;
    let person = patient(&n).await;
    let other = patient_with_local_id(&n, "0502").await;
    let (cookie, _) = n
        .signed_in(
            "1410000010",
            "dr.k",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let total = async |p: PersonId| {
        let (status, _, body) = n
            .send(get(&format!("/api/v1/persons/{p}/timeline"), Some(&cookie)))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()["total"]
            .as_u64()
            .unwrap()
    };
    let first = total(person).await;
    assert_eq!(total(person).await, first, "the same page twice");
    let f = n
        .app
        .store
        .facility_by_code("1410000010")
        .await
        .unwrap()
        .unwrap();
    let mut extra = RecordInput {
        source_key: "later".into(),
        resource_type: "Condition".into(),
        category: AccessCategory::Diagnoses,
        code_system: None,
        code: Some("8833421".into()),
        display: Some("高血圧症".into()),
        effective_on: Some(renkei_app::today_jst(time::OffsetDateTime::now_utc())),
        sensitive: false,
        resource: json!({"resourceType": "Condition", "code": {"text": "高血圧症"}}),
    };
    let provision = NewProvision {
        channel: "fhir",
        source_name: None,
        payload_hash: "01".into(),
        source_time: None,
    };
    let now = time::OffsetDateTime::now_utc();
    n.app
        .store
        .store_group(person, f.id, "later", &[extra.clone()], &provision, now)
        .await
        .unwrap();
    assert_eq!(
        total(person).await,
        first + 1,
        "a record stored since is shown"
    );
    extra.source_key = "later-2".into();
    n.app
        .store
        .store_group(other, f.id, "later", &[extra], &provision, now)
        .await
        .unwrap();
    let theirs = total(other).await;
    n.app
        .store
        .merge_persons(
            person,
            other,
            None,
            None,
            renkei_domain::AuditEvent::new(renkei_domain::AuditAction::Merge, now),
        )
        .await
        .unwrap();
    assert_eq!(
        total(person).await,
        first + 1 + theirs,
        "the merged person's records are the survivor's now"
    );
}

#[tokio::test]
async fn an_unrelated_facility_sees_nothing_until_it_breaks_the_glass() {
    let n = net(None).await;
    let person = patient(&n).await;
    let (cookie, csrf) = n
        .signed_in(
            "1410001018",
            "dr.c",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let before = n.audit_len().await;
    let (status, _, page) = n
        .send(get(&format!("/patients/{person}"), Some(&cookie)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"break-glass-form\"") && page.contains("記録され"));
    assert!(
        !page.contains("ペニシリン") && !page.contains("シケン"),
        "nothing of the patient"
    );
    let entries = last_entries(&n, before).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].event.outcome,
        AuditOutcome::Denied("rule3-no-care-relationship".into())
    );

    // "Other" needs a reason.
    let (status, _, _) = n
        .send(form(
            &format!("/patients/{person}/break-glass"),
            &cookie,
            &format!("csrf={csrf}&reason=other&text="),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, headers, _) = n
        .send(form(
            &format!("/patients/{person}/break-glass"),
            &cookie,
            &format!("csrf={csrf}&reason=emergency"),
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{headers:?}");
    let before = n.audit_len().await;
    let (status, _, page) = n
        .send(get(&format!("/patients/{person}"), Some(&cookie)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("ペニシリン系") && page.contains("id=\"break-glass-tag\""));
    let entries = last_entries(&n, before).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0].event.access_method.as_deref(),
        Some("break-glass")
    );

    // The office sees the access in its review list.
    let office = n
        .user(
            "1410000010",
            "office",
            Profession::Clerk,
            &[Role::NetworkOffice],
            true,
        )
        .await;
    let (oc, _) = n.login(&office).await;
    let (status, _, page) = n.send(get("/office/break-glass", Some(&oc))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("救急") && page.contains(&person.to_string()));
}

#[tokio::test]
async fn after_withdrawal_nobody_sees_anything() {
    let n = net(None).await;
    let person = patient(&n).await;
    let consent = n.app.store.consents(person).await.unwrap()[0].id;
    let (cc, csrf) = n
        .signed_in("1410000010", "clerk2", Profession::Clerk, &[Role::Clerk])
        .await;
    let (status, _, _) = n
        .send(json_req(
            Method::POST,
            &format!("/api/v1/residents/{person}/consents/{consent}/withdraw"),
            Some(&cc),
            Some(&csrf),
            json!({}),
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (cookie, csrf) = n
        .signed_in(
            "1410000010",
            "dr.d",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let before = n.audit_len().await;
    let (status, _, body) = n
        .send(get(
            &format!("/api/v1/persons/{person}/summary"),
            Some(&cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("rule1-consent-withdrawn"));
    assert_eq!(last_entries(&n, before).await.len(), 1);
    // Break-the-glass cannot override a withdrawal.
    let (status, _, body) = n
        .send(json_req(
            Method::POST,
            &format!("/api/v1/persons/{person}/break-glass"),
            Some(&cookie),
            Some(&csrf),
            json!({"reason": "emergency"}),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (_, _, page) = n
        .send(get(
            "/patients?q=%E3%82%B7%E3%82%B1%E3%83%B3",
            Some(&cookie),
        ))
        .await;
    assert!(page.contains("id=\"no-hits\""), "not even found by search");
}

#[tokio::test]
async fn search_and_the_json_api_follow_the_same_rules_and_are_audited() {
    let n = net(None).await;
    let person = patient(&n).await;
    let (cookie, _) = n
        .signed_in(
            "1410000010",
            "dr.e",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let before = n.audit_len().await;
    let (status, _, body) = n
        .send(get(
            "/api/v1/persons?q=%E3%81%97%E3%81%91%E3%82%93",
            Some(&cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let hits: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        hits.as_array().unwrap().len(),
        1,
        "hiragana finds the katakana name"
    );
    let entries = last_entries(&n, before).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].event.action, AuditAction::Search);
    assert!(entries[0].event.items.contains(&format!("person:{person}")));

    let (status, _, body) = n
        .send(get(
            &format!("/api/v1/persons/{person}/summary"),
            Some(&cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let s: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(s["allergies"][0]["substance"], "ペニシリン系");
    let (status, _, body) = n
        .send(get(
            &format!("/api/v1/persons/{person}/timeline?category=labs&page=0"),
            Some(&cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let t: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(t["total"], 2);

    // The office prints every access for the resident; a clinician may not.
    let (status, _, _) = n
        .send(get(
            &format!("/api/v1/audit?person={person}"),
            Some(&cookie),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (oc, _) = n
        .signed_in(
            "1410000010",
            "office",
            Profession::Clerk,
            &[Role::NetworkOffice],
        )
        .await;
    let (status, _, body) = n
        .send(get(&format!("/api/v1/audit?person={person}"), Some(&oc)))
        .await;
    assert_eq!(status, StatusCode::OK);
    let lines: Value = serde_json::from_str(&body).unwrap();
    assert!(lines.as_array().unwrap().len() >= 3);
    let (status, _, page) = n.send(get("/me/accesses", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("閲覧"));
}

#[tokio::test]
async fn an_emergency_search_finds_a_stranger_but_shows_nothing_before_the_grant() {
    let n = net(None).await;
    let person = patient(&n).await;
    let (cookie, csrf) = n
        .signed_in(
            "1410001018",
            "er.f",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let (status, _, body) = n
        .send(get("/api/v1/persons?q=%E3%82%B7%E3%82%B1%E3%83%B3%20%E3%83%8F%E3%83%8A%E3%82%B3&birth_date=1940-01-02", Some(&cookie)))
        .await;
    assert_eq!(status, StatusCode::OK);
    let hits: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(hits[0]["needs_break_glass"], true, "{body}");
    assert!(hits[0]["person"]["name_kanji"].is_null() && hits[0]["person"]["address"].is_null());
    assert!(!body.contains("試験"), "no kanji name before the grant");
    // A facility that already cares for the person does not break the glass.
    let (oc, ocsrf) = n
        .signed_in(
            "1410000010",
            "dr.g",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let (status, _, _) = n
        .send(json_req(
            Method::POST,
            &format!("/api/v1/persons/{person}/break-glass"),
            Some(&oc),
            Some(&ocsrf),
            json!({"reason": "emergency"}),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = n
        .send(json_req(
            Method::POST,
            &format!("/api/v1/persons/{person}/break-glass"),
            Some(&cookie),
            Some(&csrf),
            json!({"reason": "emergency"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn the_review_queue_page_is_for_clerks_and_the_office() {
    let n = net(None).await;
    let (cookie, _) = n
        .signed_in("1410000010", "clerk9", Profession::Clerk, &[Role::Clerk])
        .await;
    let (status, _, page) = n.send(get("/office/mpi", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"queue-empty\""));
    let (dc, _) = n
        .signed_in(
            "1410000010",
            "dr.m",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let (status, _, _) = n.send(get("/office/mpi", Some(&dc))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// A referral from the hospital carrying four files in its 身体所見 section: a phone photo still
/// holding its GPS position (stored directly, as if it had escaped the ingestion rule), a PDF,
/// an HTML page, and a file kept elsewhere. Returns the record's id.
async fn referral_with_files(n: &Net, person: PersonId) -> uuid::Uuid {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use renkei_testkit::attachments::{one_page_pdf, photo_with_gps_jpeg};
    let f = n
        .app
        .store
        .facility_by_code("1410000010")
        .await
        .unwrap()
        .unwrap();
    let today = renkei_app::today_jst(time::OffsetDateTime::now_utc());
    let bundle = json!({
        "resourceType": "Bundle", "type": "document",
        "entry": [
            { "fullUrl": "urn:uuid:c", "resource": {
                "resourceType": "Composition", "title": "診療情報提供書",
                "author": [{ "display": "試験 医師" }],
                "section": [
                    { "title": "紹介目的", "text": { "div": "<div>創傷の精査</div>" } },
                    { "title": "身体所見", "text": { "div": "<div>右下腿に創部</div>" },
                      "entry": [{ "reference": "urn:uuid:d" }] }
                ]
            } },
            { "fullUrl": "urn:uuid:d", "resource": {
                "resourceType": "DocumentReference",
                "content": [
                    { "attachment": { "contentType": "image/jpeg", "title": "創部写真",
                        "data": STANDARD.encode(photo_with_gps_jpeg()) } },
                    { "attachment": { "contentType": "application/pdf", "title": "紹介状（印刷用）",
                        "data": STANDARD.encode(one_page_pdf(&["Synthetic"])) } },
                    { "attachment": { "contentType": "text/html", "title": "メモ",
                        "data": STANDARD.encode("<script>alert(1)</script>") } },
                    { "attachment": { "contentType": "application/pdf", "title": "外部",
                        "url": "https://files.example.org/x.pdf" } }
                ]
            } }
        ]
    });
    n.app
        .store
        .store_group(
            person,
            f.id,
            "letter",
            &[RecordInput {
                source_key: "Bundle?identifier=x|1".into(),
                resource_type: "Bundle".into(),
                category: AccessCategory::Documents,
                code_system: Some("http://loinc.org".into()),
                code: Some("57133-1".into()),
                display: Some("診療情報提供書".into()),
                effective_on: Some(today - time::Duration::days(3)),
                sensitive: false,
                resource: bundle,
            }],
            &NewProvision {
                channel: "fhir",
                source_name: None,
                payload_hash: "01".into(),
                source_time: None,
            },
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    n.app
        .store
        .records_of(person, false)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.input.resource_type == "Bundle")
        .unwrap()
        .id
}

/// A GET whose body is kept as bytes.
async fn fetch(n: &Net, uri: &str, cookie: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let res = n
        .router
        .clone()
        .oneshot(get(uri, Some(cookie)))
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

fn header_of(h: &HeaderMap, name: header::HeaderName) -> &str {
    h.get(name).map(|v| v.to_str().unwrap()).unwrap_or_default()
}

#[tokio::test]
async fn a_document_shows_its_photo_and_pdf_inline_and_each_file_read_is_one_audit_entry() {
    let n = net(None).await;
    let person = patient(&n).await;
    let record = referral_with_files(&n, person).await;
    let (cookie, _) = n
        .signed_in(
            "1410000010",
            "dr.a",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let base = format!("/patients/{person}/documents/{record}");

    let (status, headers, page) = n.send(get(&base, Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("身体所見") && page.contains("添付ファイル") && page.contains("ダウンロード")
    );
    assert!(
        page.contains(&format!("<img src=\"{base}/attachments/0\"")),
        "{page}"
    );
    assert!(page.contains(&format!("<iframe src=\"{base}/attachments/1\"")));
    assert!(
        page.contains("https://files.example.org/x.pdf") && !page.contains("href=\"https://files"),
        "a file kept elsewhere is named, not linked"
    );
    assert!(
        !page.contains("<script>alert"),
        "file contents are never in the page"
    );
    let csp = header_of(&headers, header::CONTENT_SECURITY_POLICY);
    assert!(
        csp.contains("frame-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );

    // The photo: the picture only, with the headers of a file that must not be sniffed,
    // cached or run, and one audit entry naming the record and the file.
    let before = n.audit_len().await;
    let (status, headers, body) = fetch(&n, &format!("{base}/attachments/0"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CONTENT_TYPE), "image/jpeg");
    assert_eq!(
        header_of(&headers, header::X_CONTENT_TYPE_OPTIONS),
        "nosniff"
    );
    assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-store");
    assert!(header_of(&headers, header::CONTENT_SECURITY_POLICY).contains("sandbox"));
    assert_eq!(header_of(&headers, header::X_FRAME_OPTIONS), "SAMEORIGIN");
    assert_eq!(
        body,
        renkei_testkit::attachments::grey_jpeg(),
        "served without its GPS metadata, even though it was stored with it"
    );
    let entries = last_entries(&n, before).await;
    assert_eq!(entries.len(), 1, "exactly one audit entry");
    let e = &entries[0].event;
    assert_eq!(e.action, AuditAction::View);
    assert_eq!(e.outcome, AuditOutcome::Success);
    assert_eq!(e.person_id, Some(person));
    assert_eq!(
        e.items,
        vec![format!("record:{record}"), "attachment:0".to_owned()]
    );
    assert_eq!(e.access_method.as_deref(), Some("care-relationship"));

    // The PDF, sandboxed; framable by this site only.
    let (status, headers, body) = fetch(&n, &format!("{base}/attachments/1"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, header::CONTENT_TYPE), "application/pdf");
    let csp = header_of(&headers, header::CONTENT_SECURITY_POLICY);
    assert!(
        csp.starts_with("sandbox") && csp.contains("frame-ancestors 'self'"),
        "{csp}"
    );
    assert!(body.starts_with(b"%PDF-"));

    // Anything else is a download, never a page of this site.
    let (status, headers, _) = fetch(&n, &format!("{base}/attachments/2"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header_of(&headers, header::CONTENT_TYPE),
        "application/octet-stream"
    );
    assert_eq!(
        header_of(&headers, header::CONTENT_DISPOSITION),
        "attachment; filename=\"attachment-3.bin\""
    );
    assert_eq!(header_of(&headers, header::X_FRAME_OPTIONS), "DENY");

    // A file kept elsewhere is not fetched, and a file that is not there is not found; each
    // request is still one entry.
    for n_ in [3, 9] {
        let before = n.audit_len().await;
        let (status, _, _) = fetch(&n, &format!("{base}/attachments/{n_}"), &cookie).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "attachment {n_}");
        assert_eq!(last_entries(&n, before).await.len(), 1);
    }
}

#[tokio::test]
async fn an_unrelated_facility_gets_no_attached_file_and_the_refusal_is_audited() {
    let n = net(None).await;
    let person = patient(&n).await;
    let record = referral_with_files(&n, person).await;
    let (cookie, _) = n
        .signed_in(
            "1410001018",
            "dr.c",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let before = n.audit_len().await;
    let (status, headers, body) = fetch(
        &n,
        &format!("/patients/{person}/documents/{record}/attachments/0"),
        &cookie,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(header_of(&headers, header::CONTENT_TYPE).starts_with("text/html"));
    assert!(
        !body.starts_with(&[0xFF, 0xD8]),
        "nothing of the file in the refusal"
    );
    let entries = last_entries(&n, before).await;
    assert_eq!(entries.len(), 1);
    let e = &entries[0].event;
    assert_eq!(
        e.outcome,
        AuditOutcome::Denied("rule3-no-care-relationship".into())
    );
    assert_eq!(
        e.items,
        vec![format!("record:{record}"), "attachment:0".to_owned()]
    );
    // An unknown record of a real person, or a malformed number: not found, nothing served.
    let (status, _, _) = fetch(
        &n,
        &format!("/patients/{person}/documents/{record}/attachments/x"),
        &cookie,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
