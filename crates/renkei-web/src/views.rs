//! Template structs (askama) and their rendering.

use askama::Template;
use axum::response::Html;
use renkei_app::Actor;
use renkei_domain::Role;

/// The header: who is signed in and the CSRF token for the logout form and htmx.
pub(crate) struct Nav {
    pub who: Option<String>,
    pub csrf: Option<String>,
    pub clerical: bool,
    pub user_admin: bool,
    pub office: bool,
    pub clinical: bool,
}

impl Nav {
    pub(crate) fn anonymous() -> Self {
        Self {
            who: None,
            csrf: None,
            clerical: false,
            user_admin: false,
            office: false,
            clinical: false,
        }
    }

    pub(crate) fn for_actor(actor: &Actor, csrf: &str) -> Self {
        Self {
            who: Some(format!(
                "{}　{}（{}）",
                actor.facility.name,
                actor.user.display_name,
                actor.user.profession.label_ja()
            )),
            csrf: Some(csrf.to_owned()),
            clerical: [Role::Clerk, Role::FacilityAdmin, Role::NetworkOffice]
                .iter()
                .any(|r| actor.user.has_role(*r)),
            user_admin: actor.user.has_role(Role::FacilityAdmin)
                || actor.user.has_role(Role::NetworkOffice),
            office: actor.user.has_role(Role::NetworkOffice),
            clinical: actor.user.has_role(Role::Clinical),
        }
    }
}

pub(crate) fn render<T: Template>(t: &T) -> Html<String> {
    match t.render() {
        Ok(s) => Html(s),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            Html("<!doctype html><title>エラー</title><p>表示できませんでした。</p>".to_owned())
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub nav: Nav,
    pub heading: String,
    pub message: String,
    pub back: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub nav: Nav,
    pub csrf: String,
    pub error: Option<String>,
    pub notice: Option<String>,
    pub facility_code: String,
    pub login: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub nav: Nav,
    pub facility_name: String,
    pub facility_kind: &'static str,
    pub user_name: String,
    pub profession: &'static str,
    pub roles: String,
    pub clerical: bool,
}

#[derive(Template)]
#[template(path = "totp_enrol.html")]
pub(crate) struct TotpEnrolPage {
    pub nav: Nav,
    pub csrf: String,
    pub secret: String,
    pub qr_svg: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub(crate) struct RecoveryCodesPage {
    pub nav: Nav,
    pub codes: Vec<String>,
}

pub(crate) struct ResidentLineView {
    pub id: String,
    pub local_id: String,
    pub name_kanji: String,
    pub name_kana: String,
    pub sex: &'static str,
    pub birth_date: String,
    pub consent_active: bool,
}

#[derive(Template)]
#[template(path = "residents.html")]
pub(crate) struct ResidentsPage {
    pub nav: Nav,
    pub facility_name: String,
    pub lines: Vec<ResidentLineView>,
    pub page: i64,
}

/// The registration form's fields, echoed back after an error so nothing typed is lost.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub(crate) struct RegisterFields {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub local_id: String,
    #[serde(default)]
    pub name_kanji: String,
    #[serde(default)]
    pub name_kana: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub consent_signed_on: String,
    #[serde(default)]
    pub consent_method: String,
    #[serde(default)]
    pub proxy_name: String,
    #[serde(default)]
    pub proxy_relationship: String,
    #[serde(default)]
    pub national: Option<String>,
    #[serde(default)]
    pub consent_mode: String,
    #[serde(default)]
    pub consent_facilities: String,
}

impl RegisterFields {
    pub(crate) fn to_form(&self) -> renkei_app::residents::RegistrationForm {
        renkei_app::residents::RegistrationForm {
            local_id: self.local_id.clone(),
            name_kanji: self.name_kanji.clone(),
            name_kana: self.name_kana.clone(),
            sex: self.sex.clone(),
            birth_date: self.birth_date.clone(),
            postal_code: self.postal_code.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
            consent: self.to_consent_input(),
        }
    }

    pub(crate) fn to_consent_input(&self) -> renkei_app::residents::ConsentInput {
        renkei_app::residents::ConsentInput {
            consent_signed_on: self.consent_signed_on.clone(),
            consent_method: self.consent_method.clone(),
            proxy_name: self.proxy_name.clone(),
            proxy_relationship: self.proxy_relationship.clone(),
            national: self.national.as_deref() == Some("true"),
            consent_mode: self.consent_mode.clone(),
            consent_facilities: self.consent_facilities.clone(),
        }
    }
}

pub(crate) struct RegisterView {
    pub local_id: String,
    pub name_kanji: String,
    pub name_kana: String,
    pub sex: String,
    pub birth_date: String,
    pub postal_code: String,
    pub address: String,
    pub phone: String,
    pub consent_signed_on: String,
    pub consent_method: String,
    pub proxy_name: String,
    pub proxy_relationship: String,
    pub national: bool,
    pub consent_mode: String,
    pub consent_facilities: String,
}

impl From<&RegisterFields> for RegisterView {
    fn from(f: &RegisterFields) -> Self {
        Self {
            local_id: f.local_id.clone(),
            name_kanji: f.name_kanji.clone(),
            name_kana: f.name_kana.clone(),
            sex: f.sex.clone(),
            birth_date: f.birth_date.clone(),
            postal_code: f.postal_code.clone(),
            address: f.address.clone(),
            phone: f.phone.clone(),
            consent_signed_on: f.consent_signed_on.clone(),
            consent_method: f.consent_method.clone(),
            proxy_name: f.proxy_name.clone(),
            proxy_relationship: f.proxy_relationship.clone(),
            national: f.national.as_deref() == Some("true"),
            consent_mode: f.consent_mode.clone(),
            consent_facilities: f.consent_facilities.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "resident_new.html")]
pub(crate) struct RegisterPage {
    pub nav: Nav,
    pub csrf: String,
    pub error: Option<String>,
    pub f: RegisterView,
}

pub(crate) struct ConsentView {
    pub id: String,
    pub signed_on: String,
    pub method: &'static str,
    pub proxy: String,
    pub scope: &'static str,
    pub mode: String,
    pub withdrawn: Option<String>,
}

#[derive(Template)]
#[template(path = "resident.html")]
pub(crate) struct ResidentPage {
    pub nav: Nav,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub person_id: String,
    pub name: String,
    pub name_kana: String,
    pub sex: &'static str,
    pub birth_date: String,
    pub postal_code: String,
    pub address: String,
    pub phone: String,
    pub consent_state: &'static str,
    pub consent_active: bool,
    pub today: String,
    pub consents: Vec<ConsentView>,
    pub local_ids: Vec<(String, String, String)>,
}

pub(crate) struct UserLine {
    pub login: String,
    pub display_name: String,
    pub profession: &'static str,
    pub roles: String,
    pub active: bool,
    pub totp: bool,
    pub locked: bool,
}

/// A selectable enumeration value: (kebab-case name, Japanese label).
pub(crate) type Choice = (&'static str, &'static str);

#[derive(Template)]
#[template(path = "admin_users.html")]
pub(crate) struct AdminUsersPage {
    pub nav: Nav,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub facility_code: String,
    pub facility_name: String,
    pub users: Vec<UserLine>,
    pub professions: Vec<Choice>,
    pub office: bool,
}

#[derive(Template)]
#[template(path = "admin_secret.html")]
pub(crate) struct AdminSecretPage {
    pub nav: Nav,
    pub heading: String,
    pub facility_code: String,
    pub login: String,
    pub password: String,
}

pub(crate) struct FacilityLine {
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub joined_on: String,
    pub withdrawn_on: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_facilities.html")]
pub(crate) struct AdminFacilitiesPage {
    pub nav: Nav,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub facilities: Vec<FacilityLine>,
    pub kinds: Vec<Choice>,
    pub today: String,
}

#[derive(Template)]
#[template(path = "password.html")]
pub(crate) struct PasswordPage {
    pub nav: Nav,
    pub csrf: String,
    pub forced: bool,
    pub error: Option<String>,
    pub min_chars: usize,
}

pub(crate) struct QuarantineLine {
    pub id: String,
    pub received_at: String,
    pub facility: String,
    pub channel: String,
    pub source_name: String,
    pub bytes: usize,
    pub reason_ja: &'static str,
    pub reason_code: String,
    pub detail: String,
    pub attempts: i32,
}

#[derive(Template)]
#[template(path = "quarantine.html")]
pub(crate) struct QuarantinePage {
    pub nav: Nav,
    pub csrf: String,
    pub notice: Option<String>,
    pub facility_name: Option<String>,
    pub office: bool,
    pub items: Vec<QuarantineLine>,
}

pub(crate) struct HitView {
    pub id: String,
    pub name: String,
    pub kana: String,
    pub sex: &'static str,
    pub birth_date: String,
    pub local_id: String,
    pub needs_break_glass: bool,
}

#[derive(Template)]
#[template(path = "patients.html")]
pub(crate) struct PatientsPage {
    pub nav: Nav,
    pub q: String,
    pub birth_date: String,
    pub searched: bool,
    pub hits: Vec<HitView>,
}

/// Who the page is about: name, sex, birth date and age.
pub(crate) struct PatientHead {
    pub name: String,
    pub kana: String,
    pub sex: &'static str,
    pub birth_date: String,
    pub age: i32,
}

#[derive(Template)]
#[template(path = "summary.html")]
pub(crate) struct SummaryPage {
    pub nav: Nav,
    pub tab: &'static str,
    pub person_id: String,
    /// Absent when the matrix hides demographics from this user.
    pub head: Option<PatientHead>,
    pub consent: &'static str,
    pub break_glass: bool,
    pub allergies_shown: bool,
    pub allergies: Vec<renkei_app::view::AllergyItem>,
    pub warnings: Vec<String>,
    pub problems_shown: bool,
    pub problems: Vec<renkei_app::view::ProblemItem>,
    pub medicines_shown: bool,
    pub medicines: Vec<MedicineRow>,
    pub labs_shown: bool,
    pub labs: Vec<renkei_app::view::LabItem>,
    pub encounters_shown: bool,
    pub encounters: Vec<renkei_app::view::EncounterItem>,
    pub documents_shown: bool,
    pub documents: Vec<(String, String, String, String)>,
    pub facilities: Vec<renkei_app::view::FacilityShare>,
}

pub(crate) struct MedicineRow {
    pub name: String,
    pub dosage: String,
    pub days: String,
    pub prescribed_on: String,
    pub facility: String,
}

#[derive(Template)]
#[template(path = "break_glass.html")]
pub(crate) struct BreakGlassPage {
    pub nav: Nav,
    pub csrf: String,
    pub person_id: String,
    pub hours: i64,
    pub error: Option<String>,
}

pub(crate) struct EntryView {
    pub record_id: String,
    pub category: &'static str,
    pub category_ja: &'static str,
    pub title: String,
    pub detail: Option<String>,
    pub facility: String,
    pub is_document: bool,
    /// How many files the record carries (添付ファイル).
    pub attachments: usize,
}

#[derive(Template)]
#[template(path = "timeline.html")]
pub(crate) struct TimelinePageView {
    pub nav: Nav,
    pub tab: &'static str,
    pub person_id: String,
    pub name: String,
    pub categories: Vec<Choice>,
    pub category: String,
    pub facilities: Vec<(String, String)>,
    pub facility: String,
    pub from: String,
    pub to: String,
    pub total: usize,
    pub days: Vec<(String, Vec<EntryView>)>,
    pub page: usize,
    pub has_more: bool,
    pub prev_link: String,
    pub next_link: String,
}

pub(crate) struct SeriesView {
    pub name: String,
    pub unit: Option<String>,
    pub range: String,
    pub cells: Vec<(String, bool)>,
    pub chart: Option<String>,
}

#[derive(Template)]
#[template(path = "labs.html")]
pub(crate) struct LabsPage {
    pub nav: Nav,
    pub tab: &'static str,
    pub person_id: String,
    pub name: String,
    pub dates: Vec<String>,
    pub series: Vec<SeriesView>,
}

#[derive(Template)]
#[template(path = "document.html")]
pub(crate) struct DocumentPage {
    pub nav: Nav,
    pub person_id: String,
    pub title: String,
    pub date: String,
    pub facility: String,
    pub author: Option<String>,
    pub sections: Vec<SectionView>,
    /// Files no section names.
    pub attachments: Vec<FileView>,
}

pub(crate) struct SectionView {
    pub title: String,
    pub text: String,
    pub files: Vec<FileView>,
}

/// One attached file on a document page.
pub(crate) struct FileView {
    /// The number shown (from 1).
    pub number: usize,
    /// Its address (`/patients/{id}/documents/{record}/attachments/{n}`), for an `<img>`, a
    /// frame or a download link; `None` when the record does not carry it.
    pub href: Option<String>,
    /// `image`, `pdf`, `download`, `external` or `unavailable`.
    pub kind: &'static str,
    pub title: String,
    pub content_type: String,
    pub size: String,
    /// Where a file kept outside the record is (shown as text, never fetched or linked).
    pub url: String,
}

/// One row of an access list: when, facility, user, profession, action, items, method, outcome.
pub(crate) type AccessRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

#[derive(Template)]
#[template(path = "access_list.html")]
pub(crate) struct AccessListPage {
    pub nav: Nav,
    pub heading: String,
    pub lines: Vec<AccessRow>,
}

pub(crate) struct MpiItemView {
    pub id: String,
    pub score: String,
    pub rows: Vec<(&'static str, String, String)>,
    pub evidence: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "mpi.html")]
pub(crate) struct MpiPage {
    pub nav: Nav,
    pub csrf: String,
    pub notice: Option<String>,
    pub office: bool,
    pub items: Vec<MpiItemView>,
    /// When, survivor, merged, state, can unmerge, merge id.
    pub merges: Vec<(String, String, String, &'static str, bool, String)>,
}
