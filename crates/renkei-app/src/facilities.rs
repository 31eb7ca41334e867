//! Facilities: the network office adds them (参加) and records their departure (脱退).

use crate::{Actor, App, AppError};
use renkei_domain::audit::AuditAction;
use renkei_domain::{Facility, FacilityCode, FacilityId, FacilityKind, Role};
use time::{Date, OffsetDateTime};

/// A facility to add.
#[derive(Clone, Debug)]
pub struct NewFacility {
    pub code: String,
    pub name: String,
    pub kind: FacilityKind,
    pub joined_on: Option<Date>,
}

impl App {
    /// Add a facility. `by` is `None` for the operator's CLI, otherwise a network-office user.
    pub async fn add_facility(
        &self,
        by: Option<&Actor>,
        f: &NewFacility,
    ) -> Result<Facility, AppError> {
        let now = OffsetDateTime::now_utc();
        if let Some(actor) = by {
            actor.require(Role::NetworkOffice)?;
        }
        let code = FacilityCode::parse(&f.code, f.kind)?;
        let name = f.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::Invalid {
                field: "name",
                message_ja: "施設名を100文字以内で入力してください。",
            });
        }
        let facility = Facility {
            id: FacilityId::new(),
            code,
            name: name.to_owned(),
            kind: f.kind,
            joined_on: f.joined_on.unwrap_or_else(|| crate::today_jst(now)),
            withdrawn_on: None,
        };
        let mut ev = crate::Actor::event_by(by, AuditAction::AdminChange, now);
        ev.items = vec![format!("facility-added:{}", facility.id)];
        let entry = self.store.insert_facility(&facility, ev).await?;
        self.after_append(entry.seq).await;
        Ok(facility)
    }

    pub async fn facilities(&self) -> Result<Vec<Facility>, AppError> {
        Ok(self.store.facilities().await?)
    }
}

impl App {
    /// 脱退: from `on`, the facility's users can no longer sign in or see anything.
    pub async fn withdraw_facility(
        &self,
        by: Option<&Actor>,
        code: &str,
        on: Date,
    ) -> Result<Facility, AppError> {
        let now = OffsetDateTime::now_utc();
        if let Some(actor) = by {
            actor.require(Role::NetworkOffice)?;
            if actor.facility.code.as_str() == code.trim() {
                return Err(AppError::Invalid {
                    field: "code",
                    message_ja: "事務局の所属施設は脱退できません。",
                });
            }
        }
        let facility = self
            .store
            .facility_by_code(code.trim())
            .await?
            .ok_or(AppError::NotFound("facility"))?;
        if on < facility.joined_on {
            return Err(AppError::Invalid {
                field: "withdrawn_on",
                message_ja: "脱退日が参加日より前です。",
            });
        }
        let mut ev = crate::Actor::event_by(by, AuditAction::AdminChange, now);
        ev.items = vec![format!("facility-withdrawn:{}", facility.id)];
        let entry = self
            .store
            .withdraw_facility(facility.id, on, ev)
            .await
            .map_err(|e| match e {
                renkei_store::StoreError::Conflict(_) => AppError::Invalid {
                    field: "code",
                    message_ja: "この施設はすでに脱退しています。",
                },
                other => other.into(),
            })?;
        self.after_append(entry.seq).await;
        Ok(Facility {
            withdrawn_on: Some(on),
            ..facility
        })
    }
}

/// An upload credential as handed to a facility's gateway, shown once.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FacilityCredential {
    pub facility_code: String,
    /// `renkei-fc.<credential id>.<secret>`: sent as `Authorization: Bearer …`.
    pub token: String,
}

impl App {
    /// Issue an upload credential for a facility's systems (the network office or operator).
    pub async fn issue_facility_credential(
        &self,
        by: Option<&Actor>,
        code: &str,
    ) -> Result<FacilityCredential, AppError> {
        if let Some(actor) = by {
            actor.require(Role::NetworkOffice)?;
        }
        let facility = self
            .store
            .facility_by_code(code.trim())
            .await?
            .ok_or(AppError::NotFound("facility"))?;
        let id = uuid::Uuid::now_v7();
        let secret = crate::secrets::token()?;
        let now = OffsetDateTime::now_utc();
        let mut ev = crate::Actor::event_by(by, AuditAction::AdminChange, now);
        ev.items = vec![format!("facility-credential-issued:{}:{id}", facility.id)];
        let entry = self
            .store
            .insert_facility_credential(id, facility.id, &crate::secrets::digest(&secret), ev)
            .await?;
        self.after_append(entry.seq).await;
        Ok(FacilityCredential {
            facility_code: facility.code.to_string(),
            token: format!("renkei-fc.{id}.{secret}"),
        })
    }

    /// The participating facility a bearer token belongs to, if the token is valid.
    pub async fn facility_for_token(&self, token: &str) -> Result<Option<Facility>, AppError> {
        let Some(rest) = token.trim().strip_prefix("renkei-fc.") else {
            return Ok(None);
        };
        let Some((id, secret)) = rest.split_once('.') else {
            return Ok(None);
        };
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(None);
        };
        let Some((facility, hash)) = self.store.facility_credential(id).await? else {
            return Ok(None);
        };
        let given = crate::secrets::digest(secret);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            given.as_bytes(),
            hash.as_bytes(),
        )) {
            return Ok(None);
        }
        let Some(f) = self.store.facility(facility).await? else {
            return Ok(None);
        };
        Ok(f.is_active_on(crate::today_jst(OffsetDateTime::now_utc()))
            .then_some(f))
    }
}
