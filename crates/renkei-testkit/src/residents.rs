//! Synthetic residents: names, demographics, local patient numbers and consent forms.
//!
//! The population is skewed old, as in real regional networks: about two thirds were born before
//! 1955, many register through the core hospital, and the very old and children sign through a
//! proxy (代理人).

use crate::names::{
    ADULT_PROXY_RELATIONSHIPS, BUILDINGS, DISTRICTS, FEMALE_OLDER, FEMALE_YOUNGER, Kin, MALE_OLDER,
    MALE_YOUNGER, NAME_SEPARATOR, Name, PREFECTURE, SURNAMES, Surname, TOWN,
};
use crate::{DemoFacility, DemoResident};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use renkei_domain::consent::ConsentForm;
use renkei_domain::{ConsentMethod, ConsentMode, FacilityKind, LocalPatientNumber, Proxy, Sex};
use time::macros::date;
use time::{Date, Duration};

/// The network started taking consent forms on this day.
const CONSENT_START: Date = date!(2022 - 01 - 01);
const BIRTH_START: Date = date!(1925 - 01 - 01);
const BIRTH_END: Date = date!(2024 - 12 - 31);
/// Born before this year: given names from the older lists.
const OLDER_NAMES_BEFORE: i32 = 1960;

/// Birth-year ranges with relative weights: regional networks are mostly elderly.
const BIRTH_YEARS: [(i32, i32, u32); 6] = [
    (1925, 1934, 14),
    (1935, 1944, 30),
    (1945, 1954, 22),
    (1955, 1969, 14),
    (1970, 1999, 11),
    (2000, 2024, 9),
];

/// How many facilities know the resident (1–4), with relative weights.
const LINK_COUNTS: [(usize, u32); 4] = [(1, 30), (2, 35), (3, 22), (4, 13)];

const FALLBACK_SURNAME: Surname = Surname {
    name: Name {
        kanji: "佐藤",
        kana: "サトウ",
    },
    romaji: "sato",
};
const FALLBACK_NAME: Name = Name {
    kanji: "花子",
    kana: "ハナコ",
};

/// A facility's own patient-number sequence: numbers only go up, so they never repeat.
struct LocalCounter {
    next: u64,
    width: usize,
    max_step: u64,
}

impl LocalCounter {
    fn new(rng: &mut StdRng, kind: FacilityKind) -> Self {
        match kind {
            FacilityKind::Hospital => Self {
                next: rng.gen_range(10_000_000..40_000_000),
                width: 8,
                max_step: 7,
            },
            FacilityKind::Pharmacy => Self {
                next: rng.gen_range(1_000_000..3_000_000),
                width: 7,
                max_step: 4,
            },
            _ => Self {
                next: rng.gen_range(0..50_000),
                width: 7,
                max_step: 3,
            },
        }
    }

    fn issue(&mut self, rng: &mut StdRng) -> Option<LocalPatientNumber> {
        self.next = self.next.saturating_add(rng.gen_range(1..=self.max_step));
        LocalPatientNumber::parse(&format!("{:0width$}", self.next, width = self.width)).ok()
    }
}

/// Where a resident signs the consent form, relative weights.
fn registering_weight(index: usize, kind: FacilityKind) -> u32 {
    match kind {
        FacilityKind::Hospital if index == 0 => 30,
        FacilityKind::Hospital => 6,
        FacilityKind::MedicalClinic => 2,
        FacilityKind::CareManagementOffice => 2,
        FacilityKind::CommunitySupportCentre => 3,
        _ => 1,
    }
}

/// Which other facilities also hold a record of the resident, relative weights.
fn linked_weight(index: usize, kind: FacilityKind, elderly: bool) -> u32 {
    let care = if elderly { 3 } else { 0 };
    match kind {
        FacilityKind::Hospital if index == 0 => 24,
        FacilityKind::Hospital => 8,
        FacilityKind::MedicalClinic => 4,
        FacilityKind::DentalClinic => 2,
        FacilityKind::Pharmacy => 8,
        FacilityKind::HomeNursingStation => 1 + care,
        FacilityKind::CareFacility => 1 + care,
        FacilityKind::CareManagementOffice => 1 + care * 2,
        FacilityKind::CommunitySupportCentre => 1 + care,
    }
}

/// An index drawn with the given relative weights; `None` if they are all zero.
fn weighted(rng: &mut StdRng, weights: impl Iterator<Item = u32> + Clone) -> Option<usize> {
    let total: u64 = weights.clone().map(u64::from).sum();
    if total == 0 {
        return None;
    }
    let mut r = rng.gen_range(0..total);
    for (i, w) in weights.enumerate() {
        let w = u64::from(w);
        if r < w {
            return Some(i);
        }
        r -= w;
    }
    None
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T], fallback: T) -> T {
    items.choose(rng).copied().unwrap_or(fallback)
}

/// A day between `lo` and `hi` inclusive (`hi` if the range is empty).
fn day_between(rng: &mut StdRng, lo: Date, hi: Date) -> Date {
    let span = (hi - lo).whole_days();
    if span <= 0 {
        return hi;
    }
    lo.checked_add(Duration::days(rng.gen_range(0..=span)))
        .unwrap_or(hi)
}

/// Whole years from `birth` to `on`.
fn age_on(birth: Date, on: Date) -> i32 {
    let before_birthday = (u8::from(on.month()), on.day()) < (u8::from(birth.month()), birth.day());
    on.year() - birth.year() - i32::from(before_birthday)
}

fn given_name(rng: &mut StdRng, sex: Sex, born_older: bool) -> Name {
    let sex = match sex {
        Sex::Unknown if rng.gen_bool(0.5) => Sex::Male,
        Sex::Unknown => Sex::Female,
        s => s,
    };
    // Mostly names of the resident's generation, sometimes not.
    let older = born_older != rng.gen_bool(0.1);
    let list: &[Name] = match (sex, older) {
        (Sex::Male, true) => &MALE_OLDER,
        (Sex::Male, false) => &MALE_YOUNGER,
        (_, true) => &FEMALE_OLDER,
        (_, false) => &FEMALE_YOUNGER,
    };
    pick(rng, list, FALLBACK_NAME)
}

fn full(surname: Name, given: Name) -> (String, String) {
    (
        format!("{}{NAME_SEPARATOR}{}", surname.kanji, given.kanji),
        format!("{}{NAME_SEPARATOR}{}", surname.kana, given.kana),
    )
}

/// Who signs for the resident, if anyone: always a parent for children; more often family the
/// older the resident is.
fn proxy(
    rng: &mut StdRng,
    surname: Surname,
    sex: Sex,
    birth_date: Date,
    age: i32,
) -> Option<Proxy> {
    if age < 18 {
        let (relationship, parent_sex) = if rng.gen_bool(0.5) {
            ("母", Sex::Female)
        } else {
            ("父", Sex::Male)
        };
        let given = given_name(rng, parent_sex, false);
        return Some(Proxy {
            name: full(surname.name, given).0,
            relationship: relationship.to_owned(),
        });
    }
    let chance = match age {
        85.. => 0.22,
        75..=84 => 0.08,
        65..=74 => 0.03,
        _ => 0.01,
    };
    if !rng.gen_bool(chance) {
        return None;
    }
    let i = weighted(rng, ADULT_PROXY_RELATIONSHIPS.iter().map(|r| r.2)).unwrap_or(0);
    let (relationship, kin, _) =
        ADULT_PROXY_RELATIONSHIPS
            .get(i)
            .copied()
            .unwrap_or(("長男", Kin::Male, 1));
    let born_older = birth_date.year() < OLDER_NAMES_BEFORE;
    let (family, given) = match kin {
        Kin::Male => (surname, given_name(rng, Sex::Male, false)),
        Kin::Female => (surname, given_name(rng, Sex::Female, false)),
        Kin::Spouse => {
            let other = match sex {
                Sex::Male => Sex::Female,
                Sex::Female => Sex::Male,
                Sex::Unknown => Sex::Unknown,
            };
            (surname, given_name(rng, other, born_older))
        }
        Kin::Guardian => (
            pick(rng, &SURNAMES, FALLBACK_SURNAME),
            given_name(rng, Sex::Unknown, false),
        ),
    };
    Some(Proxy {
        name: full(family.name, given).0,
        relationship: relationship.to_owned(),
    })
}

/// 丁目・番・号 in one of the forms clerks type, sometimes with a building and room.
fn address(rng: &mut StdRng) -> (Option<String>, Option<String>) {
    if rng.gen_bool(0.04) {
        return (None, None);
    }
    let (district, postal) = pick(rng, &DISTRICTS, ("港町", "240-0001"));
    let chome = rng.gen_range(1..=5);
    let ban = rng.gen_range(1..=30);
    let go = rng.gen_range(1..=25);
    let mut address = match rng.gen_range(0..100) {
        0..55 => format!("{PREFECTURE}{TOWN}{district}{chome}丁目{ban}番{go}号"),
        55..85 => format!("{TOWN}{district}{chome}-{ban}-{go}"),
        _ => format!("{TOWN}{district}{chome}丁目{ban}-{go}"),
    };
    if rng.gen_bool(0.15) {
        let building = pick(rng, &BUILDINGS, "なぎさハイツ");
        let room = rng.gen_range(1..=5) * 100 + rng.gen_range(1..=8);
        address = format!("{address}{NAME_SEPARATOR}{building}{room}号室");
    }
    let postal = rng.gen_bool(0.9).then(|| postal.to_owned());
    (postal, Some(address))
}

fn phone(rng: &mut StdRng) -> Option<String> {
    rng.gen_bool(0.88).then(|| {
        format!(
            "045-{:03}-{:04}",
            rng.gen_range(200..=999),
            rng.gen_range(0..=9999)
        )
    })
}

/// `count` residents of the region whose facilities are `facilities`.
pub(crate) fn residents(
    rng: &mut StdRng,
    facilities: &[DemoFacility],
    count: usize,
    today: Date,
) -> Vec<DemoResident> {
    let mut counters: Vec<LocalCounter> = facilities
        .iter()
        .map(|f| LocalCounter::new(rng, f.kind))
        .collect();
    let pharmacies: Vec<usize> = facilities
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind == FacilityKind::Pharmacy)
        .map(|(i, _)| i)
        .collect();

    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        // Pharmacies often hold kana only; about 5% of residents are known by no kanji name.
        let kana_only = !pharmacies.is_empty() && rng.gen_bool(0.05);
        let registered_at = if kana_only {
            pick(rng, &pharmacies, 0)
        } else {
            let weights = facilities
                .iter()
                .enumerate()
                .map(|(i, f)| registering_weight(i, f.kind));
            weighted(rng, weights).unwrap_or(0)
        };
        let joined_on = facilities
            .get(registered_at)
            .map_or(CONSENT_START, |f| f.joined_on);
        let signed_on = day_between(rng, CONSENT_START.max(joined_on).min(today), today);

        let sex = match rng.gen_range(0..1000) {
            0..545 => Sex::Female,
            545..997 => Sex::Male,
            _ => Sex::Unknown,
        };
        let birth_date = birth_date(rng, signed_on);
        let age = age_on(birth_date, signed_on);
        let born_older = birth_date.year() < OLDER_NAMES_BEFORE;
        let surname = pick(rng, &SURNAMES, FALLBACK_SURNAME);
        let given = given_name(rng, sex, born_older);
        let (kanji, name_kana) = full(surname.name, given);
        let (postal_code, address) = address(rng);
        let phone = phone(rng);

        let links = if kana_only {
            let n = rng.gen_range(1..=2);
            link_facilities(
                rng,
                registered_at,
                n,
                |i, f| u32::from(f.kind == FacilityKind::Pharmacy && i != registered_at),
                facilities,
            )
        } else {
            let n = LINK_COUNTS
                .get(weighted(rng, LINK_COUNTS.iter().map(|c| c.1)).unwrap_or(0))
                .map_or(1, |c| c.0);
            let elderly = age >= 75;
            link_facilities(
                rng,
                registered_at,
                n,
                |i, f| linked_weight(i, f.kind, elderly),
                facilities,
            )
        };
        let local_ids = links
            .into_iter()
            .filter_map(|i| Some((i, counters.get_mut(i)?.issue(rng)?)))
            .collect();

        let proxy = proxy(rng, surname, sex, birth_date, age);
        let method = if proxy.is_none() && rng.gen_bool(0.065) {
            ConsentMethod::Web
        } else {
            ConsentMethod::Paper
        };
        let consent = ConsentForm {
            signed_on,
            method,
            proxy,
            national: rng.gen_bool(0.3),
            mode: ConsentMode::Blanket { excluded: vec![] },
        };
        let withdrawn_after_days = rng
            .gen_bool(0.03)
            .then(|| rng.gen_range(0..=(today - signed_on).whole_days().max(0)));

        out.push(DemoResident {
            name_kanji: (!kana_only).then_some(kanji),
            name_kana,
            sex,
            birth_date,
            postal_code,
            address,
            phone,
            registered_at_facility: registered_at,
            local_ids,
            consent,
            withdrawn_after_days,
        });
    }
    out
}

/// A birth date between 1925 and 2024, mostly long ago, never after the consent was signed.
fn birth_date(rng: &mut StdRng, signed_on: Date) -> Date {
    let latest = BIRTH_END.min(signed_on);
    let bucket = weighted(rng, BIRTH_YEARS.iter().map(|b| b.2)).unwrap_or(0);
    let (from, to, _) = BIRTH_YEARS.get(bucket).copied().unwrap_or((1925, 2024, 1));
    let lo = Date::from_calendar_date(from, time::Month::January, 1).unwrap_or(BIRTH_START);
    let hi = Date::from_calendar_date(to, time::Month::December, 31)
        .unwrap_or(BIRTH_END)
        .min(latest);
    if lo > hi {
        day_between(rng, BIRTH_START.min(latest), latest)
    } else {
        day_between(rng, lo, hi)
    }
}

/// `registered_at` followed by up to `n - 1` other distinct facilities drawn by `weight`.
fn link_facilities(
    rng: &mut StdRng,
    registered_at: usize,
    n: usize,
    weight: impl Fn(usize, &DemoFacility) -> u32,
    facilities: &[DemoFacility],
) -> Vec<usize> {
    let mut chosen = vec![registered_at];
    while chosen.len() < n {
        let weights = facilities
            .iter()
            .enumerate()
            .map(|(i, f)| if chosen.contains(&i) { 0 } else { weight(i, f) });
        match weighted(rng, weights) {
            Some(i) => chosen.push(i),
            None => break,
        }
    }
    chosen
}
