//! HTML pages: parse the request, call the application, render a template.

use crate::session::{
    AnySession, ClientAddr, LOGIN_CSRF_COOKIE, SESSION_COOKIE, Signed, cookie, removal,
    tokens_match,
};
use crate::views::*;
use crate::{AppState, WebError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use base64::Engine;
use renkei_app::accounts::LoginError;
use renkei_app::{AppError, LoginAttempt};
use renkei_domain::consent::{ConsentMode, ConsentState};
use renkei_domain::{ConsentId, ConsentScope, PersonId, Role};
use serde::Deserialize;

const CLERICAL: [Role; 3] = [Role::Clerk, Role::FacilityAdmin, Role::NetworkOffice];

fn random_token() -> Result<String, WebError> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|_| WebError::Internal)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

pub(crate) async fn root(jar: CookieJar) -> Redirect {
    if jar.get(SESSION_COOKIE).is_some() {
        Redirect::to("/home")
    } else {
        Redirect::to("/login")
    }
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    expired: Option<String>,
    logged_out: Option<String>,
}

pub(crate) async fn login_page(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let csrf = random_token()?;
    let notice = if q.expired.is_some() {
        Some(WebError::Unauthenticated { expired: true }.message_ja())
    } else if q.logged_out.is_some() {
        Some("ログアウトしました。".to_owned())
    } else {
        None
    };
    let page = LoginPage {
        nav: Nav::anonymous(),
        csrf: csrf.clone(),
        error: None,
        notice,
        facility_code: String::new(),
        login: String::new(),
    };
    let jar = jar.add(cookie(LOGIN_CSRF_COOKIE, csrf, state.secure_cookies));
    Ok((jar, render(&page)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct LoginFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    facility_code: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    otp: String,
}

pub(crate) async fn login_submit(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientAddr(addr): ClientAddr,
    Form(f): Form<LoginFields>,
) -> Result<Response, WebError> {
    let expected = jar
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if !tokens_match(&f.csrf, &expected) {
        return Err(WebError::Csrf);
    }
    if !state.throttle.allow(addr.as_deref()) {
        return Err(WebError::TooManyAttempts);
    }
    let attempt = LoginAttempt {
        facility_code: f.facility_code.clone(),
        login: f.login.clone(),
        password: f.password,
        second_factor: f.otp,
        client_addr: addr,
    };
    match state.app.login(&attempt).await {
        Ok(ok) => {
            let next = match ok.session.stage {
                renkei_app::SessionStage::Full => "/home",
                renkei_app::SessionStage::EnrolTotp => "/totp/enrol",
                renkei_app::SessionStage::ChangePassword => "/password",
            };
            let jar = jar.remove(removal(LOGIN_CSRF_COOKIE)).add(cookie(
                SESSION_COOKIE,
                ok.token,
                state.secure_cookies,
            ));
            Ok((jar, Redirect::to(next)).into_response())
        }
        Err(e) => {
            let status = match e {
                LoginError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNAUTHORIZED,
            };
            let page = LoginPage {
                nav: Nav::anonymous(),
                csrf: expected,
                error: Some(e.message_ja()),
                notice: None,
                facility_code: f.facility_code,
                login: f.login,
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    s: AnySession,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    if !tokens_match(&f.csrf, &s.session.csrf_token) {
        return Err(WebError::Csrf);
    }
    state.app.logout(&s.actor, &s.token).await?;
    Ok((
        jar.remove(removal(SESSION_COOKIE)),
        Redirect::to("/login?logged_out=1"),
    )
        .into_response())
}

pub(crate) async fn home(Signed(s): Signed) -> Html {
    let a = &s.actor;
    let nav = Nav::for_actor(a, &s.session.csrf_token);
    let clerical = nav.clerical;
    render(&HomePage {
        nav,
        facility_name: a.facility.name.clone(),
        facility_kind: a.facility.kind.label_ja(),
        user_name: a.user.display_name.clone(),
        profession: a.user.profession.label_ja(),
        roles: a
            .user
            .roles
            .iter()
            .map(|r| r.label_ja())
            .collect::<Vec<_>>()
            .join("・"),
        clerical,
    })
}

type Html = axum::response::Html<String>;

fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

pub(crate) async fn totp_enrol_page(
    State(state): State<AppState>,
    s: AnySession,
) -> Result<Response, WebError> {
    match s.session.stage {
        renkei_app::SessionStage::Full => return Ok(Redirect::to("/home").into_response()),
        renkei_app::SessionStage::ChangePassword => {
            return Ok(Redirect::to("/password").into_response());
        }
        renkei_app::SessionStage::EnrolTotp => {}
    }
    let (secret, url) = state.app.begin_totp_enrolment(&s.actor).await?;
    Ok(render(&TotpEnrolPage {
        nav: Nav::for_actor(&s.actor, &s.session.csrf_token),
        csrf: s.session.csrf_token.clone(),
        qr_svg: qr_svg(&url),
        secret,
        error: None,
    })
    .into_response())
}

#[derive(Deserialize)]
pub(crate) struct EnrolFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

pub(crate) async fn totp_enrol_submit(
    State(state): State<AppState>,
    s: AnySession,
    Form(f): Form<EnrolFields>,
) -> Result<Response, WebError> {
    if !tokens_match(&f.csrf, &s.session.csrf_token) {
        return Err(WebError::Csrf);
    }
    if s.session.stage != renkei_app::SessionStage::EnrolTotp {
        // A repeated submission (reload, double click) after enrolment changes nothing.
        return Ok(Redirect::to("/home").into_response());
    }
    match state
        .app
        .confirm_totp_enrolment(&s.actor, &s.session, &f.code)
        .await
    {
        Ok(codes) => Ok(render(&RecoveryCodesPage {
            nav: Nav::for_actor(&s.actor, &s.session.csrf_token),
            codes,
        })
        .into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            // Show a fresh secret: the failed one is not kept.
            let (secret, url) = state.app.begin_totp_enrolment(&s.actor).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&TotpEnrolPage {
                    nav: Nav::for_actor(&s.actor, &s.session.csrf_token),
                    csrf: s.session.csrf_token.clone(),
                    qr_svg: qr_svg(&url),
                    secret,
                    error: Some(format!(
                        "{} 新しいキーで登録し直してください。",
                        e.message_ja()
                    )),
                }),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    page: Option<String>,
}

pub(crate) async fn residents(
    State(state): State<AppState>,
    Signed(s): Signed,
    Query(q): Query<PageQuery>,
) -> Result<Html, WebError> {
    let page = q
        .page
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0)
        .clamp(0, 100_000);
    let lines = state.app.resident_list(&s.actor, page).await?;
    Ok(render(&ResidentsPage {
        nav: Nav::for_actor(&s.actor, &s.session.csrf_token),
        facility_name: s.actor.facility.name.clone(),
        lines: lines
            .into_iter()
            .map(|l| ResidentLineView {
                id: l.person.id.to_string(),
                local_id: l.local_id,
                name_kanji: l.person.name_kanji.unwrap_or_default(),
                name_kana: l.person.name_kana,
                sex: l.person.sex.label_ja(),
                birth_date: l.person.birth_date.to_string(),
                consent_active: l.consent_active,
            })
            .collect(),
        page,
    }))
}

pub(crate) async fn register_page(Signed(s): Signed) -> Result<Html, WebError> {
    s.actor.require_any(&CLERICAL)?;
    let today = renkei_app::today_jst(time::OffsetDateTime::now_utc());
    let fields = RegisterFields {
        consent_signed_on: today.to_string(),
        consent_method: "paper".into(),
        ..RegisterFields::default()
    };
    Ok(render(&RegisterPage {
        nav: Nav::for_actor(&s.actor, &s.session.csrf_token),
        csrf: s.session.csrf_token.clone(),
        error: None,
        f: RegisterView::from(&fields),
    }))
}

pub(crate) async fn register_submit(
    State(state): State<AppState>,
    signed: Signed,
    Form(f): Form<RegisterFields>,
) -> Result<Response, WebError> {
    signed.check_csrf(&f.csrf)?;
    let s = &signed.0;
    match state.app.register_resident(&s.actor, &f.to_form()).await {
        Ok(person) => {
            Ok(Redirect::to(&format!("/residents/{person}?registered=1")).into_response())
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Consent(_) | AppError::Duplicate(_))) => {
            let status = WebError::App(AppError::Duplicate("")).status();
            let status = if matches!(e, AppError::Duplicate(_)) {
                status
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok((
                status,
                render(&RegisterPage {
                    nav: Nav::for_actor(&s.actor, &s.session.csrf_token),
                    csrf: s.session.csrf_token.clone(),
                    error: Some(e.message_ja()),
                    f: RegisterView::from(&f),
                }),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct ResidentQuery {
    registered: Option<String>,
    consented: Option<String>,
    withdrawn: Option<String>,
}

fn parse_person(id: &str) -> Result<PersonId, WebError> {
    id.parse()
        .map_err(|_| WebError::App(AppError::NotFound("person")))
}

pub(crate) async fn resident(
    State(state): State<AppState>,
    Signed(s): Signed,
    Path(id): Path<String>,
    Query(q): Query<ResidentQuery>,
) -> Result<Html, WebError> {
    let person = parse_person(&id)?;
    let r = state.app.resident_record(&s.actor, person).await?;
    let p = &r.person;
    let notice = if q.registered.is_some() {
        Some("住民を登録しました。".to_owned())
    } else if q.consented.is_some() {
        Some("新しい同意を登録しました。同意日以降の情報が共有されます。".to_owned())
    } else if q.withdrawn.is_some() {
        Some(
            "同意を撤回しました。この時点から、この方の情報はどの施設からも閲覧できません。"
                .to_owned(),
        )
    } else {
        None
    };
    let jst = |t: time::OffsetDateTime| {
        let t = t.to_offset(renkei_app::JST);
        format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
    };
    Ok(render(&ResidentPage {
        nav: Nav::for_actor(&s.actor, &s.session.csrf_token),
        csrf: s.session.csrf_token.clone(),
        notice,
        error: None,
        person_id: p.id.to_string(),
        name: p.name_kanji.clone().unwrap_or_else(|| p.name_kana.clone()),
        name_kana: p.name_kana.clone(),
        sex: p.sex.label_ja(),
        birth_date: p.birth_date.to_string(),
        postal_code: p.postal_code.clone().unwrap_or_default(),
        address: p.address.clone().unwrap_or_default(),
        phone: p.phone.clone().unwrap_or_default(),
        consent_active: r.consent_state == ConsentState::Active,
        today: renkei_app::today_jst(time::OffsetDateTime::now_utc()).to_string(),
        consent_state: match r.consent_state {
            ConsentState::Active => "同意あり（共有中）",
            ConsentState::Withdrawn => "撤回済み（共有停止）",
            ConsentState::None => "同意なし",
        },
        consents: r
            .consents
            .iter()
            .map(|c| ConsentView {
                id: c.id.to_string(),
                signed_on: c.signed_on.to_string(),
                method: c.method.label_ja(),
                proxy: c
                    .proxy
                    .as_ref()
                    .map(|p| format!("{}（{}）", p.name, p.relationship))
                    .unwrap_or_else(|| "本人".into()),
                mode: match &c.mode {
                    ConsentMode::Blanket { excluded } if excluded.is_empty() => "一括同意".into(),
                    ConsentMode::Blanket { excluded } => {
                        format!("一括同意（{}施設を除外）", excluded.len())
                    }
                    ConsentMode::FacilitySpecific { facilities } => {
                        format!("個別同意（{}施設）", facilities.len())
                    }
                },
                scope: if c.scopes.contains(&ConsentScope::National) {
                    "地域内・他地域"
                } else {
                    "地域内"
                },
                withdrawn: c.withdrawn_at.map(jst),
            })
            .collect(),
        local_ids: r
            .local_ids
            .iter()
            .map(|(f, lp)| (f.name.clone(), lp.local_id.to_string(), jst(lp.linked_at)))
            .collect(),
    }))
}

pub(crate) async fn withdraw_consent(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, consent)): Path<(String, String)>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    signed.check_csrf(&f.csrf)?;
    let person = parse_person(&id)?;
    let consent: ConsentId = consent
        .parse()
        .map_err(|_| WebError::App(AppError::NotFound("consent")))?;
    state
        .app
        .withdraw_consent(&signed.0.actor, person, consent)
        .await?;
    Ok(Redirect::to(&format!("/residents/{person}?withdrawn=1")).into_response())
}

pub(crate) async fn htmx() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/htmx.min.js"),
    )
        .into_response()
}

pub(crate) async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/renkei.css"),
    )
        .into_response()
}

pub(crate) async fn password_page(s: AnySession) -> Html {
    render(&PasswordPage {
        nav: Nav::for_actor(&s.actor, &s.session.csrf_token),
        csrf: s.session.csrf_token.clone(),
        forced: s.session.stage == renkei_app::SessionStage::ChangePassword,
        error: None,
        min_chars: renkei_app::accounts::MIN_PASSWORD_CHARS,
    })
}

#[derive(Deserialize)]
pub(crate) struct PasswordFields {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat_password: String,
}

pub(crate) async fn password_submit(
    State(state): State<AppState>,
    s: AnySession,
    Form(f): Form<PasswordFields>,
) -> Result<Response, WebError> {
    if !tokens_match(&f.csrf, &s.session.csrf_token) {
        return Err(WebError::Csrf);
    }
    match state
        .app
        .change_password(
            &s.actor,
            &s.session,
            &f.current_password,
            &f.new_password,
            &f.repeat_password,
        )
        .await
    {
        Ok(renkei_app::SessionStage::EnrolTotp) => Ok(Redirect::to("/totp/enrol").into_response()),
        Ok(_) => Ok(Redirect::to("/home?password=changed").into_response()),
        Err(e @ AppError::Invalid { .. }) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&PasswordPage {
                nav: Nav::for_actor(&s.actor, &s.session.csrf_token),
                csrf: s.session.csrf_token.clone(),
                forced: s.session.stage == renkei_app::SessionStage::ChangePassword,
                error: Some(e.message_ja()),
                min_chars: renkei_app::accounts::MIN_PASSWORD_CHARS,
            }),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn record_consent(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(f): Form<RegisterFields>,
) -> Result<Response, WebError> {
    signed.check_csrf(&f.csrf)?;
    let person = parse_person(&id)?;
    state
        .app
        .record_consent(&signed.0.actor, person, &f.to_consent_input())
        .await?;
    Ok(Redirect::to(&format!("/residents/{person}?consented=1")).into_response())
}
