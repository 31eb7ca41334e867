//! Online 名寄せ against the kept index (issue 4 item 4): every resident registered and every
//! local patient's demographics that arrive by ingestion are matched as they come, against one
//! index kept in memory and updated record by record — not rebuilt per registration, which took
//! seconds at 100,000 residents.

use super::mpi::{live_count, resident, second_clerk, trained};
use super::*;
use renkei_app::mpi::MpiIndexStats;
use renkei_domain::{AuditAction, PersonId};

async fn stats(w: &World) -> MpiIndexStats {
    w.app.mpi_index_stats().await
}

/// The open review items pairing `a` and `b`, as `viewer` sees the queue.
async fn queued(w: &World, viewer: &Actor, a: PersonId, b: PersonId) -> usize {
    w.app
        .review_queue(viewer)
        .await
        .unwrap()
        .iter()
        .filter(|i| {
            (i.person.id == a && i.candidate.id == b) || (i.person.id == b && i.candidate.id == a)
        })
        .count()
}

/// Who a PID says the patient is.
struct Pid<'a> {
    /// Family and given name with a space.
    kanji: &'a str,
    kana: &'a str,
    /// `YYYYMMDD`
    birth: &'a str,
    /// `M`, `F`
    sex: &'a str,
    postal: &'a str,
    address: &'a str,
}

/// An SS-MIX2 ADT-00 (ADT^A08) of `local_id` at time `at` (`YYYYMMDDHHMMSS`), as a facility's
/// system sends it: PID-5 kanji and kana names, PID-7, PID-8, PID-11 home address with postal
/// code, and an IN1 with the insurance card.
fn adt00(local_id: &str, at: &str, pid: &Pid<'_>) -> (String, Vec<u8>) {
    let Pid {
        kanji,
        kana,
        birth,
        sex,
        postal,
        address,
    } = pid;
    let name = format!("{local_id}_-_ADT-00_{at}0_{at}000_-_1");
    let (fk, gk) = kanji.split_once(' ').unwrap();
    let (fr, gr) = kana.split_once(' ').unwrap();
    let text = [
        format!("MSH|^~\\&|HIS|SEND|GW|RCV|{at}||ADT^A08^ADT_A01|{at}|P|2.5"),
        format!("EVN||{at}"),
        format!(
            "PID|0001||{local_id}^^^^PI||{fk}^{gk}^^^^^L^I~{fr}^{gr}^^^^^L^P||{birth}|{sex}|||^^^^{postal}^JPN^H^{address}"
        ),
        "IN1|1|67^国民健康保険^JHSD0001|01140013|||||||12|3456|20200401".to_owned(),
    ]
    .join("\r")
        + "\r";
    (name, text.into_bytes())
}

/// A JP Core Patient sent alone by a facility: kanji and kana names marked IDE/SYL, gender,
/// birth date, home address, and the 被保険者個人識別子.
fn fhir_patient(facility_code: &str, local_id: &str, birth: &str) -> Vec<u8> {
    let rep = |code: &str| {
        serde_json::json!([{
            "url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation",
            "valueCode": code
        }])
    };
    serde_json::to_vec(&serde_json::json!({
        "resourceType": "Patient",
        "id": format!("p{local_id}"),
        "identifier": [
            { "system": format!("urn:oid:1.2.392.100495.20.3.51.1{facility_code}"), "value": local_id },
            { "system": "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID",
              "value": "01140013:12:3456:00" }
        ],
        "name": [
            { "use": "official", "extension": rep("IDE"), "text": "佐々木 健", "family": "佐々木", "given": ["健"] },
            { "use": "official", "extension": rep("SYL"), "text": "ササキ ケン", "family": "ササキ", "given": ["ケン"] }
        ],
        "gender": "male",
        "birthDate": birth,
        "address": [{ "use": "home", "postalCode": "240-0001", "text": "横浜市中区本町7-7-7" }]
    }))
    .unwrap()
}

#[tokio::test]
async fn a_second_registration_is_matched_against_the_kept_index_without_rebuilding() {
    for w in worlds().await {
        trained(&w).await;
        let clinic = second_clerk(&w).await;
        assert_eq!(stats(&w).await.builds, 0, "built on first use, not before");
        let persons = live_count(&w).await;
        let a = w
            .app
            .register_resident(
                &w.clerk,
                &resident(
                    "H21",
                    "髙橋　清子",
                    "タカハシ キヨコ",
                    "female",
                    "1938-07-07",
                    "横浜市中区山下町1-2-3",
                ),
            )
            .await
            .unwrap();
        let first = stats(&w).await;
        assert_eq!(first.builds, 1);
        assert_eq!(first.records, persons + 1, "everyone, and the new resident");
        let b = w
            .app
            .register_resident(
                &clinic,
                &resident(
                    "C21",
                    "高橋　清子",
                    "タカハシ キヨコ",
                    "female",
                    "1938-07-07",
                    "神奈川県横浜市中区山下町１丁目２番地３号",
                ),
            )
            .await
            .unwrap();
        assert_eq!(b, a, "matched against the index and linked");
        let second = stats(&w).await;
        assert_eq!(
            second.builds, 1,
            "the second registration did not rebuild the index"
        );
        assert_eq!(
            second.records,
            first.records + 1,
            "the linked person's second local ID was added to the kept index"
        );
        // A third resident matches the index as it is now: a namesake in another town goes to
        // review against the person just linked, still without a rebuild.
        let mut elsewhere = resident(
            "C22",
            "高橋　清子",
            "タカハシ キヨコ",
            "female",
            "1938-07-07",
            "川崎市幸区南幸町3-3-3",
        );
        elsewhere.postal_code = "212-0016".into();
        let c = w.app.register_resident(&clinic, &elsewhere).await.unwrap();
        assert_ne!(c, a);
        assert_eq!(queued(&w, &clinic, a, c).await, 1);
        assert_eq!(stats(&w).await.builds, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn residents_registered_at_the_same_moment_are_both_kept_and_matched_with_each_other() {
    for w in worlds().await {
        trained(&w).await;
        let clinic = second_clerk(&w).await;
        w.app.warm_mpi_index().await;
        let before = stats(&w).await;
        let persons = live_count(&w).await;
        let at_hospital = resident(
            "H31",
            "渡邉　美智子",
            "ワタナベ ミチコ",
            "female",
            "1944-11-30",
            "横浜市中区本町4-4-4",
        );
        let at_clinic = resident(
            "C31",
            "渡辺　美智子",
            "ワタナベ ミチコ",
            "female",
            "1944-11-30",
            "横浜市中区本町4丁目4番4号",
        );
        let (app, clerk) = (w.app.clone(), w.clerk.clone());
        let first = tokio::spawn(async move { app.register_resident(&clerk, &at_hospital).await });
        let app = w.app.clone();
        let second = tokio::spawn(async move { app.register_resident(&clinic, &at_clinic).await });
        let (a, b) = (
            first.await.unwrap().unwrap(),
            second.await.unwrap().unwrap(),
        );
        assert_eq!(a, b, "whichever came second was matched with the first");
        assert_eq!(live_count(&w).await, persons + 1);
        let after = stats(&w).await;
        assert_eq!(after.records, before.records + 2, "neither was lost");
        assert_eq!(after.builds, before.builds);
    }
}

#[tokio::test]
async fn demographics_arriving_by_ingestion_are_matched_and_queued_for_review() {
    for w in worlds().await {
        trained(&w).await;
        let clinic = second_clerk(&w).await;
        let a = w
            .app
            .register_resident(
                &w.clerk,
                &resident(
                    "4101",
                    "山口　恵子",
                    "ヤマグチ ケイコ",
                    "female",
                    "1947-04-04",
                    "横浜市中区本町8-8-8",
                ),
            )
            .await
            .unwrap();
        // The clinic registered her with a mistyped birth decade and her new address in
        // Kawasaki: nothing to match then.
        let mut at_clinic = resident(
            "7101",
            "山口　恵子",
            "ヤマグチ ケイコ",
            "female",
            "1974-04-04",
            "川崎市幸区南幸町3-3-3",
        );
        at_clinic.postal_code = "212-0016".into();
        let c = w.app.register_resident(&clinic, &at_clinic).await.unwrap();
        assert_ne!(c, a);
        assert_eq!(queued(&w, &clinic, a, c).await, 0);
        let builds = stats(&w).await.builds;

        // Her ADT-00 from the clinic's system carries the right birth date (and her card).
        let (name, bytes) = adt00(
            "7101",
            "20260105100000",
            &Pid {
                kanji: "山口 恵子",
                kana: "ヤマグチ ケイコ",
                birth: "19470404",
                sex: "F",
                postal: "212-0016",
                address: "神奈川県川崎市幸区南幸町3-3-3",
            },
        );
        let r = w
            .app
            .ingest_ssmix2(&clinic.facility, &name, &bytes)
            .await
            .unwrap();
        assert_eq!(r.quarantined, None, "{r:?}");
        let queue = w.app.review_queue(&clinic).await.unwrap();
        let item = queue
            .iter()
            .find(|i| i.person.id == c && i.candidate.id == a)
            .expect("the pair is in the review queue");
        let level = |field: &str| {
            item.evidence
                .iter()
                .find(|(f, _, _)| f == field)
                .map(|(_, l, _)| l.as_str())
        };
        assert_eq!(level("birth_date"), Some("exact"), "{:?}", item.evidence);
        assert_eq!(level("address"), Some("different"), "{:?}", item.evidence);
        assert_ne!(
            w.app.store.live_person(c).await.unwrap(),
            None,
            "a possible match is not merged"
        );

        // The same message again, and the same demographics in a later one: nothing new, no
        // second proposal.
        w.app
            .ingest_ssmix2(&clinic.facility, &name, &bytes)
            .await
            .unwrap();
        let (later, again) = adt00(
            "7101",
            "20260301090000",
            &Pid {
                kanji: "山口 恵子",
                kana: "ﾔﾏｸﾞﾁ ｹｲｺ",
                birth: "19470404",
                sex: "F",
                postal: "2120016",
                address: "川崎市幸区南幸町3丁目3番3号",
            },
        );
        w.app
            .ingest_ssmix2_batch(&clinic.facility, &[(later.as_str(), again.as_slice())])
            .await
            .unwrap();
        assert_eq!(queued(&w, &clinic, a, c).await, 1);
        assert_eq!(
            stats(&w).await.builds,
            builds,
            "no rebuild for ingestion either"
        );
    }
}

#[tokio::test]
async fn demographics_for_a_patient_nobody_registered_are_held_and_not_matched() {
    let w = world().await;
    trained(&w).await;
    let (name, bytes) = adt00(
        "9999",
        "20260105100000",
        &Pid {
            kanji: "佐藤 太郎",
            kana: "サトウ タロウ",
            birth: "19310111",
            sex: "M",
            postal: "240-0001",
            address: "横浜市中区本町1-1-1",
        },
    );
    let r = w
        .app
        .ingest_ssmix2(&w.clerk.facility, &name, &bytes)
        .await
        .unwrap();
    assert!(r.quarantined.is_some(), "unknown patient");
    assert!(w.app.review_queue(&w.clerk).await.unwrap().is_empty());
    assert_eq!(stats(&w).await.builds, 0, "nothing to match, nothing built");
}

#[tokio::test]
async fn a_confident_link_from_a_fhir_patient_merges_audited_and_undoably() {
    for w in worlds().await {
        trained(&w).await;
        let clinic = second_clerk(&w).await;
        let a = w
            .app
            .register_resident(
                &w.clerk,
                &resident(
                    "4201",
                    "佐々木　健",
                    "ササキ ケン",
                    "male",
                    "1960-06-06",
                    "横浜市中区本町7-7-7",
                ),
            )
            .await
            .unwrap();
        // The clinic has kana only, and a birth date in the wrong century.
        let kana_only = resident(
            "7201",
            "",
            "ササキ ケン",
            "male",
            "1906-06-06",
            "横浜市中区本町7-7-7",
        );
        let c = w.app.register_resident(&clinic, &kana_only).await.unwrap();
        assert_ne!(c, a);
        let persons = live_count(&w).await;
        let records = stats(&w).await.records;

        // The clinic's FHIR Patient: kanji name, the right birth date, the card.
        let bytes = fhir_patient(clinic.facility.code.as_str(), "7201", "1960-06-06");
        let r = w
            .app
            .ingest_fhir(&clinic.facility, Some("patient.json"), &bytes)
            .await
            .unwrap();
        assert_eq!(r.quarantined, None, "{r:?}");
        assert_eq!(live_count(&w).await, persons - 1, "linked automatically");
        assert_eq!(
            w.app
                .store
                .person_by_local_id(clinic.facility.id, "7201")
                .await
                .unwrap(),
            Some(a)
        );
        let merge = w.app.store.merges(1).await.unwrap().remove(0);
        assert_eq!((merge.survivor, merge.merged), (a, c));
        let entries = w
            .app
            .store
            .audit_entries(&Default::default(), 0, 10_000)
            .await
            .unwrap();
        let auto = entries
            .iter()
            .rev()
            .find(|e| e.event.action == AuditAction::Merge)
            .unwrap();
        assert!(auto.event.items.iter().any(|i| i == "auto-link"));
        assert!(auto.event.items.iter().any(|i| i == "trigger:ingestion"));
        assert_eq!(auto.event.person_id, Some(a));
        let stored = w
            .app
            .store
            .match_result(merge_match(&auto.event.items))
            .await;
        let m = stored.unwrap().unwrap();
        assert_eq!((m.person, m.candidate, m.outcome.as_str()), (c, a, "link"));
        assert!(m.evidence.contains("birth_date"), "with per-field evidence");

        // Undo: both are persons again, each with their own local ID in the index; the pair
        // is not linked again when the clinic sends the Patient once more.
        w.app.unmerge(None, merge.id).await.unwrap();
        assert_eq!(live_count(&w).await, persons);
        assert_eq!(stats(&w).await.records, records);
        let mut changed = fhir_patient(clinic.facility.code.as_str(), "7201", "1960-06-06");
        changed = String::from_utf8(changed)
            .unwrap()
            .replace("本町7-7-7", "本町7-7-8")
            .into_bytes();
        w.app
            .ingest_fhir(&clinic.facility, Some("patient.json"), &changed)
            .await
            .unwrap();
        assert_eq!(live_count(&w).await, persons);
        assert_ne!(w.app.store.live_person(c).await.unwrap(), None);
    }
}

/// The match ID an automatic link's audit entry names.
fn merge_match(items: &[String]) -> uuid::Uuid {
    items
        .iter()
        .find_map(|i| i.strip_prefix("match:"))
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn an_unmerge_puts_both_persons_back_in_the_index() {
    for w in worlds().await {
        trained(&w).await;
        let clinic = second_clerk(&w).await;
        let at_hospital = resident(
            "H51",
            "髙橋　清子",
            "タカハシ キヨコ",
            "female",
            "1938-07-07",
            "横浜市中区山下町1-2-3",
        );
        // Another block of the same town: a reviewer decides.
        let at_clinic = resident(
            "C51",
            "高橋　清子",
            "タカハシ キヨコ",
            "female",
            "1938-07-07",
            "横浜市中区山下町2-5-8",
        );
        let a = w
            .app
            .register_resident(&w.clerk, &at_hospital)
            .await
            .unwrap();
        let b = w.app.register_resident(&clinic, &at_clinic).await.unwrap();
        assert_ne!(b, a);
        let records = stats(&w).await.records;
        let item = w
            .app
            .review_queue(&clinic)
            .await
            .unwrap()
            .into_iter()
            .find(|i| i.person.id == b && i.candidate.id == a)
            .expect("queued for review");
        w.app
            .decide_match(&clinic, item.match_id, true)
            .await
            .unwrap();
        let merge = w.app.store.merges(1).await.unwrap().remove(0);
        assert_eq!((merge.survivor, merge.merged), (a, b));
        assert_eq!(stats(&w).await.records, records, "one record per local ID");

        let back = w.app.unmerge(None, merge.id).await.unwrap();
        assert_eq!((back.survivor, back.merged), (a, b));
        assert_eq!(stats(&w).await.records, records);
        // A pharmacy registers the resident as the clinic knows her: linked to the person the
        // unmerge brought back, not to the survivor.
        let pharmacy = pharmacy_clerk(&w).await;
        let mut copy = at_clinic.clone();
        copy.local_id = "P51".into();
        assert_eq!(w.app.register_resident(&pharmacy, &copy).await.unwrap(), b);
        // And as the hospital knows her: linked to the survivor, as she is again.
        let mut copy = at_hospital.clone();
        copy.local_id = "P52".into();
        assert_eq!(w.app.register_resident(&pharmacy, &copy).await.unwrap(), a);
        assert_eq!(stats(&w).await.builds, 1, "all of it without a rebuild");
    }
}

async fn pharmacy_clerk(w: &World) -> Actor {
    let pharmacy = w
        .app
        .add_facility(
            None,
            &NewFacility {
                code: "1410002016".into(),
                name: "西町薬局".into(),
                kind: FacilityKind::Pharmacy,
                joined_on: None,
            },
        )
        .await
        .unwrap();
    let u = w
        .app
        .create_user(
            None,
            &NewUserRequest {
                facility_code: "1410002016".into(),
                login: "clerk".into(),
                display_name: "受付".into(),
                profession: Profession::Clerk,
                roles: vec![Role::Clerk],
                enrol_totp_now: true,
            },
        )
        .await
        .unwrap();
    Actor {
        user: u.user,
        facility: pharmacy,
        client_addr: None,
        request_id: None,
    }
}

#[tokio::test]
async fn a_new_model_rebuilds_the_index_on_its_next_use() {
    let w = world().await;
    trained(&w).await;
    w.app.warm_mpi_index().await;
    let first = stats(&w).await;
    assert_eq!(first.builds, 1);
    let v = w.app.train_mpi(None).await.unwrap();
    assert_eq!(
        stats(&w).await.model_version,
        None,
        "the old index is dropped"
    );
    w.app
        .register_resident(
            &w.clerk,
            &resident(
                "H41",
                "中村　洋子",
                "ナカムラ ヨウコ",
                "female",
                "1988-08-08",
                "横浜市中区本町5-5-5",
            ),
        )
        .await
        .unwrap();
    let after = stats(&w).await;
    assert_eq!((after.builds, after.model_version), (2, Some(v)));
}

#[tokio::test]
async fn demographics_from_ingestion_are_still_matched_after_a_restart() {
    for w in worlds().await {
        trained(&w).await;
        let clinic = second_clerk(&w).await;
        // Registered at the clinic with a mistyped birth decade and an old address.
        let mut at_clinic = resident(
            "7301",
            "森　幸子",
            "モリ サチコ",
            "female",
            "1974-06-06",
            "川崎市幸区南幸町5-5-5",
        );
        at_clinic.postal_code = "212-0016".into();
        let c = w.app.register_resident(&clinic, &at_clinic).await.unwrap();
        // The clinic's system then sends her right birth date and her new address.
        let (name, bytes) = adt00(
            "7301",
            "20260205100000",
            &Pid {
                kanji: "森 幸子",
                kana: "モリ サチコ",
                birth: "19470606",
                sex: "F",
                postal: "231-0005",
                address: "神奈川県横浜市中区本町9-9-9",
            },
        );
        let r = w
            .app
            .ingest_ssmix2(&clinic.facility, &name, &bytes)
            .await
            .unwrap();
        assert_eq!(r.quarantined, None, "{r:?}");

        // The server restarts: a new index is built from the store.
        let restarted = App::open(
            w.app.store.clone(),
            AppConfig::new(w._dir.path().to_path_buf()),
        )
        .await
        .unwrap();
        // A pharmacy registers her as the clinic's system knows her now, which her
        // registration at the clinic alone does not match.
        let pharmacy = pharmacy_clerk(&w).await;
        let mut at_pharmacy = resident(
            "P301",
            "森　幸子",
            "モリ サチコ",
            "female",
            "1947-06-06",
            "横浜市中区本町9-9-9",
        );
        at_pharmacy.postal_code = "231-0005".into();
        let d = restarted
            .register_resident(&pharmacy, &at_pharmacy)
            .await
            .unwrap();
        assert_eq!(restarted.mpi_index_stats().await.builds, 1);
        let merged = d == c || restarted.store.live_person(d).await.unwrap().is_none();
        let proposed = restarted
            .review_queue(&pharmacy)
            .await
            .unwrap()
            .iter()
            .any(|i| {
                (i.person.id == c && i.candidate.id == d)
                    || (i.person.id == d && i.candidate.id == c)
            });
        assert!(
            merged || proposed,
            "the pharmacy's registration is linked to or queued with the clinic's patient"
        );
    }
}
