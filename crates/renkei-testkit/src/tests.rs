//! Requirements of the demo region generator.

use super::*;
use renkei_domain::{ConsentMethod, ConsentMode};
use std::collections::{HashMap, HashSet};
use time::macros::date;

const TODAY: Date = date!(2026 - 01 - 15);

fn region() -> DemoRegion {
    generate(42, 2000, TODAY)
}

fn fraction(region: &DemoRegion, f: impl Fn(&DemoResident) -> bool) -> f64 {
    let n = region.residents.iter().filter(|r| f(r)).count();
    n as f64 / region.residents.len() as f64
}

fn user<'a>(region: &'a DemoRegion, facility: usize, login: &str) -> &'a DemoUser {
    let code = &region.facilities[facility].code;
    region
        .users
        .iter()
        .find(|u| &u.facility_code == code && u.login.as_str() == login)
        .unwrap_or_else(|| panic!("no user {login} at facility {facility}"))
}

fn first_of(region: &DemoRegion, kind: FacilityKind) -> usize {
    region
        .facilities
        .iter()
        .position(|f| f.kind == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(generate(7, 300, TODAY), generate(7, 300, TODAY));
}

#[test]
fn different_seeds_give_different_residents_but_the_same_layout() {
    let a = generate(1, 100, TODAY);
    let b = generate(2, 100, TODAY);
    assert_ne!(a.residents, b.residents);
    assert_eq!(a.facilities, b.facilities);
    assert_eq!(a.users, b.users);
}

#[test]
fn two_thousand_residents_can_be_generated() {
    let r = region();
    assert_eq!(r.residents.len(), 2000);
}

#[test]
fn an_empty_region_still_has_facilities_and_users() {
    let r = generate(0, 0, TODAY);
    assert!(r.residents.is_empty());
    assert!(!r.facilities.is_empty());
    assert!(!r.users.is_empty());
}

#[test]
fn the_region_has_about_45_facilities_of_every_kind_with_the_core_hospital_first() {
    let r = region();
    assert!(
        (40..=50).contains(&r.facilities.len()),
        "{}",
        r.facilities.len()
    );
    assert_eq!(r.facilities[0].kind, FacilityKind::Hospital);
    assert!(r.facilities[0].name.contains("総合病院"));
    let count = |k| r.facilities.iter().filter(|f| f.kind == k).count();
    assert_eq!(count(FacilityKind::Hospital), 4);
    assert_eq!(count(FacilityKind::MedicalClinic), 20);
    assert_eq!(count(FacilityKind::DentalClinic), 4);
    assert_eq!(count(FacilityKind::Pharmacy), 6);
    assert_eq!(count(FacilityKind::HomeNursingStation), 3);
    assert_eq!(count(FacilityKind::CareFacility), 3);
    assert_eq!(count(FacilityKind::CareManagementOffice), 3);
    assert_eq!(count(FacilityKind::CommunitySupportCentre), 1);
}

#[test]
fn every_facility_code_parses_for_its_kind_and_is_unique() {
    let r = region();
    let mut seen = HashSet::new();
    for f in &r.facilities {
        assert_eq!(
            FacilityCode::parse(f.code.as_str(), f.kind).as_ref(),
            Ok(&f.code),
            "{} {}",
            f.name,
            f.code
        );
        assert!(f.code.as_str().starts_with("14"), "Kanagawa: {}", f.code);
        assert!(seen.insert(f.code.clone()), "duplicate code {}", f.code);
    }
}

#[test]
fn medical_codes_use_the_fee_table_digit_of_their_kind() {
    let r = region();
    for f in &r.facilities {
        let fee = f.code.as_str().chars().nth(2);
        let expected = match f.kind {
            FacilityKind::Hospital | FacilityKind::MedicalClinic => Some('1'),
            FacilityKind::DentalClinic => Some('3'),
            FacilityKind::Pharmacy => Some('4'),
            FacilityKind::HomeNursingStation => Some('6'),
            _ => continue,
        };
        assert_eq!(fee, expected, "{}", f.name);
    }
}

#[test]
fn facilities_joined_between_2019_and_2024() {
    let r = region();
    for f in &r.facilities {
        assert!(
            (2019..=2024).contains(&f.joined_on.year()),
            "{} {}",
            f.name,
            f.joined_on
        );
    }
    assert_eq!(r.facilities[0].joined_on, date!(2019 - 04 - 01));
}

#[test]
fn every_profession_appears_among_users() {
    let r = region();
    for p in Profession::ALL {
        assert!(r.users.iter().any(|u| u.profession == p), "no {p}");
    }
}

#[test]
fn professions_work_at_suitable_facility_kinds() {
    let r = region();
    let kind_of: HashMap<&FacilityCode, FacilityKind> =
        r.facilities.iter().map(|f| (&f.code, f.kind)).collect();
    use FacilityKind as K;
    for u in &r.users {
        let kind = kind_of[&u.facility_code];
        let suitable: &[FacilityKind] = match u.profession {
            Profession::Physician => &[K::Hospital, K::MedicalClinic],
            Profession::Dentist | Profession::DentalHygienist => &[K::DentalClinic],
            Profession::Pharmacist => &[K::Pharmacy],
            Profession::Nurse => &[K::Hospital, K::MedicalClinic, K::CareFacility],
            Profession::HomeVisitNurse => &[K::HomeNursingStation],
            Profession::PublicHealthNurse => &[K::CommunitySupportCentre],
            Profession::CareManager => &[K::CareManagementOffice, K::CommunitySupportCentre],
            Profession::CareWorker => &[K::CareFacility],
            Profession::PhysicalTherapist
            | Profession::OccupationalTherapist
            | Profession::SpeechTherapist
            | Profession::MedicalSocialWorker => &[K::Hospital],
            Profession::Clerk => &K::ALL,
        };
        assert!(
            suitable.contains(&kind),
            "{} is a {} at a {kind}",
            u.login,
            u.profession
        );
    }
}

#[test]
fn clinicians_have_the_clinical_role_and_clerks_do_not() {
    let r = region();
    for u in &r.users {
        if u.profession == Profession::Clerk {
            assert!(u.roles.contains(&Role::Clerk), "{}", u.login);
            assert!(!u.roles.contains(&Role::Clinical), "{}", u.login);
        } else {
            assert_eq!(u.roles, vec![Role::Clinical], "{}", u.login);
        }
    }
}

#[test]
fn every_facility_has_an_admin_account() {
    let r = region();
    for (i, f) in r.facilities.iter().enumerate() {
        let admin = user(&r, i, "admin");
        assert_eq!(
            admin.roles,
            vec![Role::Clerk, Role::FacilityAdmin],
            "{}",
            f.name
        );
    }
}

#[test]
fn network_office_users_work_at_the_core_hospital() {
    let r = region();
    let office: Vec<&DemoUser> = r
        .users
        .iter()
        .filter(|u| u.roles.contains(&Role::NetworkOffice))
        .collect();
    assert!(!office.is_empty());
    for u in office {
        assert_eq!(u.facility_code, r.facilities[0].code);
        assert_eq!(u.roles, vec![Role::NetworkOffice, Role::Clerk]);
        assert_eq!(u.profession, Profession::Clerk);
    }
}

#[test]
fn demo_logins_are_memorable_and_predictable() {
    let r = region();
    assert_eq!(user(&r, 0, "dr.sato").profession, Profession::Physician);
    assert_eq!(user(&r, 0, "dr.sato").display_name, "佐藤\u{3000}一郎");
    assert_eq!(user(&r, 0, "ns.suzuki").profession, Profession::Nurse);
    assert!(user(&r, 0, "office").roles.contains(&Role::NetworkOffice));
    assert_eq!(user(&r, 0, "clerk").roles, vec![Role::Clerk]);
    assert!(user(&r, 0, "admin").roles.contains(&Role::FacilityAdmin));
    let clinic = first_of(&r, FacilityKind::MedicalClinic);
    assert_eq!(
        user(&r, clinic, "dr.tanaka").profession,
        Profession::Physician
    );
    let care = first_of(&r, FacilityKind::CareFacility);
    assert_eq!(
        user(&r, care, "cw.yamada").profession,
        Profession::CareWorker
    );
    let pharmacy = first_of(&r, FacilityKind::Pharmacy);
    assert_eq!(
        user(&r, pharmacy, "ph.ito").profession,
        Profession::Pharmacist
    );
    let cmo = first_of(&r, FacilityKind::CareManagementOffice);
    assert_eq!(user(&r, cmo, "cm.kato").profession, Profession::CareManager);
}

#[test]
fn demo_logins_exist_only_at_their_own_facility() {
    let r = region();
    for login in [
        "dr.sato",
        "ns.suzuki",
        "dr.tanaka",
        "cw.yamada",
        "ph.ito",
        "cm.kato",
    ] {
        let n = r.users.iter().filter(|u| u.login.as_str() == login).count();
        assert_eq!(n, 1, "{login}");
    }
}

#[test]
fn logins_are_valid_and_unique_per_facility() {
    let r = region();
    let mut seen = HashSet::new();
    for u in &r.users {
        assert_eq!(LoginName::parse(u.login.as_str()).as_ref(), Ok(&u.login));
        assert!(
            seen.insert((u.facility_code.clone(), u.login.clone())),
            "duplicate login {} at {}",
            u.login,
            u.facility_code
        );
        assert!(u.display_name.contains('\u{3000}'), "{}", u.display_name);
    }
}

#[test]
fn staff_have_distinct_japanese_names() {
    let r = region();
    let mut seen = HashSet::new();
    for u in &r.users {
        assert!(
            seen.insert(u.display_name.as_str()),
            "two staff named {}",
            u.display_name
        );
        assert!(!u.display_name.is_ascii(), "{}", u.display_name);
    }
}

#[test]
fn local_ids_are_unique_per_facility_and_the_registering_facility_comes_first() {
    let r = region();
    let mut seen = HashSet::new();
    for p in &r.residents {
        assert!((1..=4).contains(&p.local_ids.len()), "{:?}", p.local_ids);
        assert_eq!(p.local_ids[0].0, p.registered_at_facility);
        let facilities: HashSet<usize> = p.local_ids.iter().map(|(i, _)| *i).collect();
        assert_eq!(facilities.len(), p.local_ids.len(), "one ID per facility");
        for (i, n) in &p.local_ids {
            assert!(*i < r.facilities.len());
            assert!(n.as_str().bytes().all(|b| b.is_ascii_digit()), "{n}");
            assert!((7..=8).contains(&n.as_str().len()), "{n}");
            assert_eq!(LocalPatientNumber::parse(n.as_str()).as_ref(), Ok(n));
            assert!(
                seen.insert((*i, n.clone())),
                "duplicate {n} at facility {i}"
            );
        }
    }
    let several = fraction(&r, |p| p.local_ids.len() > 1);
    assert!(several > 0.5, "{several}");
}

#[test]
fn no_consent_is_signed_after_today_or_before_2022() {
    for today in [TODAY, date!(2022 - 01 - 01), date!(2023 - 06 - 30)] {
        let r = generate(3, 500, today);
        for p in &r.residents {
            assert!(
                p.consent.signed_on <= today,
                "{} > {today}",
                p.consent.signed_on
            );
            assert!(p.consent.signed_on >= date!(2022 - 01 - 01));
        }
    }
}

#[test]
fn consents_are_signed_after_the_registering_facility_joined() {
    let r = region();
    for p in &r.residents {
        let f = &r.facilities[p.registered_at_facility];
        assert!(
            p.consent.signed_on >= f.joined_on,
            "{} before {}",
            p.consent.signed_on,
            f.name
        );
    }
}

#[test]
fn consents_are_blanket_with_no_exclusions() {
    let r = region();
    for p in &r.residents {
        assert_eq!(p.consent.mode, ConsentMode::Blanket { excluded: vec![] });
    }
}

#[test]
fn consent_methods_proxies_and_scopes_have_realistic_shares() {
    let r = region();
    let web = fraction(&r, |p| p.consent.method == ConsentMethod::Web);
    assert!((0.03..=0.09).contains(&web), "web {web}");
    let proxy = fraction(&r, |p| p.consent.proxy.is_some());
    assert!((0.10..=0.20).contains(&proxy), "proxy {proxy}");
    let national = fraction(&r, |p| p.consent.national);
    assert!((0.25..=0.35).contains(&national), "national {national}");
}

#[test]
fn proxies_have_a_name_and_relationship_and_children_always_have_one() {
    let r = region();
    for p in &r.residents {
        if let Some(proxy) = &p.consent.proxy {
            assert!(!proxy.name.trim().is_empty());
            assert!(!proxy.relationship.trim().is_empty());
        }
        let adult_on = p.birth_date.replace_year(p.birth_date.year() + 18);
        if adult_on.is_ok_and(|d| p.consent.signed_on < d) {
            assert!(
                p.consent.proxy.is_some(),
                "{} born {}",
                p.name_kana,
                p.birth_date
            );
        }
    }
}

#[test]
fn about_three_percent_withdraw_and_never_after_today() {
    let r = region();
    let withdrawn = fraction(&r, |p| p.withdrawn_after_days.is_some());
    assert!((0.01..=0.05).contains(&withdrawn), "withdrawn {withdrawn}");
    for p in &r.residents {
        if let Some(days) = p.withdrawn_after_days {
            assert!(days >= 0);
            assert!(p.consent.signed_on + time::Duration::days(days) <= TODAY);
        }
    }
}

#[test]
fn names_are_kanji_and_katakana_with_a_full_width_space() {
    let r = region();
    for p in &r.residents {
        let (family, given) = p.name_kana.split_once('\u{3000}').expect("kana separator");
        for c in family.chars().chain(given.chars()) {
            assert!(('\u{30A0}'..='\u{30FF}').contains(&c), "{}", p.name_kana);
        }
        if let Some(kanji) = &p.name_kanji {
            assert_eq!(kanji.matches('\u{3000}').count(), 1, "{kanji}");
        }
    }
}

#[test]
fn about_five_percent_are_known_by_kana_only_at_pharmacies() {
    let r = region();
    let kana_only = fraction(&r, |p| p.name_kanji.is_none());
    assert!((0.03..=0.07).contains(&kana_only), "kana only {kana_only}");
    for p in r.residents.iter().filter(|p| p.name_kanji.is_none()) {
        for (i, _) in &p.local_ids {
            assert_eq!(r.facilities[*i].kind, FacilityKind::Pharmacy);
        }
    }
}

#[test]
fn residents_are_mostly_elderly_and_born_1925_to_2024() {
    let r = region();
    for p in &r.residents {
        assert!(
            (1925..=2024).contains(&p.birth_date.year()),
            "{}",
            p.birth_date
        );
        assert!(p.birth_date <= p.consent.signed_on);
    }
    let elderly = fraction(&r, |p| p.birth_date.year() < 1955);
    assert!(elderly > 0.55, "born before 1955: {elderly}");
    assert!(r.residents.iter().any(|p| p.birth_date.year() >= 2010));
}

#[test]
fn addresses_postal_codes_and_phones_are_synthetic_and_local() {
    let r = region();
    for p in &r.residents {
        if let Some(a) = &p.address {
            assert!(a.contains("なぎさ市"), "{a}");
        }
        if let Some(pc) = &p.postal_code {
            assert!(pc.starts_with("240-00") && pc.len() == 8, "{pc}");
        }
        if let Some(t) = &p.phone {
            assert!(t.starts_with("045-") && t.len() == 12, "{t}");
        }
    }
    assert!(fraction(&r, |p| p.address.is_some()) > 0.9);
    assert!(fraction(&r, |p| p.phone.is_some()) > 0.8);
}
