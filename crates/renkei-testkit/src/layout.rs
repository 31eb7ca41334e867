//! The fixed layout of the demo region: its facilities and their staff accounts.
//!
//! The layout does not depend on the seed, so demo logins (`dr.sato` at the core hospital and so
//! on) and facility codes stay the same whatever residents are generated.
//!
//! Codes use district number 00 (医療機関コード: prefecture 14, fee table, `00`, four digits and
//! the Luhn check digit; 介護保険事業所番号: `14 99 00` and four digits), so they are easy to
//! recognise as synthetic.

use crate::names::{FEMALE_YOUNGER, MALE_YOUNGER, NAME_SEPARATOR, SURNAMES, TOWN};
use crate::{DemoFacility, DemoUser};
use renkei_domain::{FacilityCode, FacilityKind, LoginName, Profession, Role};
use std::collections::HashSet;
use time::macros::date;
use time::{Date, Month};

const HOSPITALS: [&str; 4] = [
    "なぎさ市立みなと総合病院",
    "なぎさ中央病院",
    "かもめ台リハビリテーション病院",
    "汐見台記念病院",
];

const MEDICAL_CLINICS: [&str; 20] = [
    "あおば内科クリニック",
    "桜町整形外科クリニック",
    "ひばりこどもクリニック",
    "みどり眼科クリニック",
    "港町耳鼻咽喉科",
    "若葉皮膚科クリニック",
    "なぎさ循環器内科クリニック",
    "本町消化器内科クリニック",
    "汐見台ファミリークリニック",
    "栄町心療内科",
    "松風在宅クリニック",
    "旭町内科・糖尿病クリニック",
    "寿町泌尿器科クリニック",
    "かもめ台脳神経外科クリニック",
    "青葉台レディースクリニック",
    "東町内科医院",
    "西町整形外科・リハビリクリニック",
    "浜見町眼科",
    "ひばりが丘内科クリニック",
    "なぎさ駅前クリニック",
];

const DENTAL_CLINICS: [&str; 4] = [
    "なぎさ歯科医院",
    "港町デンタルクリニック",
    "若葉こども歯科",
    "汐見台歯科クリニック",
];

const PHARMACIES: [&str; 6] = [
    "みなと薬局 病院前店",
    "なぎさ調剤薬局",
    "かもめ薬局",
    "若葉薬局",
    "ひばり調剤薬局",
    "青葉台薬局",
];

const HOME_NURSING_STATIONS: [&str; 3] = [
    "訪問看護ステーションみなと",
    "訪問看護ステーションなぎさ",
    "訪問看護ステーションこもれび",
];

const CARE_FACILITIES: [&str; 3] = [
    "特別養護老人ホームなぎさの里",
    "介護老人保健施設かもめ苑",
    "グループホームひだまり汐見",
];

const CARE_MANAGEMENT_OFFICES: [&str; 3] = [
    "居宅介護支援事業所かもめ",
    "なぎさ市社協居宅介護支援事業所",
    "ケアプランセンターわかば",
];

const COMMUNITY_SUPPORT_CENTRES: [&str; 1] = ["なぎさ市北部地域包括支援センター"];

/// The facilities in index order: the core hospital first, then the other hospitals, medical
/// clinics, dental clinics, pharmacies, home-nursing stations, care facilities, care-management
/// offices and the community support centre.
pub(crate) fn facilities() -> Vec<DemoFacility> {
    let groups: [(FacilityKind, &[&str]); 8] = [
        (FacilityKind::Hospital, &HOSPITALS),
        (FacilityKind::MedicalClinic, &MEDICAL_CLINICS),
        (FacilityKind::DentalClinic, &DENTAL_CLINICS),
        (FacilityKind::Pharmacy, &PHARMACIES),
        (FacilityKind::HomeNursingStation, &HOME_NURSING_STATIONS),
        (FacilityKind::CareFacility, &CARE_FACILITIES),
        (FacilityKind::CareManagementOffice, &CARE_MANAGEMENT_OFFICES),
        (
            FacilityKind::CommunitySupportCentre,
            &COMMUNITY_SUPPORT_CENTRES,
        ),
    ];
    let mut out = Vec::new();
    for (kind, names) in groups {
        for (ordinal, name) in names.iter().enumerate() {
            let Some(code) = code_for(kind, ordinal) else {
                continue;
            };
            out.push(DemoFacility {
                code,
                name: (*name).to_owned(),
                kind,
                joined_on: joined_on(out.len()),
            });
        }
    }
    out
}

/// The facility code of the `ordinal`-th facility of `kind` (serial numbers start at 1).
fn code_for(kind: FacilityKind, ordinal: usize) -> Option<FacilityCode> {
    let (fee_table, serial) = match kind {
        FacilityKind::Hospital => ('1', 1 + ordinal),
        FacilityKind::MedicalClinic => ('1', 101 + ordinal),
        FacilityKind::DentalClinic => ('3', 1 + ordinal),
        FacilityKind::Pharmacy => ('4', 1 + ordinal),
        FacilityKind::HomeNursingStation => ('6', 1 + ordinal),
        FacilityKind::CareFacility => return care_code(kind, 1 + ordinal),
        FacilityKind::CareManagementOffice => return care_code(kind, 101 + ordinal),
        FacilityKind::CommunitySupportCentre => return care_code(kind, 201 + ordinal),
    };
    FacilityCode::with_check_digit(&format!("14{fee_table}00{serial:04}"))
}

fn care_code(kind: FacilityKind, serial: usize) -> Option<FacilityCode> {
    FacilityCode::parse(&format!("149900{serial:04}"), kind).ok()
}

/// 参加日: the core hospital founded the network in April 2019; the others joined on the first
/// of a month between 2019 and 2024.
fn joined_on(index: usize) -> Date {
    if index == 0 {
        return date!(2019 - 04 - 01);
    }
    let year = 2019 + i32::try_from(index * 5 % 6).unwrap_or(0);
    let month = u8::try_from(1 + index * 7 % 12)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .unwrap_or(Month::April);
    Date::from_calendar_date(year, month, 1).unwrap_or(date!(2019 - 04 - 01))
}

/// How a staff member's login and name are made.
enum Login {
    /// A memorable demo account: fixed login, surname and given name.
    Fixed(&'static str, &'static str, &'static str),
    /// A fixed login (`admin`, `clerk`) with a generated name.
    Named(&'static str),
    /// `prefix.surname`, e.g. `dr.kimura`.
    Prefixed(&'static str),
}

struct Staff {
    login: Login,
    profession: Profession,
    roles: &'static [Role],
}

const CLINICAL: &[Role] = &[Role::Clinical];
const CLERK: &[Role] = &[Role::Clerk];
const ADMIN: &[Role] = &[Role::Clerk, Role::FacilityAdmin];
const OFFICE: &[Role] = &[Role::NetworkOffice, Role::Clerk];

fn fixed(login: &'static str, surname: &'static str, given: &'static str, p: Profession) -> Staff {
    let roles = if p == Profession::Clerk {
        CLERK
    } else {
        CLINICAL
    };
    Staff {
        login: Login::Fixed(login, surname, given),
        profession: p,
        roles,
    }
}

fn clinician(prefix: &'static str, profession: Profession) -> Staff {
    Staff {
        login: Login::Prefixed(prefix),
        profession,
        roles: CLINICAL,
    }
}

fn clerk() -> Staff {
    Staff {
        login: Login::Named("clerk"),
        profession: Profession::Clerk,
        roles: CLERK,
    }
}

fn admin() -> Staff {
    Staff {
        login: Login::Named("admin"),
        profession: Profession::Clerk,
        roles: ADMIN,
    }
}

/// The staff of the `ordinal`-th facility of `kind`; facility index 0 is the core hospital.
fn staff_for(index: usize, kind: FacilityKind, ordinal: usize) -> Vec<Staff> {
    use Profession as P;
    let first = ordinal == 0;
    let mut staff = Vec::new();
    match kind {
        FacilityKind::Hospital if index == 0 => {
            staff.push(fixed("dr.sato", "佐藤", "一郎", P::Physician));
            staff.push(fixed("ns.suzuki", "鈴木", "花子", P::Nurse));
            staff.push(Staff {
                login: Login::Fixed("office", "高橋", "美咲"),
                profession: P::Clerk,
                roles: OFFICE,
            });
            staff.push(fixed("clerk", "渡辺", "由美", P::Clerk));
            staff.push(Staff {
                login: Login::Fixed("admin", "中村", "誠"),
                profession: P::Clerk,
                roles: ADMIN,
            });
            staff.push(clinician("dr", P::Physician));
            staff.push(clinician("ns", P::Nurse));
            staff.push(clinician("pt", P::PhysicalTherapist));
            staff.push(clinician("ot", P::OccupationalTherapist));
            staff.push(clinician("st", P::SpeechTherapist));
            staff.push(clinician("msw", P::MedicalSocialWorker));
            return staff;
        }
        FacilityKind::Hospital => {
            staff.push(clinician("dr", P::Physician));
            staff.push(clinician("ns", P::Nurse));
            staff.push(clerk());
        }
        FacilityKind::MedicalClinic => {
            if first {
                staff.push(fixed("dr.tanaka", "田中", "健一", P::Physician));
            } else {
                staff.push(clinician("dr", P::Physician));
            }
            if ordinal % 4 == 1 {
                staff.push(clinician("ns", P::Nurse));
            }
            if ordinal % 5 == 2 {
                staff.push(clerk());
            }
        }
        FacilityKind::DentalClinic => {
            staff.push(clinician("dds", P::Dentist));
            staff.push(clinician("dh", P::DentalHygienist));
        }
        FacilityKind::Pharmacy => {
            if first {
                staff.push(fixed("ph.ito", "伊藤", "裕子", P::Pharmacist));
            }
            staff.push(clinician("ph", P::Pharmacist));
        }
        FacilityKind::HomeNursingStation => {
            staff.push(clinician("hn", P::HomeVisitNurse));
            if first {
                staff.push(clinician("hn", P::HomeVisitNurse));
            }
        }
        FacilityKind::CareFacility => {
            if first {
                staff.push(fixed("cw.yamada", "山田", "直美", P::CareWorker));
                staff.push(clinician("ns", P::Nurse));
            } else {
                staff.push(clinician("cw", P::CareWorker));
            }
        }
        FacilityKind::CareManagementOffice => {
            if first {
                staff.push(fixed("cm.kato", "加藤", "明美", P::CareManager));
            } else {
                staff.push(clinician("cm", P::CareManager));
            }
        }
        FacilityKind::CommunitySupportCentre => {
            staff.push(clinician("phn", P::PublicHealthNurse));
            staff.push(clinician("cm", P::CareManager));
            staff.push(clerk());
        }
    }
    staff.push(admin());
    staff
}

/// Staff accounts for `facilities` (as made by [`facilities()`]).
pub(crate) fn users(facilities: &[DemoFacility]) -> Vec<DemoUser> {
    let mut ordinals: Vec<(FacilityKind, usize)> = Vec::new();
    let staff: Vec<Vec<Staff>> = facilities
        .iter()
        .enumerate()
        .map(|(index, facility)| {
            let ordinal = match ordinals.iter_mut().find(|(k, _)| *k == facility.kind) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    ordinals.push((facility.kind, 0));
                    0
                }
            };
            staff_for(index, facility.kind, ordinal)
        })
        .collect();
    // Generated names never repeat a demo account's name or each other.
    let mut names = NameCursor {
        count: 0,
        used: staff
            .iter()
            .flatten()
            .filter_map(|s| match s.login {
                Login::Fixed(_, surname, given) => Some(display(surname, given)),
                _ => None,
            })
            .collect(),
    };
    let reserved: HashSet<String> = staff
        .iter()
        .flatten()
        .filter_map(|s| match s.login {
            Login::Fixed(login, _, _) => Some(login.to_owned()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for (facility, staff) in facilities.iter().zip(staff) {
        let mut taken: HashSet<String> = HashSet::new();
        for staff in staff {
            let (wanted, display_name) = match staff.login {
                Login::Fixed(login, surname, given) => (login.to_owned(), display(surname, given)),
                Login::Named(login) => (login.to_owned(), names.next().1),
                Login::Prefixed(prefix) => {
                    // Prefer another name to `dr.sato2` next to `dr.sato`, and keep the demo
                    // logins (`dr.tanaka`…) to their own facilities.
                    let mut next = names.next();
                    for _ in 0..SURNAMES.len() {
                        let login = format!("{prefix}.{}", next.0);
                        if !taken.contains(&login) && !reserved.contains(&login) {
                            break;
                        }
                        next = names.next();
                    }
                    (format!("{prefix}.{}", next.0), next.1)
                }
            };
            let login = unique_login(&wanted, &taken);
            let Ok(login_name) = LoginName::parse(&login) else {
                continue;
            };
            taken.insert(login);
            out.push(DemoUser {
                facility_code: facility.code.clone(),
                login: login_name,
                display_name,
                profession: staff.profession,
                roles: staff.roles.to_vec(),
            });
        }
    }
    out
}

fn display(surname: &str, given: &str) -> String {
    format!("{surname}{NAME_SEPARATOR}{given}")
}

/// `wanted`, or `wanted2`, `wanted3`… if a colleague at the same facility already has it.
fn unique_login(wanted: &str, taken: &HashSet<String>) -> String {
    if !taken.contains(wanted) {
        return wanted.to_owned();
    }
    (2..)
        .map(|n| format!("{wanted}{n}"))
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or_else(|| wanted.to_owned())
}

/// Walks the surname and given-name lists in a fixed order to name staff.
struct NameCursor {
    count: usize,
    /// Display names already given out.
    used: HashSet<String>,
}

impl NameCursor {
    /// The next staff member's (romanised surname, display name).
    fn next(&mut self) -> (&'static str, String) {
        let mut fallback = None;
        // There are far more combinations than staff; the bound only keeps the loop finite.
        for _ in 0..SURNAMES.len() {
            let candidate = self.candidate();
            if let Some((romaji, name)) = candidate {
                if self.used.insert(name.clone()) {
                    return (romaji, name);
                }
                fallback.get_or_insert((romaji, name));
            }
        }
        fallback.unwrap_or_else(|| ("staff", format!("{TOWN}職員")))
    }

    fn candidate(&mut self) -> Option<(&'static str, String)> {
        let n = self.count;
        self.count += 1;
        // 11 and 42 are coprime, so every surname comes up before any repeats.
        let surname = SURNAMES.get((6 + n * 11) % SURNAMES.len())?;
        let given = if n.is_multiple_of(2) {
            FEMALE_YOUNGER.get(n / 2 % FEMALE_YOUNGER.len())?
        } else {
            MALE_YOUNGER.get(n / 2 % MALE_YOUNGER.len())?
        };
        Some((surname.romaji, display(surname.name.kanji, given.kanji)))
    }
}
