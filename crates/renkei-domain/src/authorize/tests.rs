//! The five rules, as examples and as properties over generated situations.

use super::*;
use crate::access::{BreakGlassReason, CareSource};
use crate::consent::{ConsentForm, ConsentMethod, ConsentMode};
use crate::facility::{FacilityCode, FacilityKind};
use crate::user::LoginName;
use proptest::prelude::*;
use time::Duration;
use time::macros::{date, datetime};

const NOW: OffsetDateTime = datetime!(2026-11-22 03:00 UTC);
const TODAY: Date = date!(2026 - 11 - 22);

fn facility(kind: FacilityKind) -> Facility {
    Facility {
        id: FacilityId::new(),
        code: FacilityCode::with_check_digit("141123456").unwrap(),
        name: "テスト病院".into(),
        kind,
        joined_on: date!(2020 - 04 - 01),
        withdrawn_on: None,
    }
}

fn user(facility: &Facility, profession: Profession) -> User {
    User {
        id: UserId::new(),
        facility_id: facility.id,
        login: LoginName::parse("tester").unwrap(),
        display_name: "テスト".into(),
        profession,
        roles: vec![crate::user::Role::Clinical],
        active: true,
    }
}

fn consent(
    person: PersonId,
    signed_on: Date,
    national: bool,
    excluded: Vec<FacilityId>,
) -> Consent {
    Consent::record(
        person,
        ConsentForm {
            signed_on,
            method: ConsentMethod::Paper,
            proxy: None,
            national,
            mode: ConsentMode::Blanket { excluded },
        },
        FacilityId::new(),
        TODAY,
        NOW - Duration::days(1),
    )
    .unwrap()
}

fn relationship(person: PersonId, facility: &Facility) -> CareRelationship {
    CareRelationship {
        person_id: person,
        facility_id: facility.id,
        since: NOW - Duration::days(30),
        source: CareSource::LocalPatient,
    }
}

struct Situation {
    facility: Facility,
    user: User,
    person: PersonId,
    consents: Vec<Consent>,
    relationship: Option<CareRelationship>,
    grants: Vec<BreakGlassGrant>,
    matrix: AccessMatrix,
}

impl Situation {
    fn new(kind: FacilityKind, profession: Profession) -> Self {
        let facility = facility(kind);
        let user = user(&facility, profession);
        let person = PersonId::new();
        Self {
            consents: vec![consent(person, date!(2026 - 01 - 10), false, vec![])],
            relationship: Some(relationship(person, &facility)),
            facility,
            user,
            person,
            grants: vec![],
            matrix: AccessMatrix::default_policy(),
        }
    }

    fn decide(&self, categories: &[AccessCategory], now: OffsetDateTime) -> Decision {
        authorize(&AccessRequest {
            user: &self.user,
            facility: &self.facility,
            person: self.person,
            consents: &self.consents,
            care_relationship: self.relationship.as_ref(),
            grants: &self.grants,
            matrix: &self.matrix,
            categories,
            purpose: AccessPurpose::Care,
            now,
            today: now.date(),
        })
    }
}

#[test]
fn physician_with_care_relationship_sees_labs() {
    let s = Situation::new(FacilityKind::Hospital, Profession::Physician);
    let d = s.decide(&[AccessCategory::Labs], NOW);
    assert!(d.is_allowed(AccessCategory::Labs));
    assert_eq!(d.method, Some(AccessMethod::CareRelationship));
    let auth = d.authorized().unwrap();
    assert_eq!(auth.shared_from(), date!(2026 - 01 - 10));
}

#[test]
fn care_worker_is_denied_labs_by_the_profession_matrix() {
    let s = Situation::new(FacilityKind::CareFacility, Profession::CareWorker);
    let d = s.decide(&[AccessCategory::Labs, AccessCategory::Medications], NOW);
    assert_eq!(
        d.outcomes[&AccessCategory::Labs],
        Outcome::Deny(Rule::ProfessionMatrix)
    );
    assert!(d.is_allowed(AccessCategory::Medications));
}

#[test]
fn without_relationship_the_decision_offers_break_the_glass() {
    let mut s = Situation::new(FacilityKind::Hospital, Profession::Physician);
    s.relationship = None;
    let d = s.decide(&[AccessCategory::Allergies], NOW);
    assert_eq!(d.outcomes[&AccessCategory::Allergies], Outcome::Elevate);
    assert!(d.authorized().is_none());
    assert!(d.can_elevate());

    s.grants.push(BreakGlassGrant {
        id: GrantId::new(),
        user_id: s.user.id,
        facility_id: s.facility.id,
        person_id: s.person,
        reason: BreakGlassReason::Emergency,
        granted_at: NOW - Duration::hours(1),
        expires_at: NOW + Duration::hours(23),
    });
    let d = s.decide(&[AccessCategory::Allergies], NOW);
    assert!(d.is_allowed(AccessCategory::Allergies));
    assert!(matches!(d.method, Some(AccessMethod::BreakGlass(_))));
}

#[test]
fn excluded_facility_sees_nothing_even_with_relationship() {
    let mut s = Situation::new(FacilityKind::MedicalClinic, Profession::Physician);
    s.consents = vec![consent(
        s.person,
        date!(2026 - 01 - 10),
        false,
        vec![s.facility.id],
    )];
    let d = s.decide(&[AccessCategory::Diagnoses], NOW);
    assert_eq!(
        d.outcomes[&AccessCategory::Diagnoses],
        Outcome::Deny(Rule::FacilityExcluded)
    );
}

#[test]
fn departed_facility_sees_nothing() {
    let mut s = Situation::new(FacilityKind::Hospital, Profession::Physician);
    s.facility.withdrawn_on = Some(date!(2026 - 11 - 01));
    let d = s.decide(&[AccessCategory::Diagnoses], NOW);
    assert_eq!(d.first_denial(), Some(Rule::FacilityNotParticipating));
    assert!(d.authorized().is_none());
}

#[test]
fn sensitive_records_are_hidden_unless_the_council_allows() {
    let mut s = Situation::new(FacilityKind::Hospital, Profession::Physician);
    let d = s.decide(&[AccessCategory::Diagnoses], NOW);
    let auth = d.authorized().unwrap();
    assert_eq!(
        auth.permits_record(AccessCategory::Diagnoses, TODAY, true),
        Err(Rule::Sensitive)
    );
    s.matrix
        .by_facility_kind
        .entry(FacilityKind::Hospital)
        .or_default()
        .insert(AccessCategory::Sensitive);
    s.matrix
        .by_profession
        .entry(Profession::Physician)
        .or_default()
        .insert(AccessCategory::Sensitive);
    let d = s.decide(&[AccessCategory::Diagnoses, AccessCategory::Sensitive], NOW);
    let auth = d.authorized().unwrap();
    assert!(
        auth.permits_record(AccessCategory::Diagnoses, TODAY, true)
            .is_ok()
    );
}

// ---- properties -------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct ConsentSpec {
    signed_days_ago: i64,
    withdrawn_hours_from_now: Option<i64>,
    national: bool,
    excludes_user_facility: bool,
}

#[derive(Debug, Clone)]
struct GrantSpec {
    granted_hours_ago: i64,
    lifetime_hours: i64,
    for_this_user: bool,
    for_this_person: bool,
}

#[derive(Debug, Clone)]
struct World {
    kind: FacilityKind,
    profession: Profession,
    user_active: bool,
    consents: Vec<ConsentSpec>,
    related: bool,
    grants: Vec<GrantSpec>,
    categories: Vec<AccessCategory>,
    record_days_before_start: i64,
}

fn world() -> impl Strategy<Value = World> {
    let consent = (
        0i64..2000,
        proptest::option::of(-200i64..200),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(signed_days_ago, withdrawn_hours_from_now, national, excl)| ConsentSpec {
                signed_days_ago,
                withdrawn_hours_from_now,
                national,
                excludes_user_facility: excl,
            },
        );
    let grant = (0i64..100, 0i64..72, any::<bool>(), any::<bool>()).prop_map(
        |(granted_hours_ago, lifetime_hours, u, p)| GrantSpec {
            granted_hours_ago,
            lifetime_hours,
            for_this_user: u,
            for_this_person: p,
        },
    );
    (
        prop::sample::select(FacilityKind::ALL.to_vec()),
        prop::sample::select(Profession::ALL.to_vec()),
        prop::bool::weighted(0.9),
        prop::collection::vec(consent, 0..3),
        any::<bool>(),
        prop::collection::vec(grant, 0..3),
        prop::sample::subsequence(AccessCategory::ALL.to_vec(), 1..=AccessCategory::ALL.len()),
        1i64..5000,
    )
        .prop_map(
            |(kind, profession, user_active, consents, related, grants, categories, before)| {
                World {
                    kind,
                    profession,
                    user_active,
                    consents,
                    related,
                    grants,
                    categories,
                    record_days_before_start: before,
                }
            },
        )
}

fn build(w: &World) -> Situation {
    let mut s = Situation::new(w.kind, w.profession);
    s.user.active = w.user_active;
    s.consents = w
        .consents
        .iter()
        .map(|c| {
            let excluded = if c.excludes_user_facility {
                vec![s.facility.id]
            } else {
                vec![]
            };
            let mut consent = consent(
                s.person,
                TODAY - Duration::days(c.signed_days_ago),
                c.national,
                excluded,
            );
            consent.withdrawn_at = c.withdrawn_hours_from_now.map(|h| NOW + Duration::hours(h));
            consent
        })
        .collect();
    if !w.related {
        s.relationship = None;
    }
    s.grants = w
        .grants
        .iter()
        .map(|g| {
            let granted_at = NOW - Duration::hours(g.granted_hours_ago);
            BreakGlassGrant {
                id: GrantId::new(),
                user_id: if g.for_this_user {
                    s.user.id
                } else {
                    UserId::new()
                },
                facility_id: s.facility.id,
                person_id: if g.for_this_person {
                    s.person
                } else {
                    PersonId::new()
                },
                reason: BreakGlassReason::FirstVisit,
                granted_at,
                expires_at: granted_at + Duration::hours(g.lifetime_hours),
            }
        })
        .collect();
    s
}

fn nothing_allowed(d: &Decision) -> bool {
    d.authorized().is_none() && d.outcomes.values().all(|o| *o != Outcome::Allow)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_consent_means_nothing(w in world()) {
        let mut w = w;
        w.consents.clear();
        let s = build(&w);
        let d = s.decide(&w.categories, NOW);
        prop_assert!(nothing_allowed(&d));
    }

    #[test]
    fn withdrawn_consent_hides_everything_from_that_moment(w in world(), hours in -200i64..200) {
        let mut w = w;
        if w.consents.is_empty() {
            w.consents.push(ConsentSpec { signed_days_ago: 10, withdrawn_hours_from_now: None, national: true, excludes_user_facility: false });
        }
        for c in &mut w.consents {
            c.withdrawn_hours_from_now.get_or_insert(hours);
        }
        let s = build(&w);
        // From the latest withdrawal on, nothing.
        let last = s.consents.iter().filter_map(|c| c.withdrawn_at).max().unwrap();
        for later in [last, last + Duration::seconds(1), last + Duration::days(400)] {
            let d = s.decide(&w.categories, later);
            prop_assert!(nothing_allowed(&d), "allowed at {later} after withdrawal at {last}");
        }
    }

    #[test]
    fn no_relationship_and_no_grant_means_nothing(w in world()) {
        let mut w = w;
        w.related = false;
        w.grants.clear();
        let s = build(&w);
        let d = s.decide(&w.categories, NOW);
        prop_assert!(nothing_allowed(&d));
    }

    #[test]
    fn expired_grant_means_nothing(w in world()) {
        let mut w = w;
        w.related = false;
        let s = build(&w);
        // Look at a moment after every grant has expired.
        let after = s.grants.iter().map(|g| g.expires_at).max().unwrap_or(NOW).max(NOW);
        let d = s.decide(&w.categories, after);
        prop_assert!(nothing_allowed(&d));
    }

    #[test]
    fn records_before_consent_start_are_never_shown(w in world(), sensitive in any::<bool>()) {
        let s = build(&w);
        let d = s.decide(&w.categories, NOW);
        if let Some(auth) = d.authorized() {
            let start = auth.shared_from();
            // The start is the signed date of a consent that is active now.
            prop_assert!(s.consents.iter().any(|c| c.signed_on == start && c.is_active_at(NOW)));
            let old = start - Duration::days(w.record_days_before_start);
            for &c in &w.categories {
                prop_assert!(auth.permits_record(c, old, sensitive).is_err());
            }
        }
    }

    #[test]
    fn every_allowed_category_passes_the_matrix(w in world()) {
        let s = build(&w);
        let d = s.decide(&w.categories, NOW);
        for (c, o) in &d.outcomes {
            if *o == Outcome::Allow {
                prop_assert!(s.matrix.allows(s.user.profession, s.facility.kind, *c).is_ok());
                prop_assert!(s.user.active);
            }
        }
    }
}

#[test]
fn administration_shows_demographics_to_clerks_even_after_withdrawal() {
    let mut s = Situation::new(FacilityKind::Hospital, Profession::Clerk);
    s.user.roles = vec![crate::user::Role::Clerk];
    for c in &mut s.consents {
        c.withdrawn_at = Some(NOW - Duration::hours(1));
    }
    let req = |s: &Situation, cats: &'static [AccessCategory]| {
        authorize(&AccessRequest {
            user: &s.user,
            facility: &s.facility,
            person: s.person,
            consents: &s.consents,
            care_relationship: s.relationship.as_ref(),
            grants: &s.grants,
            matrix: &s.matrix,
            categories: cats,
            purpose: AccessPurpose::Administration,
            now: NOW,
            today: TODAY,
        })
    };
    let d = req(&s, &[AccessCategory::Demographics, AccessCategory::Labs]);
    assert!(d.is_allowed(AccessCategory::Demographics));
    assert_eq!(
        d.outcomes[&AccessCategory::Labs],
        Outcome::Deny(Rule::AdministrationOnly)
    );
    s.user.roles = vec![crate::user::Role::Clinical];
    let d = req(&s, &[AccessCategory::Demographics]);
    assert!(d.authorized().is_none());
}
