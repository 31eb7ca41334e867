//! Facilities: the network office adds them (参加) and records their departure (脱退).

use crate::{Actor, App, AppError};
use renkei_domain::audit::{AuditAction, AuditEvent};
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
        let mut ev = match by {
            Some(a) => a.event(AuditAction::AdminChange, now),
            None => AuditEvent::new(AuditAction::AdminChange, now),
        };
        ev.items = vec![format!("facility-added:{}", facility.id)];
        let entry = self.store.insert_facility(&facility, ev).await?;
        self.after_append(entry.seq).await;
        Ok(facility)
    }

    pub async fn facilities(&self) -> Result<Vec<Facility>, AppError> {
        Ok(self.store.facilities().await?)
    }
}
