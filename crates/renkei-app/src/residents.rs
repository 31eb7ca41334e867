//! Residents (参加住民): registration from the consent form, the registration record, and
//! withdrawal of consent. These are administration screens: they go through `authorize()` with
//! [`AccessPurpose::Administration`] (demographics only) and write one audit entry per view.

use crate::{Actor, App, AppError, today_jst};
use renkei_domain::access::CareSource;
use renkei_domain::audit::{AuditAction, AuditOutcome};
use renkei_domain::authorize::{AccessPurpose, AccessRequest, authorize};
use renkei_domain::consent::{ConsentForm, ConsentMethod, ConsentMode, Proxy, consent_state};
use renkei_domain::{
    AccessCategory, CareRelationship, Consent, ConsentId, Facility, LinkMethod, LocalPatient,
    LocalPatientNumber, Person, PersonId, Role, Sex,
};
use renkei_store::NewResident;
use time::{Date, OffsetDateTime};

const CLERICAL: [Role; 3] = [Role::Clerk, Role::FacilityAdmin, Role::NetworkOffice];

/// The registration form as typed by a clerk (web form, JSON API): raw strings, parsed here.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct RegistrationForm {
    pub local_id: String,
    #[serde(default)]
    pub name_kanji: String,
    pub name_kana: String,
    pub sex: String,
    pub birth_date: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    /// The consent form's details (the same fields as a later consent).
    #[serde(flatten)]
    pub consent: ConsentInput,
}

/// A consent form's details: at registration, or later for a registered resident (e.g. after
/// a withdrawal).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ConsentInput {
    pub consent_signed_on: String,
    pub consent_method: String,
    #[serde(default)]
    pub proxy_name: String,
    #[serde(default)]
    pub proxy_relationship: String,
    #[serde(default)]
    pub national: bool,
    /// `blanket` (一括同意, default) or `facility-specific` (個別同意).
    #[serde(default)]
    pub consent_mode: String,
    /// Facility codes: excluded ones for a blanket consent, the named ones for a
    /// facility-specific consent (separated by spaces, commas or new lines).
    #[serde(default)]
    pub consent_facilities: String,
}

impl ConsentInput {
    /// The consent this form records for `person`, registered at `facility`.
    fn parse(
        &self,
        person: PersonId,
        facility: &Facility,
        mode: ConsentMode,
        birth_date: Date,
        now: OffsetDateTime,
    ) -> Result<Consent, AppError> {
        let signed_on = parse_date(&self.consent_signed_on).ok_or_else(|| {
            invalid(
                "consent_signed_on",
                "同意日を正しく入力してください（例: 2026-11-22）。",
            )
        })?;
        if signed_on < birth_date {
            return Err(invalid("consent_signed_on", "同意日が生年月日より前です。"));
        }
        let method = ConsentMethod::parse(self.consent_method.trim()).ok_or_else(|| {
            invalid(
                "consent_method",
                "同意の方法（書面・Web）を選んでください。",
            )
        })?;
        let proxy = (!self.proxy_name.trim().is_empty()
            || !self.proxy_relationship.trim().is_empty())
        .then(|| Proxy {
            name: self.proxy_name.clone(),
            relationship: self.proxy_relationship.clone(),
        });
        Ok(Consent::record(
            person,
            ConsentForm {
                signed_on,
                method,
                proxy,
                national: self.national,
                mode,
            },
            facility.id,
            today_jst(now),
            renkei_domain::to_micros(now),
        )?)
    }
}

fn invalid(field: &'static str, message_ja: &'static str) -> AppError {
    AppError::Invalid { field, message_ja }
}

fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let s = s.trim().replace('/', "-");
    Date::parse(&s, &fmt).ok()
}

/// Kana names: katakana with a space between family and given name; hiragana is converted.
fn parse_kana(s: &str) -> Option<String> {
    let s: String = s
        .trim()
        .chars()
        .map(|c| match c {
            'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect();
    let ok = !s.is_empty()
        && s.chars().count() <= 60
        && s.chars()
            .all(|c| matches!(c, 'ァ'..='ヶ' | 'ー' | ' ' | '・'));
    ok.then_some(s)
}

fn opt(s: &str, max: usize) -> Result<Option<String>, ()> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(());
    }
    Ok((!s.is_empty()).then(|| s.to_owned()))
}

impl RegistrationForm {
    fn parse(
        &self,
        person: PersonId,
        facility: &Facility,
        mode: ConsentMode,
        now: OffsetDateTime,
    ) -> Result<NewResident, AppError> {
        let today = today_jst(now);
        let local_id = LocalPatientNumber::parse(&self.local_id).map_err(|_| {
            invalid(
                "local_id",
                "患者IDは英数字とハイフンの20文字以内で入力してください。",
            )
        })?;
        let name_kana = parse_kana(&self.name_kana).ok_or_else(|| {
            invalid(
                "name_kana",
                "カナ氏名をカタカナで入力してください（姓と名の間に空白）。",
            )
        })?;
        let name_kanji = opt(&self.name_kanji, 60)
            .map_err(|_| invalid("name_kanji", "氏名は60文字以内で入力してください。"))?;
        let sex = match self.sex.trim() {
            "male" | "1" => Sex::Male,
            "female" | "2" => Sex::Female,
            "unknown" | "9" => Sex::Unknown,
            _ => return Err(invalid("sex", "性別を選んでください。")),
        };
        let birth_date = parse_date(&self.birth_date)
            .filter(|d| *d <= today && d.year() >= 1880)
            .ok_or_else(|| {
                invalid(
                    "birth_date",
                    "生年月日を正しく入力してください（例: 1945-04-01）。",
                )
            })?;
        let postal_code = opt(&self.postal_code, 8)
            .ok()
            .flatten()
            .map(|p| p.replace('－', "-"))
            .filter(|p| {
                let digits: String = p.chars().filter(char::is_ascii_digit).collect();
                digits.len() == 7 && p.chars().all(|c| c.is_ascii_digit() || c == '-')
            });
        if !self.postal_code.trim().is_empty() && postal_code.is_none() {
            return Err(invalid(
                "postal_code",
                "郵便番号は7桁の数字で入力してください（例: 240-0001）。",
            ));
        }
        let address = opt(&self.address, 200)
            .map_err(|_| invalid("address", "住所は200文字以内で入力してください。"))?;
        let phone = opt(&self.phone, 20)
            .map_err(|_| invalid("phone", "電話番号は20文字以内で入力してください。"))?;
        let consent = self
            .consent
            .parse(person, facility, mode, birth_date, now)?;
        let now = renkei_domain::to_micros(now);
        Ok(NewResident {
            person: Person {
                id: person,
                name_kanji,
                name_kana,
                sex,
                birth_date,
                postal_code,
                address,
                phone,
                created_at: now,
            },
            local: Some(LocalPatient {
                person_id: person,
                facility_id: facility.id,
                local_id,
                method: LinkMethod::Registered,
                linked_at: now,
            }),
            consent,
            relationship: CareRelationship {
                person_id: person,
                facility_id: facility.id,
                since: now,
                source: CareSource::Registration,
            },
        })
    }
}

/// The registration record a clerk sees.
#[derive(Clone, Debug)]
pub struct ResidentRecord {
    pub person: Person,
    pub consents: Vec<Consent>,
    pub local_ids: Vec<(Facility, LocalPatient)>,
    pub consent_state: renkei_domain::consent::ConsentState,
}

/// One line of the facility's resident list.
#[derive(Clone, Debug)]
pub struct ResidentLine {
    pub person: Person,
    pub local_id: String,
    pub consent_active: bool,
}

impl App {
    /// 住民登録: record the consent form and the facility's patient ID, all or nothing.
    pub async fn register_resident(
        &self,
        actor: &Actor,
        form: &RegistrationForm,
    ) -> Result<PersonId, AppError> {
        actor.require_any(&CLERICAL)?;
        let now = OffsetDateTime::now_utc();
        let person = PersonId::new();
        let mode = self
            .consent_mode(
                &form.consent.consent_mode,
                &form.consent.consent_facilities,
                &actor.facility,
            )
            .await?;
        let resident = form.parse(person, &actor.facility, mode, now)?;
        let mut ev = actor.event(AuditAction::RegisterResident, now);
        ev.person_id = Some(person);
        ev.items = vec!["demographics".into(), "consent".into(), "local-id".into()];
        ev.consent_state = Some("active".into());
        let entry = self.store.register_resident(&resident, ev).await?;
        self.after_append(entry.seq).await;
        // 名寄せ: the same resident may already be in the network through another facility.
        // Matching never fails a registration: the form is recorded either way.
        match self.match_new_person(person).await {
            Ok(Some(m)) if m.outcome == "link" => Ok(m.candidate),
            Ok(_) => Ok(person),
            Err(e) => {
                tracing::warn!(error = %e, "名寄せ after registration failed");
                Ok(person)
            }
        }
    }

    /// 一括同意 minus the listed facilities, or 個別同意 to the listed facilities (the
    /// registering facility always included).
    async fn consent_mode(
        &self,
        mode: &str,
        codes: &str,
        registering: &Facility,
    ) -> Result<ConsentMode, AppError> {
        let mut ids = Vec::new();
        for code in codes
            .split(|c: char| c.is_whitespace() || c == ',' || c == '、')
            .filter(|c| !c.is_empty())
        {
            let f = self.store.facility_by_code(code).await?.ok_or_else(|| {
                invalid(
                    "consent_facilities",
                    "同意の対象として入力された施設コードに、参加施設でないものがあります。",
                )
            })?;
            if !ids.contains(&f.id) {
                ids.push(f.id);
            }
        }
        match mode.trim() {
            "" | "blanket" => {
                if ids.contains(&registering.id) {
                    return Err(invalid(
                        "consent_facilities",
                        "登録する施設自身を共有除外にはできません。",
                    ));
                }
                Ok(ConsentMode::Blanket { excluded: ids })
            }
            "facility-specific" => {
                if !ids.contains(&registering.id) {
                    ids.insert(0, registering.id);
                }
                Ok(ConsentMode::FacilitySpecific { facilities: ids })
            }
            _ => Err(invalid(
                "consent_mode",
                "同意の種類（一括同意・個別同意）を選んでください。",
            )),
        }
    }

    /// A further consent for a registered resident (e.g. the resident consents again after
    /// withdrawing). Sharing restarts from the new consent's date.
    pub async fn record_consent(
        &self,
        actor: &Actor,
        person: PersonId,
        input: &ConsentInput,
    ) -> Result<ConsentId, AppError> {
        actor.require_any(&CLERICAL)?;
        let now = OffsetDateTime::now_utc();
        let (_, consents) = self
            .administration_access(actor, person, AuditAction::RecordConsent, now)
            .await?;
        if consents.iter().any(|c| c.is_active_at(now)) {
            return Err(invalid(
                "consent",
                "この方にはすでに有効な同意があります。内容を変える場合は、撤回してから新しい同意を登録してください。",
            ));
        }
        let person_row = self
            .store
            .person(person)
            .await?
            .ok_or(AppError::NotFound("person"))?;
        let mode = self
            .consent_mode(
                &input.consent_mode,
                &input.consent_facilities,
                &actor.facility,
            )
            .await?;
        let consent = input.parse(person, &actor.facility, mode, person_row.birth_date, now)?;
        let mut ev = actor.event(AuditAction::RecordConsent, now);
        ev.person_id = Some(person);
        ev.items = vec![format!("consent:{}", consent.id)];
        ev.consent_state = Some("active".into());
        let entry = self.store.record_consent(&consent, ev).await?;
        self.after_append(entry.seq).await;
        Ok(consent.id)
    }

    /// Authorize an administration access to one person; a denial writes its audit entry
    /// (as `action`) and returns the rule.
    async fn administration_access(
        &self,
        actor: &Actor,
        person: PersonId,
        action: AuditAction,
        now: OffsetDateTime,
    ) -> Result<(renkei_domain::Decision, Vec<Consent>), AppError> {
        let (decision, consents) = self.authorize_administration(actor, person, now).await?;
        if decision.authorized().is_none() {
            let rule = decision
                .first_denial()
                .unwrap_or(renkei_domain::authorize::Rule::NoCareRelationship);
            let mut ev = actor.event(action, now);
            ev.person_id = Some(person);
            ev.consent_state = Some(decision.consent_state.as_str().into());
            ev.outcome = AuditOutcome::Denied(rule.code().into());
            self.audit(ev).await?;
            return Err(AppError::Denied(rule));
        }
        Ok((decision, consents))
    }

    /// Authorize an administration read of one person (demographics), or audit the denial.
    async fn authorize_administration(
        &self,
        actor: &Actor,
        person: PersonId,
        now: OffsetDateTime,
    ) -> Result<(renkei_domain::Decision, Vec<Consent>), AppError> {
        if self.store.person(person).await?.is_none() {
            return Err(AppError::NotFound("person"));
        }
        let consents = self.store.consents(person).await?;
        let relationship = self
            .store
            .care_relationship(person, actor.facility.id)
            .await?;
        let matrix = self.matrix().await?;
        let decision = authorize(&AccessRequest {
            user: &actor.user,
            facility: &actor.facility,
            person,
            consents: &consents,
            care_relationship: relationship.as_ref(),
            grants: &[],
            matrix: &matrix,
            categories: &[AccessCategory::Demographics],
            purpose: AccessPurpose::Administration,
            now,
            today: today_jst(now),
        });
        Ok((decision, consents))
    }

    /// The registration record of one resident: demographics, consents and local IDs.
    pub async fn resident_record(
        &self,
        actor: &Actor,
        person: PersonId,
    ) -> Result<ResidentRecord, AppError> {
        let now = OffsetDateTime::now_utc();
        let (decision, consents) = self
            .administration_access(actor, person, AuditAction::View, now)
            .await?;
        let mut ev = actor.event(AuditAction::View, now);
        ev.person_id = Some(person);
        ev.consent_state = Some(decision.consent_state.as_str().into());
        ev.access_method = decision.method.map(|m| m.code().into());
        ev.items = vec!["demographics".into(), "consents".into(), "local-ids".into()];
        let person_row = self
            .store
            .person(person)
            .await?
            .ok_or(AppError::NotFound("person"))?;
        let mut local_ids = Vec::new();
        for lp in self.store.local_patients(person).await? {
            if let Some(f) = self.store.facility(lp.facility_id).await? {
                local_ids.push((f, lp));
            }
        }
        self.audit(ev).await?;
        Ok(ResidentRecord {
            person: person_row,
            consent_state: consent_state(&consents, now),
            consents,
            local_ids,
        })
    }

    /// 同意撤回: effective immediately, audited, refused if already withdrawn.
    pub async fn withdraw_consent(
        &self,
        actor: &Actor,
        person: PersonId,
        consent: ConsentId,
    ) -> Result<(), AppError> {
        actor.require_any(&CLERICAL)?;
        let now = OffsetDateTime::now_utc();
        let (_, consents) = self
            .administration_access(actor, person, AuditAction::WithdrawConsent, now)
            .await?;
        let mut c = consents
            .into_iter()
            .find(|c| c.id == consent)
            .ok_or(AppError::NotFound("consent"))?;
        c.withdraw(now).map_err(|e| match e {
            renkei_domain::ConsentError::AlreadyWithdrawn => AppError::AlreadyWithdrawn,
            other => other.into(),
        })?;
        let mut ev = actor.event(AuditAction::WithdrawConsent, now);
        ev.person_id = Some(person);
        ev.items = vec![format!("consent:{consent}")];
        ev.consent_state = Some("withdrawn".into());
        let at = c.withdrawn_at.unwrap_or(now);
        let entry = self
            .store
            .withdraw_consent(person, consent, at, ev)
            .await
            .map_err(|e| match e {
                renkei_store::StoreError::Conflict(_) => AppError::AlreadyWithdrawn,
                other => other.into(),
            })?;
        self.after_append(entry.seq).await;
        Ok(())
    }

    /// The facility's registered residents, newest first; one audit entry names everyone shown.
    pub async fn resident_list(
        &self,
        actor: &Actor,
        page: i64,
    ) -> Result<Vec<ResidentLine>, AppError> {
        actor.require_any(&CLERICAL)?;
        let now = OffsetDateTime::now_utc();
        const PAGE: i64 = 50;
        let rows = self
            .store
            .residents_of_facility(actor.facility.id, PAGE, page.clamp(0, 100_000) * PAGE)
            .await?;
        let matrix = self.matrix().await?;
        let mut lines = Vec::new();
        for r in rows {
            let consents = self.store.consents(r.person.id).await?;
            let relationship = self
                .store
                .care_relationship(r.person.id, actor.facility.id)
                .await?;
            let decision = authorize(&AccessRequest {
                user: &actor.user,
                facility: &actor.facility,
                person: r.person.id,
                consents: &consents,
                care_relationship: relationship.as_ref(),
                grants: &[],
                matrix: &matrix,
                categories: &[AccessCategory::Demographics],
                purpose: AccessPurpose::Administration,
                now,
                today: today_jst(now),
            });
            if decision.authorized().is_some() {
                lines.push(ResidentLine {
                    consent_active: r.active_consents > 0,
                    person: r.person,
                    local_id: r.local_id,
                });
            }
        }
        let mut ev = actor.event(AuditAction::Search, now);
        ev.items = std::iter::once("resident-list".to_owned())
            .chain(lines.iter().map(|l| format!("person:{}", l.person.id)))
            .collect();
        self.audit(ev).await?;
        Ok(lines)
    }
}

impl App {
    /// Record `facility`'s patient ID for a registered person; the facility gains a care
    /// relationship, so this is reserved to the network office (`by`) or the operator (`None`,
    /// e.g. migrating an existing region). Clerks register residents at their own facility;
    /// automatic links come from 名寄せ.
    pub async fn link_local_patient(
        &self,
        by: Option<&Actor>,
        facility: &Facility,
        person: PersonId,
        local_id: &str,
    ) -> Result<(), AppError> {
        if let Some(actor) = by {
            actor.require(Role::NetworkOffice)?;
        }
        let now = OffsetDateTime::now_utc();
        let local_id = LocalPatientNumber::parse(local_id).map_err(|_| {
            invalid(
                "local_id",
                "患者IDは英数字とハイフンの20文字以内で入力してください。",
            )
        })?;
        if self.store.person(person).await?.is_none() {
            return Err(AppError::NotFound("person"));
        }
        let lp = LocalPatient {
            person_id: person,
            facility_id: facility.id,
            local_id,
            method: LinkMethod::Registered,
            linked_at: renkei_domain::to_micros(now),
        };
        let mut ev = crate::Actor::event_by(by, AuditAction::LinkLocalPatient, now);
        ev.person_id = Some(person);
        ev.items = vec![format!("local-id-at:{}", facility.id)];
        let mut index = self.lock_index().await;
        let entry = self.store.link_local_patient(&lp, ev).await?;
        self.index_changed(&mut index, &[person]).await;
        drop(index);
        self.after_append(entry.seq).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiragana_kana_names_become_katakana() {
        assert_eq!(
            parse_kana("やまだ　はなこ").as_deref(),
            Some("ヤマダ ハナコ")
        );
        assert_eq!(
            parse_kana("ヤマダ タロウ").as_deref(),
            Some("ヤマダ タロウ")
        );
        assert_eq!(parse_kana("山田"), None);
        assert_eq!(parse_kana(""), None);
    }

    #[test]
    fn dates_accept_slashes() {
        assert_eq!(parse_date("1945/04/01"), parse_date("1945-04-01"));
        assert!(parse_date("1945-13-01").is_none());
    }
}
