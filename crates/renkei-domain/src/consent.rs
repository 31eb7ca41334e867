//! Consent (同意): written or web opt-in, proxy registration (代理人), scopes and withdrawal.
//!
//! Only records dated on or after the consent's signed date are shared, and a withdrawal takes
//! effect at the instant it is recorded.

use crate::ids::{ConsentId, FacilityId, PersonId};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// How the consent form was signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentMethod {
    /// 書面（紙の同意書）
    Paper,
    /// Web 同意
    Web,
}

impl ConsentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paper => "paper",
            Self::Web => "web",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "paper" => Some(Self::Paper),
            "web" => Some(Self::Web),
            _ => None,
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Paper => "書面",
            Self::Web => "Web",
        }
    }
}

/// Where the resident agreed their records may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentScope {
    /// 地域内共有: participants of this regional network.
    Regional,
    /// 全国・他地域ネットワークとの共有 (federation).
    National,
}

/// 代理人: who signed for the resident, and how they are related (e.g. 長男, 配偶者, 成年後見人).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proxy {
    pub name: String,
    pub relationship: String,
}

/// 一括同意 or 個別同意.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum ConsentMode {
    /// 一括同意: every participant, minus the facilities the resident excluded.
    Blanket { excluded: Vec<FacilityId> },
    /// 個別同意: only the named facilities.
    FacilitySpecific { facilities: Vec<FacilityId> },
}

/// What a caller supplies to record a consent form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentForm {
    pub signed_on: Date,
    pub method: ConsentMethod,
    pub proxy: Option<Proxy>,
    pub national: bool,
    pub mode: ConsentMode,
}

/// One consent of a resident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub id: ConsentId,
    pub person_id: PersonId,
    /// 同意日 (as written on the form); sharing starts on this day.
    pub signed_on: Date,
    pub method: ConsentMethod,
    pub proxy: Option<Proxy>,
    pub scopes: Vec<ConsentScope>,
    pub mode: ConsentMode,
    pub registered_at: OffsetDateTime,
    pub registered_by: FacilityId,
    /// 同意撤回: from this instant nothing is shared.
    pub withdrawn_at: Option<OffsetDateTime>,
}

/// Why a consent could not be recorded or changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("the consent is dated in the future")]
    SignedInFuture,
    #[error("the consent was already withdrawn")]
    AlreadyWithdrawn,
    #[error("a proxy needs both a name and a relationship")]
    IncompleteProxy,
    #[error("a facility-specific consent names at least one facility")]
    NoFacilityNamed,
}

impl ConsentError {
    pub fn message_ja(&self) -> &'static str {
        match self {
            Self::SignedInFuture => {
                "同意日が未来の日付です。同意書に記載された日付を入力してください。"
            }
            Self::AlreadyWithdrawn => "この同意はすでに撤回されています。",
            Self::IncompleteProxy => "代理人の氏名と続柄の両方を入力してください。",
            Self::NoFacilityNamed => "個別同意では共有先の施設を1つ以上指定してください。",
        }
    }
}

impl Consent {
    /// Record a signed form. `today` is the local (JST) date at `now`.
    pub fn record(
        person_id: PersonId,
        form: ConsentForm,
        registered_by: FacilityId,
        today: Date,
        now: OffsetDateTime,
    ) -> Result<Self, ConsentError> {
        if form.signed_on > today {
            return Err(ConsentError::SignedInFuture);
        }
        let proxy = match form.proxy {
            Some(p) if p.name.trim().is_empty() && p.relationship.trim().is_empty() => None,
            Some(p) if p.name.trim().is_empty() || p.relationship.trim().is_empty() => {
                return Err(ConsentError::IncompleteProxy);
            }
            Some(p) => Some(Proxy {
                name: p.name.trim().to_owned(),
                relationship: p.relationship.trim().to_owned(),
            }),
            None => None,
        };
        if let ConsentMode::FacilitySpecific { facilities } = &form.mode
            && facilities.is_empty()
        {
            return Err(ConsentError::NoFacilityNamed);
        }
        let mut scopes = vec![ConsentScope::Regional];
        if form.national {
            scopes.push(ConsentScope::National);
        }
        Ok(Self {
            id: ConsentId::new(),
            person_id,
            signed_on: form.signed_on,
            method: form.method,
            proxy,
            scopes,
            mode: form.mode,
            registered_at: crate::to_micros(now),
            registered_by,
            withdrawn_at: None,
        })
    }

    /// 同意撤回. Takes effect at `now`; a second withdrawal is refused, not ignored, so the
    /// clerk learns the form was already processed.
    pub fn withdraw(&mut self, now: OffsetDateTime) -> Result<(), ConsentError> {
        if self.withdrawn_at.is_some() {
            return Err(ConsentError::AlreadyWithdrawn);
        }
        self.withdrawn_at = Some(crate::to_micros(now));
        Ok(())
    }

    pub fn is_active_at(&self, now: OffsetDateTime) -> bool {
        self.withdrawn_at.is_none_or(|w| now < w)
    }

    /// Rule 1: the scope covers the access and the facility is not excluded.
    pub fn covers(&self, scope: ConsentScope, facility: FacilityId) -> bool {
        self.scopes.contains(&scope)
            && match &self.mode {
                ConsentMode::Blanket { excluded } => !excluded.contains(&facility),
                ConsentMode::FacilitySpecific { facilities } => facilities.contains(&facility),
            }
    }

    /// The word stored in the audit log for this consent's state at `now`.
    pub fn state_at(&self, now: OffsetDateTime) -> ConsentState {
        if self.is_active_at(now) {
            ConsentState::Active
        } else {
            ConsentState::Withdrawn
        }
    }
}

/// The consent state recorded with each access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentState {
    Active,
    Withdrawn,
    None,
}

impl ConsentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Withdrawn => "withdrawn",
            Self::None => "none",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Active => "同意あり",
            Self::Withdrawn => "撤回済み",
            Self::None => "同意なし",
        }
    }
}

/// The consent that governs access at `now`: the active one covering the scope, if any.
pub fn governing_consent(
    consents: &[Consent],
    scope: ConsentScope,
    now: OffsetDateTime,
) -> Option<&Consent> {
    consents
        .iter()
        .filter(|c| c.is_active_at(now) && c.scopes.contains(&scope))
        .max_by_key(|c| c.registered_at)
}

/// Summarise a resident's consents for display and audit.
pub fn consent_state(consents: &[Consent], now: OffsetDateTime) -> ConsentState {
    if consents.iter().any(|c| c.is_active_at(now)) {
        ConsentState::Active
    } else if consents.is_empty() {
        ConsentState::None
    } else {
        ConsentState::Withdrawn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn form(signed_on: Date) -> ConsentForm {
        ConsentForm {
            signed_on,
            method: ConsentMethod::Paper,
            proxy: None,
            national: false,
            mode: ConsentMode::Blanket { excluded: vec![] },
        }
    }

    #[test]
    fn consent_dated_in_the_future_is_refused() {
        let r = Consent::record(
            PersonId::new(),
            form(date!(2026 - 12 - 01)),
            FacilityId::new(),
            date!(2026 - 11 - 22),
            datetime!(2026-11-22 09:00 UTC),
        );
        assert_eq!(r, Err(ConsentError::SignedInFuture));
    }

    #[test]
    fn withdrawing_twice_is_refused() {
        let mut c = Consent::record(
            PersonId::new(),
            form(date!(2026 - 11 - 01)),
            FacilityId::new(),
            date!(2026 - 11 - 22),
            datetime!(2026-11-22 09:00 UTC),
        )
        .unwrap();
        c.withdraw(datetime!(2026-11-22 10:00 UTC)).unwrap();
        assert!(!c.is_active_at(datetime!(2026-11-22 10:00 UTC)));
        assert!(c.is_active_at(datetime!(2026-11-22 09:59 UTC)));
        assert_eq!(
            c.withdraw(datetime!(2026-11-22 11:00 UTC)),
            Err(ConsentError::AlreadyWithdrawn)
        );
    }

    #[test]
    fn proxy_needs_name_and_relationship() {
        let mut f = form(date!(2026 - 11 - 01));
        f.proxy = Some(Proxy {
            name: "山田花子".into(),
            relationship: " ".into(),
        });
        let r = Consent::record(
            PersonId::new(),
            f,
            FacilityId::new(),
            date!(2026 - 11 - 22),
            datetime!(2026-11-22 09:00 UTC),
        );
        assert_eq!(r, Err(ConsentError::IncompleteProxy));
    }

    #[test]
    fn excluded_facility_is_not_covered() {
        let excluded = FacilityId::new();
        let mut f = form(date!(2026 - 11 - 01));
        f.mode = ConsentMode::Blanket {
            excluded: vec![excluded],
        };
        let c = Consent::record(
            PersonId::new(),
            f,
            FacilityId::new(),
            date!(2026 - 11 - 22),
            datetime!(2026-11-22 09:00 UTC),
        )
        .unwrap();
        assert!(!c.covers(ConsentScope::Regional, excluded));
        assert!(c.covers(ConsentScope::Regional, FacilityId::new()));
        assert!(!c.covers(ConsentScope::National, FacilityId::new()));
    }
}
