//! The timeline (時系列表示) and lab results over time (検査結果の推移).

use super::read::{concept, dosage, n, quantity, s};
use super::{Opened, record_date};
use crate::{Actor, App, AppError};
use renkei_domain::audit::AuditAction;
use renkei_domain::{AccessCategory, FacilityId, PersonId, Record, RecordHead};
use serde::Serialize;
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};

/// Entries per timeline page.
pub const PAGE_SIZE: usize = 50;

/// The categories a timeline can hold.
const TIMELINE_CATEGORIES: [AccessCategory; 9] = [
    AccessCategory::Diagnoses,
    AccessCategory::Allergies,
    AccessCategory::Medications,
    AccessCategory::Labs,
    AccessCategory::Imaging,
    AccessCategory::Documents,
    AccessCategory::ClinicalNotes,
    AccessCategory::CareRecords,
    AccessCategory::Demographics,
];

#[derive(Clone, Debug, Default)]
pub struct TimelineFilter {
    pub category: Option<AccessCategory>,
    pub facility: Option<FacilityId>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// From 0.
    pub page: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct TimelineEntry {
    pub record_id: String,
    pub date: Date,
    pub category: AccessCategory,
    pub resource_type: String,
    pub title: String,
    pub detail: Option<String>,
    pub facility: String,
    pub facility_id: FacilityId,
    /// How many files (添付ファイル) the record carries.
    pub attachments: usize,
    /// Whether it opens as a document page: a document, or a report with files.
    pub opens_as_document: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct TimelinePage {
    /// Newest day first; entries of a day in source order.
    pub days: Vec<(Date, Vec<TimelineEntry>)>,
    pub page: usize,
    pub total: usize,
    pub has_more: bool,
    /// Facilities that hold records the user may see, for the filter.
    pub facilities: Vec<(FacilityId, String)>,
    /// The patient's name, when the user may see demographics.
    pub patient_name: Option<String>,
}

fn title_and_detail(r: &Record) -> (String, Option<String>) {
    let res = &r.input.resource;
    let name = r
        .input
        .display
        .clone()
        .or_else(|| concept(res.get("code")))
        .or_else(|| concept(res.get("medicationCodeableConcept")))
        .unwrap_or_else(|| r.input.resource_type.clone());
    let detail = match r.input.resource_type.as_str() {
        "Observation" => quantity(res.get("valueQuantity"))
            .or_else(|| s(res, &["valueString"]).map(str::to_owned)),
        "MedicationRequest" | "MedicationAdministration" => dosage(res),
        "Condition" => match s(res, &["verificationStatus", "coding", "0", "code"]) {
            Some("unconfirmed") => Some("疑い".to_owned()),
            _ => match s(res, &["clinicalStatus", "coding", "0", "code"]) {
                Some("resolved") => Some("転帰: 治癒・終了".to_owned()),
                _ => None,
            },
        },
        "Encounter" => s(res, &["class", "code"]).map(|c| match c {
            "IMP" => "入院".to_owned(),
            "AMB" => "外来".to_owned(),
            other => other.to_owned(),
        }),
        _ => None,
    };
    (name, detail)
}

/// One test's results over time.
#[derive(Clone, Debug, Serialize)]
pub struct LabSeries {
    pub code: Option<String>,
    pub name: String,
    pub unit: Option<String>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub points: Vec<LabPoint>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LabPoint {
    pub date: Date,
    pub value: Option<f64>,
    pub text: String,
    pub flag: Option<String>,
    pub facility: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LabTable {
    pub series: Vec<LabSeries>,
    /// Every date with a result, oldest first (the table's columns).
    pub dates: Vec<Date>,
    /// The patient's name, when the user may see demographics.
    pub patient_name: Option<String>,
}

impl App {
    /// 時系列表示: every record the user may see, newest day first, with its facility.
    pub async fn timeline(
        &self,
        actor: &Actor,
        person: PersonId,
        filter: &TimelineFilter,
    ) -> Result<TimelinePage, AppError> {
        let now = OffsetDateTime::now_utc();
        let cats: Vec<AccessCategory> = match filter.category {
            Some(c) => vec![c],
            None => TIMELINE_CATEGORIES.to_vec(),
        };
        let opened = self
            .open_for_view(actor, person, &cats, AuditAction::View, &["timeline"], now)
            .await?;
        let names = &opened.facility_names;
        let mut facilities: BTreeMap<FacilityId, String> = BTreeMap::new();
        // Filter, order and page on the heads; load only the page's records.
        let mut heads: Vec<&RecordHead> = opened
            .records()
            .filter(|r| r.category != AccessCategory::Demographics)
            .inspect(|r| {
                facilities.insert(
                    r.facility_id,
                    names.get(&r.facility_id).cloned().unwrap_or_default(),
                );
            })
            .filter(|r| filter.category.is_none_or(|c| c == r.category))
            .filter(|r| filter.facility.is_none_or(|f| f == r.facility_id))
            .filter(|r| filter.from.is_none_or(|d| record_date(*r) >= d))
            .filter(|r| filter.to.is_none_or(|d| record_date(*r) <= d))
            .collect();
        // Newest day first; within a day, source order (a stable sort keeps it).
        heads.sort_by_key(|r| std::cmp::Reverse(record_date(*r)));
        let total = heads.len();
        let start = filter.page.saturating_mul(PAGE_SIZE).min(total);
        let end = (start + PAGE_SIZE).min(total);
        let page = self
            .load(
                &opened,
                person,
                heads.get(start..end).unwrap_or_default().iter().copied(),
            )
            .await?;
        let page_entries: Vec<TimelineEntry> = page
            .iter()
            .map(|r| {
                let (title, detail) = title_and_detail(r);
                let files = super::attachments::count(r);
                TimelineEntry {
                    record_id: r.id.to_string(),
                    date: record_date(r),
                    category: r.input.category,
                    resource_type: r.input.resource_type.clone(),
                    title,
                    detail,
                    facility: names.get(&r.facility_id).cloned().unwrap_or_default(),
                    facility_id: r.facility_id,
                    attachments: files,
                    opens_as_document: super::attachments::opens_with(r, files),
                }
            })
            .collect();
        let mut days: Vec<(Date, Vec<TimelineEntry>)> = Vec::new();
        for e in page_entries {
            match days.last_mut() {
                Some((d, list)) if *d == e.date => list.push(e),
                _ => days.push((e.date, vec![e])),
            }
        }
        let shown: Vec<String> = days
            .iter()
            .flat_map(|(_, l)| l.iter().map(|e| format!("record:{}", e.record_id)))
            .collect();
        let mut items = vec![format!("timeline:page{}", filter.page)];
        items.extend(
            opened
                .auth
                .categories()
                .iter()
                .map(|c| c.as_str().to_owned()),
        );
        items.extend(shown);
        // Everything is read before the entry says it was shown.
        let patient_name = self.shown_name(&opened, person).await?;
        self.audit_view(actor, person, &opened, AuditAction::View, items, now)
            .await?;
        Ok(TimelinePage {
            days,
            page: filter.page,
            total,
            has_more: end < total,
            facilities: facilities.into_iter().collect(),
            patient_name,
        })
    }

    /// 検査結果: each test as a series over time, for the table and the trend charts.
    pub async fn labs(&self, actor: &Actor, person: PersonId) -> Result<LabTable, AppError> {
        let now = OffsetDateTime::now_utc();
        let opened = self
            .open_for_view(
                actor,
                person,
                &[AccessCategory::Labs, AccessCategory::Demographics],
                AuditAction::View,
                &["labs"],
                now,
            )
            .await?;
        let labs = self
            .load(
                &opened,
                person,
                opened.records().filter(|r| {
                    r.category == AccessCategory::Labs && r.resource_type == "Observation"
                }),
            )
            .await?;
        let mut table = lab_table(&opened, &labs);
        table.patient_name = self.shown_name(&opened, person).await?;
        let mut items = vec!["labs".to_owned()];
        items.extend(labs.iter().map(|r| format!("record:{}", r.id)));
        self.audit_view(actor, person, &opened, AuditAction::View, items, now)
            .await?;
        Ok(table)
    }
}

fn lab_table(opened: &Opened, labs: &[Record]) -> LabTable {
    let mut by_test: BTreeMap<String, LabSeries> = BTreeMap::new();
    let mut dates = std::collections::BTreeSet::new();
    for r in labs {
        let res = &r.input.resource;
        let name = r
            .input
            .display
            .clone()
            .or_else(|| concept(res.get("code")))
            .unwrap_or_default();
        let key = r.input.code.clone().unwrap_or_else(|| name.clone());
        let series = by_test.entry(key).or_insert_with(|| LabSeries {
            code: r.input.code.clone(),
            name: name.clone(),
            unit: s(res, &["valueQuantity", "unit"]).map(str::to_owned),
            low: n(res, &["referenceRange", "0", "low", "value"]),
            high: n(res, &["referenceRange", "0", "high", "value"]),
            points: Vec::new(),
        });
        let date = record_date(r);
        let facility = opened
            .facility_names
            .get(&r.facility_id)
            .cloned()
            .unwrap_or_default();
        let value = n(res, &["valueQuantity", "value"]);
        // The same result often arrives twice from one facility (its SS-MIX2 storage and a
        // discharge summary quoting it): show it once.
        if series
            .points
            .iter()
            .any(|p| p.date == date && p.value == value && p.facility == facility)
        {
            continue;
        }
        dates.insert(date);
        series.points.push(LabPoint {
            date,
            value,
            text: quantity(res.get("valueQuantity"))
                .or_else(|| s(res, &["valueString"]).map(str::to_owned))
                .unwrap_or_default(),
            flag: super::read::code(res.get("interpretation").and_then(|i| i.get(0)))
                .map(str::to_owned),
            facility,
        });
    }
    let mut series: Vec<LabSeries> = by_test.into_values().collect();
    for s in &mut series {
        s.points.sort_by_key(|p| p.date);
    }
    series.sort_by(|a, b| a.name.cmp(&b.name));
    LabTable {
        series,
        dates: dates.into_iter().collect(),
        patient_name: None,
    }
}
