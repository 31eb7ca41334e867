//! `authorize()`: the one rule set deciding who may see which categories of a resident's record.
//!
//! A category is allowed only if all five rules hold (DESIGN.md §4):
//! 1. an active consent covers the access's scope and does not exclude the user's facility;
//! 2. the facility is an active participant and the user an active account;
//! 3. the facility has a care relationship with the person, or the user holds an unexpired
//!    break-the-glass grant;
//! 4. the council's matrix allows the category for the user's profession and facility kind;
//! 5. (per record) the record is dated on or after consent start and no sensitivity flag hides it.
//!
//! Rules 1–4 are decided here for a whole request; rule 5 is checked per record through
//! [`Authorized::permits_record`], the only way to hold an [`Authorized`] being this function.

use crate::access::{AccessCategory, AccessMatrix, BreakGlassGrant, CareRelationship, MatrixSide};
use crate::consent::{Consent, ConsentScope, ConsentState, consent_state, governing_consent};
use crate::facility::Facility;
use crate::ids::{FacilityId, GrantId, PersonId, UserId};
use crate::user::{Profession, User};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, OffsetDateTime};

/// Why the user is looking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessPurpose {
    /// Care inside this regional network (needs the regional scope).
    Care,
    /// A query from another regional network or a national service (needs the national scope).
    Federation,
    /// Registration and consent administration by a clerk or the network office (同意管理):
    /// demographics only, whatever the consent state, since managing consent is its purpose.
    Administration,
}

impl AccessPurpose {
    fn scope(self) -> ConsentScope {
        match self {
            Self::Care => ConsentScope::Regional,
            Self::Federation | Self::Administration => ConsentScope::National,
        }
    }
}

/// Everything `authorize()` looks at. The caller loads it; nothing here does I/O.
#[derive(Clone, Copy, Debug)]
pub struct AccessRequest<'a> {
    pub user: &'a User,
    pub facility: &'a Facility,
    pub person: PersonId,
    pub consents: &'a [Consent],
    pub care_relationship: Option<&'a CareRelationship>,
    pub grants: &'a [BreakGlassGrant],
    pub matrix: &'a AccessMatrix,
    pub categories: &'a [AccessCategory],
    pub purpose: AccessPurpose,
    pub now: OffsetDateTime,
    /// The local (JST) calendar date at `now`.
    pub today: Date,
}

/// The rule that denied a category (or a record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Rule 1: the resident has never consented.
    NoConsent,
    /// Rule 1: the resident withdrew consent.
    ConsentWithdrawn,
    /// Rule 1: the consent does not cover this scope (e.g. national sharing).
    ScopeNotCovered,
    /// Rule 1: the resident excluded this facility (or did not name it).
    FacilityExcluded,
    /// Rule 2: the facility does not (or no longer) take part in the network.
    FacilityNotParticipating,
    /// Rule 2: the user account is disabled.
    AccountInactive,
    /// Rule 3: no care relationship and no valid break-the-glass grant.
    NoCareRelationship,
    /// Rule 4: the matrix does not allow this category for the user's profession.
    ProfessionMatrix,
    /// Rule 4: the matrix does not allow this category for the user's facility kind.
    FacilityKindMatrix,
    /// Rule 5: the record predates the consent.
    BeforeConsentStart,
    /// Rule 5: the record carries a sensitivity flag the user may not see.
    Sensitive,
    /// Administration: only clerks, facility admins and the office, and demographics only.
    AdministrationOnly,
}

impl Rule {
    /// Which of the five rules this is.
    pub fn number(self) -> u8 {
        match self {
            Self::NoConsent | Self::ConsentWithdrawn | Self::ScopeNotCovered => 1,
            Self::FacilityExcluded => 1,
            Self::FacilityNotParticipating | Self::AccountInactive => 2,
            Self::NoCareRelationship => 3,
            Self::ProfessionMatrix | Self::FacilityKindMatrix => 4,
            Self::BeforeConsentStart | Self::Sensitive => 5,
            Self::AdministrationOnly => 2,
        }
    }

    /// A stable code for logs, the API and the audit log (contains no patient data).
    pub fn code(self) -> &'static str {
        match self {
            Self::NoConsent => "rule1-no-consent",
            Self::ConsentWithdrawn => "rule1-consent-withdrawn",
            Self::ScopeNotCovered => "rule1-scope-not-covered",
            Self::FacilityExcluded => "rule1-facility-excluded",
            Self::FacilityNotParticipating => "rule2-facility-not-participating",
            Self::AccountInactive => "rule2-account-inactive",
            Self::NoCareRelationship => "rule3-no-care-relationship",
            Self::ProfessionMatrix => "rule4-profession-matrix",
            Self::FacilityKindMatrix => "rule4-facility-kind-matrix",
            Self::BeforeConsentStart => "rule5-before-consent-start",
            Self::Sensitive => "rule5-sensitive",
            Self::AdministrationOnly => "rule2-administration-only",
        }
    }

    pub fn message_ja(self) -> &'static str {
        match self {
            Self::NoConsent => "この方からは情報共有の同意をいただいていません。",
            Self::ConsentWithdrawn => "この方は情報共有の同意を撤回されています。",
            Self::ScopeNotCovered => "この方の同意は、この範囲での共有を含みません。",
            Self::FacilityExcluded => "この方は貴施設との情報共有を希望されていません。",
            Self::FacilityNotParticipating => "貴施設は現在ネットワークに参加していません。",
            Self::AccountInactive => "このアカウントは無効です。",
            Self::NoCareRelationship => {
                "貴施設はこの方の診療・介護の関係がありません。救急・初診の場合は緊急時アクセスを申請してください。"
            }
            Self::ProfessionMatrix => "協議会の定めにより、この職種では閲覧できない情報です。",
            Self::FacilityKindMatrix => {
                "協議会の定めにより、この施設種別では閲覧できない情報です。"
            }
            Self::BeforeConsentStart => "同意日より前の情報は共有されません。",
            Self::Sensitive => "機微情報のため表示されません。",
            Self::AdministrationOnly => {
                "登録・同意管理の画面では基本情報のみを扱えます（事務・管理者のみ）。"
            }
        }
    }
}

/// How an allowed access came about; recorded in the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "method", content = "grant", rename_all = "kebab-case")]
pub enum AccessMethod {
    CareRelationship,
    BreakGlass(GrantId),
    /// The network office administering registrations (no care relationship needed).
    NetworkOffice,
}

impl AccessMethod {
    pub fn code(self) -> &'static str {
        match self {
            Self::CareRelationship => "care-relationship",
            Self::BreakGlass(_) => "break-glass",
            Self::NetworkOffice => "network-office",
        }
    }
}

/// The outcome for one category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "rule", rename_all = "kebab-case")]
pub enum Outcome {
    Allow,
    Deny(Rule),
    /// Allowed only after break-the-glass (rules 1, 2 and 4 hold; rule 3 does not).
    Elevate,
}

/// What `authorize()` decided, category by category, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub person: PersonId,
    pub outcomes: BTreeMap<AccessCategory, Outcome>,
    pub method: Option<AccessMethod>,
    pub consent_state: ConsentState,
    #[serde(skip)]
    authorized: Option<Authorized>,
}

impl Decision {
    /// The proof of access to hand to record reads, if any category is allowed.
    pub fn authorized(&self) -> Option<&Authorized> {
        self.authorized.as_ref()
    }

    pub fn is_allowed(&self, category: AccessCategory) -> bool {
        self.outcomes.get(&category) == Some(&Outcome::Allow)
    }

    /// The first rule that denied anything, for a whole-request denial message.
    pub fn first_denial(&self) -> Option<Rule> {
        self.outcomes.values().find_map(|o| match o {
            Outcome::Deny(r) => Some(*r),
            Outcome::Elevate => Some(Rule::NoCareRelationship),
            Outcome::Allow => None,
        })
    }

    /// True when break-the-glass would open something.
    pub fn can_elevate(&self) -> bool {
        self.outcomes.values().any(|o| *o == Outcome::Elevate)
    }
}

/// Proof that rules 1–4 allowed some categories of one person to one user at one moment.
/// Only [`authorize()`] makes one; every patient-data read takes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorized {
    user: UserId,
    facility: FacilityId,
    profession: Profession,
    person: PersonId,
    categories: BTreeSet<AccessCategory>,
    shared_from: Date,
    method: AccessMethod,
    decided_at: OffsetDateTime,
}

impl Authorized {
    pub fn user(&self) -> UserId {
        self.user
    }
    pub fn facility(&self) -> FacilityId {
        self.facility
    }
    pub fn profession(&self) -> Profession {
        self.profession
    }
    pub fn person(&self) -> PersonId {
        self.person
    }
    pub fn categories(&self) -> &BTreeSet<AccessCategory> {
        &self.categories
    }
    pub fn method(&self) -> AccessMethod {
        self.method
    }
    pub fn decided_at(&self) -> OffsetDateTime {
        self.decided_at
    }
    /// Records dated before this day are never shown (rule 5).
    pub fn shared_from(&self) -> Date {
        self.shared_from
    }

    /// Rule 5 for one record: its category is allowed, it is dated on or after consent start,
    /// and if flagged sensitive, the sensitive category is allowed too.
    pub fn permits_record(
        &self,
        category: AccessCategory,
        effective_on: Date,
        sensitive: bool,
    ) -> Result<(), Rule> {
        if !self.categories.contains(&category) {
            return Err(Rule::ProfessionMatrix);
        }
        if effective_on < self.shared_from {
            return Err(Rule::BeforeConsentStart);
        }
        if sensitive && !self.categories.contains(&AccessCategory::Sensitive) {
            return Err(Rule::Sensitive);
        }
        Ok(())
    }
}

/// The one authorization function. See the module documentation for the rules.
pub fn authorize(req: &AccessRequest<'_>) -> Decision {
    let deny_all = |rule: Rule, state: ConsentState| Decision {
        person: req.person,
        outcomes: req
            .categories
            .iter()
            .map(|c| (*c, Outcome::Deny(rule)))
            .collect(),
        method: None,
        consent_state: state,
        authorized: None,
    };
    let state = consent_state(req.consents, req.now);

    // Rule 2 first: a disabled account or a departed facility learns nothing about consent.
    if !req.user.active || req.user.facility_id != req.facility.id {
        return deny_all(Rule::AccountInactive, state);
    }
    if !req.facility.is_active_on(req.today) {
        return deny_all(Rule::FacilityNotParticipating, state);
    }

    if req.purpose == AccessPurpose::Administration {
        return authorize_administration(req, state);
    }

    // Rule 1.
    let scope = req.purpose.scope();
    let consents: Vec<Consent> = req
        .consents
        .iter()
        .filter(|c| c.person_id == req.person)
        .cloned()
        .collect();
    let Some(consent) = governing_consent(&consents, scope, req.now) else {
        let rule = if consents.is_empty() {
            Rule::NoConsent
        } else if consents.iter().any(|c| c.is_active_at(req.now)) {
            Rule::ScopeNotCovered
        } else {
            Rule::ConsentWithdrawn
        };
        return deny_all(rule, state);
    };
    if !consent.covers(scope, req.facility.id) {
        return deny_all(Rule::FacilityExcluded, state);
    }

    // Rule 3.
    let related = req
        .care_relationship
        .is_some_and(|r| r.person_id == req.person && r.facility_id == req.facility.id);
    let grant = req
        .grants
        .iter()
        .filter(|g| g.is_valid_for(req.user.id, req.person, req.now))
        .max_by_key(|g| g.expires_at);
    let method = if related {
        Some(AccessMethod::CareRelationship)
    } else {
        grant.map(|g| AccessMethod::BreakGlass(g.id))
    };

    // Rule 4, per category.
    let mut outcomes = BTreeMap::new();
    let mut allowed = BTreeSet::new();
    for &category in req.categories {
        let outcome = match req
            .matrix
            .allows(req.user.profession, req.facility.kind, category)
        {
            Err(MatrixSide::Profession) => Outcome::Deny(Rule::ProfessionMatrix),
            Err(MatrixSide::FacilityKind) => Outcome::Deny(Rule::FacilityKindMatrix),
            Ok(()) if method.is_some() => {
                allowed.insert(category);
                Outcome::Allow
            }
            Ok(()) => Outcome::Elevate,
        };
        outcomes.insert(category, outcome);
    }

    let authorized = match method {
        Some(method) if !allowed.is_empty() => Some(Authorized {
            user: req.user.id,
            facility: req.facility.id,
            profession: req.user.profession,
            person: req.person,
            categories: allowed,
            shared_from: consent.signed_on,
            method,
            decided_at: req.now,
        }),
        _ => None,
    };
    Decision {
        person: req.person,
        outcomes,
        method,
        consent_state: state,
        authorized,
    }
}

/// Registration and consent administration: rule 2, a clerical role, and a care relationship
/// (or the network office); demographics only; consent is not required.
fn authorize_administration(req: &AccessRequest<'_>, state: ConsentState) -> Decision {
    use crate::user::Role;
    let clerical = [Role::Clerk, Role::FacilityAdmin, Role::NetworkOffice]
        .iter()
        .any(|r| req.user.has_role(*r));
    let related = req
        .care_relationship
        .is_some_and(|r| r.person_id == req.person && r.facility_id == req.facility.id);
    let method = if related {
        Some(AccessMethod::CareRelationship)
    } else if req.user.has_role(Role::NetworkOffice) {
        Some(AccessMethod::NetworkOffice)
    } else {
        None
    };
    let mut outcomes = BTreeMap::new();
    let mut allowed = BTreeSet::new();
    for &category in req.categories {
        let outcome = match (clerical, method, category) {
            (false, _, _) => Outcome::Deny(Rule::AdministrationOnly),
            (true, _, c) if c != AccessCategory::Demographics => {
                Outcome::Deny(Rule::AdministrationOnly)
            }
            (true, None, _) => Outcome::Deny(Rule::NoCareRelationship),
            (true, Some(_), _) => {
                allowed.insert(category);
                Outcome::Allow
            }
        };
        outcomes.insert(category, outcome);
    }
    let authorized = match method {
        Some(method) if !allowed.is_empty() => Some(Authorized {
            user: req.user.id,
            facility: req.facility.id,
            profession: req.user.profession,
            person: req.person,
            categories: allowed,
            shared_from: Date::MIN,
            method,
            decided_at: req.now,
        }),
        _ => None,
    };
    Decision {
        person: req.person,
        outcomes,
        method,
        consent_state: state,
        authorized,
    }
}

#[cfg(test)]
mod tests;
