//! Renkei test kit: a deterministic synthetic demo region for demos, tests and load checks.
//!
//! [`generate()`] builds an invented town (なぎさ市, Kanagawa) with about 45 participating
//! facilities, their staff accounts and any number of residents with consent forms and local
//! patient numbers. Everything is plain data: the caller assigns ids and stores it.
//!
//! * The facilities and users are the same for every seed, so the demo accounts are easy to
//!   remember: at the core hospital (index 0) `dr.sato`, `ns.suzuki`, `office` (network office),
//!   `clerk` and `admin`; `dr.tanaka` at the first medical clinic, `ph.ito` at the first
//!   pharmacy, `cw.yamada` at the first care facility and `cm.kato` at the first
//!   care-management office. Every facility has an `admin`.
//! * The residents depend on the seed only: the same seed, count and `today` give the same
//!   region.
//!
//! [`clinical::clinical_history`] adds what the facilities' systems would send about those
//! residents (SS-MIX2 files and JP-CLINS FHIR documents), and [`clinical::bench_messages`] a
//! message mix for the ingest benchmark. [`attachments`] makes the files some documents carry
//! (a placeholder wound photo, a one-page PDF) and, for tests, a photo with a GPS position.
//!
//! All names are random combinations of common surnames and given names; none is meant to be a
//! real person, and the facility codes use district number 00.
#![forbid(unsafe_code)]

pub mod attachments;
pub mod clinical;
mod layout;
mod names;
mod residents;

use rand::SeedableRng;
use rand::rngs::StdRng;
use renkei_domain::consent::ConsentForm;
use renkei_domain::{
    FacilityCode, FacilityKind, LocalPatientNumber, LoginName, Profession, Role, Sex,
};
use time::Date;

/// A generated region: facilities, staff and residents. Indices into `facilities` are used to
/// refer to facilities, since their ids are assigned when they are stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoRegion {
    pub facilities: Vec<DemoFacility>,
    pub users: Vec<DemoUser>,
    pub residents: Vec<DemoResident>,
}

/// A participating facility.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoFacility {
    pub code: FacilityCode,
    pub name: String,
    pub kind: FacilityKind,
    /// 参加日, between 2019 and 2024.
    pub joined_on: Date,
}

/// A staff account at the facility with code `facility_code`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoUser {
    pub facility_code: FacilityCode,
    /// Unique within the facility.
    pub login: LoginName,
    /// Japanese name, family name first, e.g. 「佐藤　一郎」.
    pub display_name: String,
    pub profession: Profession,
    pub roles: Vec<Role>,
}

/// A resident who signed a consent form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoResident {
    /// e.g. 「佐藤　花子」 (full-width space); `None` for residents known by kana only.
    pub name_kanji: Option<String>,
    /// e.g. 「サトウ　ハナコ」 (full-width space).
    pub name_kana: String,
    pub sex: Sex,
    pub birth_date: Date,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// index into facilities: the facility whose clerk registered the consent
    pub registered_at_facility: usize,
    /// (index into facilities, local patient number) — the registering facility first; 1–4 facilities
    pub local_ids: Vec<(usize, LocalPatientNumber)>,
    /// Signed on or after 2022-01-01 (and the registering facility's joining day), never after
    /// `today`; always 一括同意 with no exclusions.
    pub consent: ConsentForm,
    /// Some(days after signing) for residents who later withdrew (about 3%)
    pub withdrawn_after_days: Option<i64>,
}

/// Generate the demo region with `residents` residents, as of `today`.
///
/// Deterministic: the same arguments always give the same region.
pub fn generate(seed: u64, residents: usize, today: Date) -> DemoRegion {
    let facilities = layout::facilities();
    let users = layout::users(&facilities);
    let mut rng = StdRng::seed_from_u64(seed);
    let residents = residents::residents(&mut rng, &facilities, residents, today);
    DemoRegion {
        facilities,
        users,
        residents,
    }
}

#[cfg(test)]
mod tests;
