//! Administration pages: facility admins manage their users; the network office manages
//! facilities (参加・脱退) and any facility's users.

use crate::session::Signed;
use crate::views::{
    AdminFacilitiesPage, AdminSecretPage, AdminUsersPage, Choice, FacilityLine, MpiItemView,
    MpiPage, Nav, QuarantineLine, QuarantinePage, UserLine, render,
};
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use renkei_app::AppError;
use renkei_app::facilities::NewFacility;
use renkei_domain::{FacilityKind, Profession, Role};
use serde::Deserialize;
use time::OffsetDateTime;

fn professions() -> Vec<Choice> {
    Profession::ALL
        .iter()
        .map(|p| (p.as_str(), p.label_ja()))
        .collect()
}

fn kinds() -> Vec<Choice> {
    FacilityKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label_ja()))
        .collect()
}

#[derive(Deserialize, Default)]
pub(crate) struct UsersQuery {
    facility: Option<String>,
    done: Option<String>,
}

async fn users_page(
    state: &AppState,
    s: &Signed,
    facility: Option<&str>,
    notice: Option<String>,
    error: Option<String>,
) -> Result<AdminUsersPage, WebError> {
    let a = &s.0.actor;
    let (facility, users) = state.app.users_of(a, facility).await?;
    let now = OffsetDateTime::now_utc();
    Ok(AdminUsersPage {
        nav: Nav::for_actor(a, &s.0.session.csrf_token),
        csrf: s.0.session.csrf_token.clone(),
        notice,
        error,
        facility_code: facility.code.to_string(),
        facility_name: facility.name,
        users: users
            .into_iter()
            .map(|u| UserLine {
                login: u.user.login.to_string(),
                display_name: u.user.display_name,
                profession: u.user.profession.label_ja(),
                roles: u
                    .user
                    .roles
                    .iter()
                    .map(|r| r.label_ja())
                    .collect::<Vec<_>>()
                    .join("・"),
                active: u.user.active,
                totp: u.totp_confirmed,
                locked: u.locked_until.is_some_and(|t| t > now),
            })
            .collect(),
        professions: professions(),
        office: a.user.has_role(Role::NetworkOffice),
    })
}

pub(crate) async fn users(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<UsersQuery>,
) -> Result<axum::response::Html<String>, WebError> {
    let notice = match q.done.as_deref() {
        Some("enabled") => Some("アカウントを有効にしました。".to_owned()),
        Some("disabled") => {
            Some("アカウントを無効にしました。ログイン中のセッションも終了しました。".to_owned())
        }
        _ => None,
    };
    Ok(render(
        &users_page(&state, &s, q.facility.as_deref(), notice, None).await?,
    ))
}

#[derive(Deserialize)]
pub(crate) struct AddUserFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    facility: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    profession: String,
    role_clinical: Option<String>,
    role_clerk: Option<String>,
    role_facility_admin: Option<String>,
    role_network_office: Option<String>,
}

pub(crate) async fn add_user(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<AddUserFields>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let a = &s.0.actor;
    let roles: Vec<Role> = [
        (Role::Clinical, &f.role_clinical),
        (Role::Clerk, &f.role_clerk),
        (Role::FacilityAdmin, &f.role_facility_admin),
        (Role::NetworkOffice, &f.role_network_office),
    ]
    .into_iter()
    .filter(|(_, v)| v.as_deref() == Some("true"))
    .map(|(r, _)| r)
    .collect();
    let result = match f.profession.parse::<Profession>() {
        Ok(profession) => {
            state
                .app
                .create_user(
                    Some(a),
                    &renkei_app::NewUserRequest {
                        facility_code: f.facility.clone(),
                        login: f.login.clone(),
                        display_name: f.display_name.clone(),
                        profession,
                        roles,
                        enrol_totp_now: false,
                    },
                )
                .await
        }
        Err(_) => Err(AppError::Invalid {
            field: "profession",
            message_ja: "職種を選んでください。",
        }),
    };
    match result {
        Ok(created) => Ok(render(&AdminSecretPage {
            nav: Nav::for_actor(a, &s.0.session.csrf_token),
            heading: "利用者を追加しました".into(),
            facility_code: created.facility.code.to_string(),
            login: created.user.login.to_string(),
            password: created.initial_password,
        })
        .into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Duplicate(_))) => {
            let status = if matches!(e, AppError::Duplicate(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page =
                users_page(&state, &s, Some(&f.facility), None, Some(e.message_ja())).await?;
            Ok((status, render(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct UserActionFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    facility: String,
    #[serde(default)]
    active: String,
}

pub(crate) async fn reset_password(
    State(state): State<AppState>,
    s: Signed,
    Path(login): Path<String>,
    Form(f): Form<UserActionFields>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let a = &s.0.actor;
    let (user, password) = state
        .app
        .reset_password(Some(a), &f.facility, &login)
        .await?;
    Ok(render(&AdminSecretPage {
        nav: Nav::for_actor(a, &s.0.session.csrf_token),
        heading: "パスワードを再発行しました".into(),
        facility_code: f.facility.trim().to_owned(),
        login: user.login.to_string(),
        password,
    })
    .into_response())
}

pub(crate) async fn set_active(
    State(state): State<AppState>,
    s: Signed,
    Path(login): Path<String>,
    Form(f): Form<UserActionFields>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let active = f.active == "true";
    state
        .app
        .set_user_active(&s.0.actor, &f.facility, &login, active)
        .await?;
    let done = if active { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!(
        "/admin/users?facility={}&done={done}",
        f.facility.trim()
    ))
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct FacilitiesQuery {
    done: Option<String>,
}

async fn facilities_page(
    state: &AppState,
    s: &Signed,
    notice: Option<String>,
    error: Option<String>,
) -> Result<AdminFacilitiesPage, WebError> {
    let a = &s.0.actor;
    a.require(Role::NetworkOffice)?;
    let today = renkei_app::today_jst(OffsetDateTime::now_utc());
    Ok(AdminFacilitiesPage {
        nav: Nav::for_actor(a, &s.0.session.csrf_token),
        csrf: s.0.session.csrf_token.clone(),
        notice,
        error,
        facilities: state
            .app
            .facilities()
            .await?
            .into_iter()
            .map(|f| FacilityLine {
                code: f.code.to_string(),
                name: f.name,
                kind: f.kind.label_ja(),
                joined_on: f.joined_on.to_string(),
                withdrawn_on: f.withdrawn_on.map(|d| d.to_string()),
            })
            .collect(),
        kinds: kinds(),
        today: today.to_string(),
    })
}

pub(crate) async fn facilities(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<FacilitiesQuery>,
) -> Result<axum::response::Html<String>, WebError> {
    let notice = match q.done.as_deref() {
        Some("added") => Some("施設を追加しました。".to_owned()),
        Some("withdrawn") => {
            Some("脱退を登録しました。脱退日以降、この施設の利用者は閲覧できません。".to_owned())
        }
        _ => None,
    };
    Ok(render(&facilities_page(&state, &s, notice, None).await?))
}

#[derive(Deserialize)]
pub(crate) struct AddFacilityFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    joined_on: String,
}

pub(crate) async fn add_facility(
    State(state): State<AppState>,
    s: Signed,
    Form(f): Form<AddFacilityFields>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let result = match f.kind.parse::<FacilityKind>() {
        Ok(kind) => {
            state
                .app
                .add_facility(
                    Some(&s.0.actor),
                    &NewFacility {
                        code: f.code.clone(),
                        name: f.name.clone(),
                        kind,
                        joined_on: crate::parse_day(&f.joined_on),
                    },
                )
                .await
        }
        Err(_) => Err(AppError::Invalid {
            field: "kind",
            message_ja: "施設の種別を選んでください。",
        }),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/facilities?done=added").into_response()),
        Err(
            e @ (AppError::Invalid { .. } | AppError::FacilityCode(_) | AppError::Duplicate(_)),
        ) => {
            let message = e.message_ja();
            let status = WebError::App(e).status();
            let page = facilities_page(&state, &s, None, Some(message)).await?;
            Ok((status, render(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct WithdrawFacilityFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    on: String,
}

pub(crate) async fn withdraw_facility(
    State(state): State<AppState>,
    s: Signed,
    Path(code): Path<String>,
    Form(f): Form<WithdrawFacilityFields>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let Some(on) = crate::parse_day(&f.on) else {
        return Err(AppError::Invalid {
            field: "on",
            message_ja: "脱退日を正しく入力してください。",
        }
        .into());
    };
    state
        .app
        .withdraw_facility(Some(&s.0.actor), &code, on)
        .await?;
    Ok(Redirect::to("/admin/facilities?done=withdrawn").into_response())
}

/// What a quarantine reason means, for a facility administrator.
fn quarantine_reason_ja(code: &str) -> &'static str {
    match code {
        "unknown-patient" => {
            "ネットワークに未登録（同意未登録）の患者のデータです。住民登録後に再取り込みしてください。"
        }
        "undecodable" | "charset" => {
            "文字コードを読み取れません（ISO-2022-JP であるか確認してください）。"
        }
        "wrong-folder" | "bad-file-name" => {
            "SS-MIX2 のファイル名またはフォルダが規約に合っていません。"
        }
        "patient-mismatch" => {
            "ファイルの患者IDと電文の中の患者IDが一致しません。誤った患者への登録を防ぐため保留しました。"
        }
        "unknown-message-type" | "unsupported-resource" => {
            "取り込みに対応していないデータ種別です。"
        }
        "missing-field" | "missing-patient" | "missing-patient-id" => "必須の項目がありません。",
        "invalid-json" | "not-fhir" => "FHIR の JSON として読み取れません。",
        c if c.starts_with("clins-") => {
            "JP-CLINS（電子カルテ情報共有サービス）の規約に合っていません。"
        }
        _ => "取り込めないデータです。詳細を確認してください。",
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct QuarantineQuery {
    done: Option<String>,
}

pub(crate) async fn quarantine(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<QuarantineQuery>,
) -> Result<axum::response::Html<String>, WebError> {
    let a = &s.0.actor;
    a.require_any(&[Role::FacilityAdmin, Role::NetworkOffice])?;
    let office = a.user.has_role(Role::NetworkOffice);
    let own = (!office).then_some(&a.facility);
    let items = state
        .app
        .quarantine_list(own, Some(renkei_app::QuarantineStatus::Held))
        .await?;
    let codes: std::collections::HashMap<_, _> = state
        .app
        .facilities()
        .await?
        .into_iter()
        .map(|f| (f.id, format!("{} {}", f.code, f.name)))
        .collect();
    let jst = |t: OffsetDateTime| {
        let t = t.to_offset(renkei_app::JST);
        format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
    };
    let notice = match q.done.as_deref() {
        Some("taken") => Some("再取り込みしました。".to_owned()),
        Some("held") => Some("再取り込みできませんでした。理由を確認してください。".to_owned()),
        Some("discarded") => Some("破棄しました（記録は残ります）。".to_owned()),
        _ => None,
    };
    Ok(render(&QuarantinePage {
        nav: Nav::for_actor(a, &s.0.session.csrf_token),
        csrf: s.0.session.csrf_token.clone(),
        notice,
        facility_name: own.map(|f| f.name.clone()),
        office,
        items: items
            .into_iter()
            .map(|q| QuarantineLine {
                id: q.id.to_string(),
                received_at: jst(q.received_at),
                facility: codes.get(&q.facility_id).cloned().unwrap_or_default(),
                channel: q.channel,
                source_name: q.source_name.unwrap_or_default(),
                bytes: q.payload.len(),
                reason_ja: quarantine_reason_ja(&q.reason_code),
                reason_code: q.reason_code,
                detail: q.reason_detail,
                attempts: q.attempts,
            })
            .collect(),
    }))
}

/// The id of a quarantined input; whether the user may act on it is the app's to decide.
fn quarantine_id(id: &str) -> Result<uuid::Uuid, WebError> {
    uuid::Uuid::parse_str(id).map_err(|_| WebError::App(AppError::NotFound("quarantined input")))
}

pub(crate) async fn quarantine_retry(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(f): Form<UserActionFields>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let id = quarantine_id(&id)?;
    let r = state.app.retry_quarantined(Some(&s.0.actor), id).await?;
    let done = if r.quarantined.is_none() {
        "taken"
    } else {
        "held"
    };
    Ok(Redirect::to(&format!("/admin/quarantine?done={done}")).into_response())
}

pub(crate) async fn quarantine_discard(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(f): Form<UserActionFields>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let id = quarantine_id(&id)?;
    state.app.discard_quarantined(Some(&s.0.actor), id).await?;
    Ok(Redirect::to("/admin/quarantine?done=discarded").into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct MpiQuery {
    done: Option<String>,
}

pub(crate) async fn mpi_queue(
    State(state): State<AppState>,
    s: Signed,
    Query(q): Query<MpiQuery>,
) -> Result<axum::response::Html<String>, WebError> {
    let a = &s.0.actor;
    let items = state.app.review_queue(a).await?;
    let office = a.user.has_role(Role::NetworkOffice);
    let merges = if office {
        state.app.merges(a).await?
    } else {
        Vec::new()
    };
    let jst = |t: OffsetDateTime| {
        let t = t.to_offset(renkei_app::JST);
        format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
    };
    let person_rows = |p: &renkei_domain::Person, c: &renkei_domain::Person| {
        let o = |x: &Option<String>| x.clone().unwrap_or_default();
        vec![
            ("氏名", o(&p.name_kanji), o(&c.name_kanji)),
            ("カナ", p.name_kana.clone(), c.name_kana.clone()),
            (
                "性別",
                p.sex.label_ja().to_owned(),
                c.sex.label_ja().to_owned(),
            ),
            (
                "生年月日",
                p.birth_date.to_string(),
                c.birth_date.to_string(),
            ),
            ("郵便番号", o(&p.postal_code), o(&c.postal_code)),
            ("住所", o(&p.address), o(&c.address)),
        ]
    };
    Ok(render(&MpiPage {
        nav: Nav::for_actor(a, &s.0.session.csrf_token),
        csrf: s.0.session.csrf_token.clone(),
        notice: match q.done.as_deref() {
            Some("same") => Some("統合しました。".into()),
            Some("different") => {
                Some("別人として記録しました。この組み合わせは今後確認を求めません。".into())
            }
            Some("unmerged") => Some("統合を解除しました。".into()),
            _ => None,
        },
        office,
        items: items
            .iter()
            .map(|i| MpiItemView {
                id: i.match_id.to_string(),
                score: format!("{:.1}", i.score),
                rows: person_rows(&i.person, &i.candidate),
                evidence: i
                    .evidence
                    .iter()
                    .map(|(f, l, w)| (f.clone(), l.clone(), format!("{w:+.1}")))
                    .collect(),
            })
            .collect(),
        merges: merges
            .iter()
            .map(|m| {
                (
                    jst(m.merged_at),
                    m.survivor.to_string(),
                    m.merged.to_string(),
                    if m.unmerged_at.is_some() {
                        "解除済み"
                    } else {
                        "統合中"
                    },
                    m.unmerged_at.is_none(),
                    m.id.to_string(),
                )
            })
            .collect(),
    }))
}

pub(crate) async fn mpi_decide(
    State(state): State<AppState>,
    s: Signed,
    Path((id, decision)): Path<(String, String)>,
    Form(f): Form<UserActionFields>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| WebError::App(AppError::NotFound("match")))?;
    let same = match decision.as_str() {
        "same" => true,
        "different" => false,
        _ => return Err(WebError::App(AppError::NotFound("decision"))),
    };
    state.app.decide_match(&s.0.actor, id, same).await?;
    Ok(Redirect::to(&format!("/office/mpi?done={decision}")).into_response())
}

pub(crate) async fn mpi_unmerge(
    State(state): State<AppState>,
    s: Signed,
    Path(id): Path<String>,
    Form(f): Form<UserActionFields>,
) -> Result<Response, WebError> {
    s.check_csrf(&f.csrf)?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| WebError::App(AppError::NotFound("merge")))?;
    state.app.unmerge(Some(&s.0.actor), id).await?;
    Ok(Redirect::to("/office/mpi?done=unmerged").into_response())
}
