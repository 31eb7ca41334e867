//! Clinician viewer pages: search, summary, timeline, labs, documents, break-the-glass, and
//! access lists. Access is decided in `renkei-app`; a denial for want of a care relationship
//! shows the break-the-glass form instead of the page.

use crate::session::Signed;
use crate::views::*;
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use renkei_app::AppError;
use renkei_app::view::{AttachmentInfo, FileKind, PersonQuery, Presentation, TimelineFilter};
use renkei_domain::authorize::Rule;
use renkei_domain::consent::ConsentState;
use renkei_domain::{AccessCategory, BreakGlassReason, PersonId};
use serde::Deserialize;
use time::OffsetDateTime;

fn person_id(s: &str) -> Result<PersonId, WebError> {
    s.parse()
        .map_err(|_| WebError::App(AppError::NotFound("person")))
}

fn jst(t: OffsetDateTime) -> String {
    let t = t.to_offset(renkei_app::JST);
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

/// A page, or the break-the-glass form when only a care relationship is missing.
fn or_break_glass<T>(
    state: &AppState,
    s: &Signed,
    person: PersonId,
    r: Result<T, AppError>,
) -> Result<Result<T, Response>, WebError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(AppError::Denied(Rule::NoCareRelationship)) => Ok(Err(render(&BreakGlassPage {
            nav: Nav::for_actor(&s.0.actor, &s.0.session.csrf_token),
            csrf: s.0.session.csrf_token.clone(),
            person_id: person.to_string(),
            hours: state.app.config.break_glass_lifetime.whole_hours(),
            error: None,
        })
        .into_response())),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct SearchQuery {
    q: Option<String>,
    birth_date: Option<String>,
}

pub(crate) async fn search(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<SearchQuery>,
) -> Result<Html<String>, WebError> {
    let a = &s.0.actor;
    let text = q.q.clone().unwrap_or_default();
    let birth = q.birth_date.as_deref().and_then(crate::parse_day);
    let searched = !text.trim().is_empty() || birth.is_some();
    let hits = if searched {
        state
            .app
            .search_persons(
                a,
                &PersonQuery {
                    text: text.clone(),
                    birth_date: birth,
                },
            )
            .await?
    } else {
        a.require(renkei_domain::Role::Clinical)?;
        Vec::new()
    };
    Ok(render(&PatientsPage {
        nav: Nav::for_actor(a, &s.0.session.csrf_token),
        q: text,
        birth_date: q.birth_date.unwrap_or_default(),
        searched,
        hits: hits
            .into_iter()
            .map(|h| HitView {
                id: h.person.id.to_string(),
                name: h.person.name_kanji.clone().unwrap_or_default(),
                kana: h.person.name_kana.clone(),
                sex: h.person.sex.label_ja(),
                birth_date: h.person.birth_date.to_string(),
                local_id: h.local_id.unwrap_or_default(),
                needs_break_glass: h.needs_break_glass,
            })
            .collect(),
    }))
}

pub(crate) async fn summary(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let person = person_id(&id)?;
    let r = state.app.patient_summary(&s.0.actor, person).await;
    let sm = match or_break_glass(&state, &s, person, r)? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let today = renkei_app::today_jst(OffsetDateTime::now_utc());
    let age = |p: &renkei_domain::Person| {
        let mut age = today.year() - p.birth_date.year();
        if (today.month() as u8, today.day()) < (p.birth_date.month() as u8, p.birth_date.day()) {
            age -= 1;
        }
        age
    };
    let head = sm.person.as_ref().map(|p| PatientHead {
        name: p.name_kanji.clone().unwrap_or_else(|| p.name_kana.clone()),
        kana: p.name_kana.clone(),
        sex: p.sex.label_ja(),
        birth_date: p.birth_date.to_string(),
        age: age(p),
    });
    let shown = |c: AccessCategory| sm.shown.contains(&c);
    Ok(render(&SummaryPage {
        nav: Nav::for_actor(&s.0.actor, &s.0.session.csrf_token),
        tab: "summary",
        person_id: person.to_string(),
        head,
        consent: match sm.consent_state {
            ConsentState::Active => "共有同意あり",
            ConsentState::Withdrawn => "同意撤回",
            ConsentState::None => "同意なし",
        },
        break_glass: sm.access_method == "break-glass",
        allergies_shown: shown(AccessCategory::Allergies),
        allergies: sm.allergies.clone(),
        warnings: sm.warnings.iter().map(|w| w.message_ja()).collect(),
        problems_shown: shown(AccessCategory::Diagnoses),
        problems: sm.problems.clone(),
        medicines_shown: shown(AccessCategory::Medications),
        medicines: sm
            .medicines
            .iter()
            .map(|m| MedicineRow {
                name: m.name.clone(),
                dosage: m.dosage.clone().unwrap_or_default(),
                days: m.days.map(|d| format!("{d}日")).unwrap_or_default(),
                prescribed_on: m.prescribed_on.to_string(),
                facility: m.facility.clone(),
            })
            .collect(),
        labs_shown: shown(AccessCategory::Labs),
        labs: sm.latest_labs.clone(),
        encounters_shown: shown(AccessCategory::ClinicalNotes),
        encounters: sm.encounters.clone(),
        documents_shown: shown(AccessCategory::Documents),
        documents: sm
            .documents
            .iter()
            .map(|d| (d.0.clone(), d.1.clone(), d.2.to_string(), d.3.clone()))
            .collect(),
        facilities: sm.facilities.clone(),
    })
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct BreakGlassFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    text: String,
}

pub(crate) async fn break_glass(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(f): Form<BreakGlassFields>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let person = person_id(&id)?;
    let reason = match f.reason.as_str() {
        "emergency" => BreakGlassReason::Emergency,
        "first-visit" => BreakGlassReason::FirstVisit,
        _ => BreakGlassReason::Other(f.text.trim().to_owned()),
    };
    match state.app.break_glass(&s.0.actor, person, reason).await {
        Ok(_) => Ok(Redirect::to(&format!("/patients/{person}")).into_response()),
        Err(e @ AppError::Invalid { .. }) => Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            render(&BreakGlassPage {
                nav: Nav::for_actor(&s.0.actor, &s.0.session.csrf_token),
                csrf: s.0.session.csrf_token.clone(),
                person_id: person.to_string(),
                hours: state.app.config.break_glass_lifetime.whole_hours(),
                error: Some(e.message_ja()),
            }),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct TimelineQuery {
    category: Option<String>,
    facility: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
}

pub(crate) async fn timeline(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> Result<Response, WebError> {
    let person = person_id(&id)?;
    let filter = TimelineFilter {
        category: q.category.as_deref().and_then(|c| c.parse().ok()),
        facility: q.facility.as_deref().and_then(|f| f.parse().ok()),
        from: q.from.as_deref().and_then(crate::parse_day),
        to: q.to.as_deref().and_then(crate::parse_day),
        page: q
            .page
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
            .min(100_000),
    };
    let r = state.app.timeline(&s.0.actor, person, &filter).await;
    let t = match or_break_glass(&state, &s, person, r)? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let name = t.patient_name.clone().unwrap_or_default();
    let link = |page: usize| {
        format!(
            "/patients/{person}/timeline?category={}&facility={}&from={}&to={}&page={page}",
            q.category.as_deref().unwrap_or(""),
            q.facility.as_deref().unwrap_or(""),
            q.from.as_deref().unwrap_or(""),
            q.to.as_deref().unwrap_or("")
        )
    };
    Ok(render(&TimelinePageView {
        nav: Nav::for_actor(&s.0.actor, &s.0.session.csrf_token),
        tab: "timeline",
        person_id: person.to_string(),
        name,
        categories: AccessCategory::ALL
            .iter()
            .filter(|c| **c != AccessCategory::Demographics)
            .map(|c| (c.as_str(), c.label_ja()))
            .collect(),
        category: q.category.clone().unwrap_or_default(),
        facilities: t
            .facilities
            .iter()
            .map(|(id, n)| (id.to_string(), n.clone()))
            .collect(),
        facility: q.facility.clone().unwrap_or_default(),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        total: t.total,
        days: t
            .days
            .iter()
            .map(|(d, es)| {
                (
                    d.to_string(),
                    es.iter()
                        .map(|e| EntryView {
                            record_id: e.record_id.clone(),
                            category: e.category.as_str(),
                            category_ja: e.category.label_ja(),
                            title: e.title.clone(),
                            detail: e.detail.clone(),
                            facility: e.facility.clone(),
                            is_document: e.opens_as_document,
                            attachments: e.attachments,
                        })
                        .collect(),
                )
            })
            .collect(),
        page: t.page,
        has_more: t.has_more,
        prev_link: link(t.page.saturating_sub(1)),
        next_link: link(t.page + 1),
    })
    .into_response())
}

pub(crate) async fn labs(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let person = person_id(&id)?;
    let r = state.app.labs(&s.0.actor, person).await;
    let t = match or_break_glass(&state, &s, person, r)? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let name = t.patient_name.clone().unwrap_or_default();
    let series = t
        .series
        .iter()
        .map(|sr| SeriesView {
            name: sr.name.clone(),
            unit: sr.unit.clone(),
            range: match (sr.low, sr.high) {
                (Some(l), Some(h)) => format!("{l}–{h}"),
                (Some(l), None) => format!("{l}以上"),
                (None, Some(h)) => format!("{h}以下"),
                _ => String::new(),
            },
            cells: t
                .dates
                .iter()
                .map(|d| {
                    let on: Vec<_> = sr.points.iter().filter(|p| p.date == *d).collect();
                    let text = on
                        .iter()
                        .map(|p| match &p.flag {
                            Some(f) => format!("{} {f}", p.text.split(' ').next().unwrap_or("")),
                            None => p.text.split(' ').next().unwrap_or("").to_owned(),
                        })
                        .collect::<Vec<_>>()
                        .join(" / ");
                    (text, on.iter().any(|p| p.flag.is_some()))
                })
                .collect(),
            chart: crate::chart::trend(sr),
        })
        .collect();
    Ok(render(&LabsPage {
        nav: Nav::for_actor(&s.0.actor, &s.0.session.csrf_token),
        tab: "labs",
        person_id: person.to_string(),
        name,
        dates: t.dates.iter().map(|d| d.to_string()).collect(),
        series,
    })
    .into_response())
}

pub(crate) async fn document(
    State(state): State<AppState>,
    s: Signed,
    Path((id, record)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let person = person_id(&id)?;
    let record = uuid::Uuid::parse_str(&record)
        .map_err(|_| WebError::App(AppError::NotFound("document")))?;
    let r = state.app.document(&s.0.actor, person, record).await;
    let d = match or_break_glass(&state, &s, person, r)? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let file = |f: AttachmentInfo| {
        let served = matches!(
            f.presentation,
            Presentation::Image | Presentation::Pdf | Presentation::Download
        );
        FileView {
            number: f.index + 1,
            href: served.then(|| {
                format!(
                    "/patients/{person}/documents/{record}/attachments/{}",
                    f.index
                )
            }),
            kind: match f.presentation {
                Presentation::Image => "image",
                Presentation::Pdf => "pdf",
                Presentation::Download => "download",
                Presentation::External => "external",
                Presentation::Unavailable => "unavailable",
            },
            title: f
                .title
                .unwrap_or_else(|| format!("添付ファイル{}", f.index + 1)),
            content_type: f.content_type.unwrap_or_default(),
            size: f.size.map(size_ja).unwrap_or_default(),
            url: f.url.unwrap_or_default(),
        }
    };
    let mut res = render(&DocumentPage {
        nav: Nav::for_actor(&s.0.actor, &s.0.session.csrf_token),
        person_id: person.to_string(),
        title: d.title,
        date: d.date.to_string(),
        facility: d.facility,
        author: d.author,
        sections: d
            .sections
            .into_iter()
            .map(|sec| SectionView {
                title: sec.title,
                text: sec.text,
                files: sec.attachments.into_iter().map(file).collect(),
            })
            .collect(),
        attachments: d.attachments.into_iter().map(file).collect(),
    })
    .into_response();
    // The page frames its PDFs, which come from this site only.
    if let Ok(csp) = HeaderValue::from_str(&format!("{}; frame-src 'self'", crate::CSP)) {
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(res)
}

/// `12 KB`, `1.4 MB`.
fn size_ja(bytes: usize) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{} KB", b.div_ceil(1024)),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// 添付ファイル: one file of a document, for an `<img>`, a frame or a download. Refusals are
/// plain statuses (403, 404), not the break-the-glass form: this address is loaded by the
/// page, not opened by a person.
pub(crate) async fn attachment(
    State(state): State<AppState>,
    s: Signed,
    Path((id, record, n)): Path<(String, String, String)>,
) -> Result<Response, WebError> {
    let person = person_id(&id)?;
    let record = uuid::Uuid::parse_str(&record)
        .map_err(|_| WebError::App(AppError::NotFound("attachment")))?;
    let n: usize = n
        .parse()
        .map_err(|_| WebError::App(AppError::NotFound("attachment")))?;
    let f = state.app.attachment(&s.0.actor, person, record, n).await?;
    let (content_type, disposition, csp, framing) = match f.inline {
        // Shown in the document page; `sandbox` puts anything active in a file (PDF scripts,
        // forms) in an origin of its own. A PDF gets nothing more: browsers draw PDFs with
        // their own viewer page, which a `default-src` would break.
        Some(FileKind::Pdf) => (
            FileKind::Pdf.mime(),
            format!("inline; filename=\"{}\"", f.file_name),
            "sandbox; frame-ancestors 'self'",
            "SAMEORIGIN",
        ),
        Some(kind) => (
            kind.mime(),
            format!("inline; filename=\"{}\"", f.file_name),
            "sandbox; default-src 'none'; img-src 'self'; frame-ancestors 'self'",
            "SAMEORIGIN",
        ),
        None => (
            FileKind::Other.mime(),
            format!("attachment; filename=\"{}\"", f.file_name),
            "sandbox; default-src 'none'; frame-ancestors 'none'",
            "DENY",
        ),
    };
    let mut res = f.bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static(framing));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

fn lines(ls: Vec<renkei_app::view::AccessLine>) -> Vec<AccessRow> {
    ls.into_iter()
        .map(|l| {
            (
                jst(l.at),
                l.facility,
                l.user,
                l.profession,
                l.action,
                l.items.join(", ").chars().take(120).collect(),
                l.method.unwrap_or_default(),
                l.outcome,
            )
        })
        .collect()
}

pub(crate) async fn my_accesses(
    State(state): State<AppState>,
    s: Signed,
) -> Result<Html<String>, WebError> {
    let l = state.app.my_accesses(&s.0.actor).await?;
    Ok(render(&AccessListPage {
        nav: Nav::for_actor(&s.0.actor, &s.0.session.csrf_token),
        heading: "自分の閲覧履歴（90日）".into(),
        lines: lines(l),
    }))
}

#[derive(Deserialize)]
pub(crate) struct ReportQuery {
    person: String,
}

pub(crate) async fn access_report(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<ReportQuery>,
) -> Result<Html<String>, WebError> {
    let person = person_id(&q.person)?;
    let l = state.app.access_report(&s.0.actor, person).await?;
    Ok(render(&AccessListPage {
        nav: Nav::for_actor(&s.0.actor, &s.0.session.csrf_token),
        heading: "アクセス記録の開示（この方の情報へのすべてのアクセス）".into(),
        lines: lines(l),
    }))
}

pub(crate) async fn break_glass_list(
    State(state): State<AppState>,
    s: Signed,
) -> Result<Html<String>, WebError> {
    let grants = state.app.break_glass_list(&s.0.actor).await?;
    let facilities: std::collections::HashMap<_, _> = state
        .app
        .facilities()
        .await?
        .into_iter()
        .map(|f| (f.id, f.name))
        .collect();
    let mut rows = Vec::new();
    for g in grants {
        let user = state
            .app
            .store
            .user_account_by_id(g.user_id)
            .await
            .map_err(AppError::from)?
            .map(|a| a.user.display_name)
            .unwrap_or_default();
        rows.push((
            jst(g.granted_at),
            facilities.get(&g.facility_id).cloned().unwrap_or_default(),
            user,
            String::new(),
            match &g.reason {
                BreakGlassReason::Emergency => "救急".to_owned(),
                BreakGlassReason::FirstVisit => "初診".to_owned(),
                BreakGlassReason::Other(t) => format!("その他: {t}"),
            },
            format!("person:{}", g.person_id),
            format!("〜{}", jst(g.expires_at)),
            String::new(),
        ));
    }
    let office = s.0.actor.user.has_role(renkei_domain::Role::NetworkOffice);
    Ok(render(&AccessListPage {
        nav: Nav::for_actor(&s.0.actor, &s.0.session.csrf_token),
        heading: if office {
            "緊急時アクセスの一覧（確認用）".into()
        } else {
            "貴施設の情報への緊急時アクセス".into()
        },
        lines: rows,
    }))
}
