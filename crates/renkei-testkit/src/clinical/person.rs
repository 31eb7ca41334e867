//! The people in the messages: the patient as the facility registered them, and the doctor who
//! writes the orders.

use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use renkei_domain::{Profession, Sex};
use time::Date;
use time::macros::date;

use crate::names::{
    DISTRICTS, FEMALE_OLDER, FEMALE_YOUNGER, MALE_OLDER, MALE_YOUNGER, NAME_SEPARATOR, PREFECTURE,
    SURNAMES, TOWN,
};
use crate::{DemoRegion, DemoResident};

/// A patient's demographics as the messages carry them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Person {
    /// (family, given) in kanji; `None` for someone known by kana only.
    pub kanji: Option<(String, String)>,
    /// (family, given) in katakana.
    pub kana: (String, String),
    pub sex: Sex,
    pub birth_date: Date,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
}

/// "佐藤　花子" → ("佐藤", "花子"); a name without the separator is all family name.
fn split(full: &str) -> (String, String) {
    match full.split_once(NAME_SEPARATOR) {
        Some((f, g)) => (f.to_owned(), g.to_owned()),
        None => (full.to_owned(), String::new()),
    }
}

impl Person {
    /// The resident exactly as the demo region registered them, so that matching (名寄せ) finds
    /// the same person in every facility's messages.
    pub(crate) fn of(r: &DemoResident) -> Self {
        Self {
            kanji: r.name_kanji.as_deref().map(split),
            kana: split(&r.name_kana),
            sex: r.sex,
            birth_date: r.birth_date,
            postal_code: r.postal_code.clone(),
            address: r.address.clone(),
            phone: r.phone.clone(),
        }
    }

    /// A random person of the invented town (for the ingest benchmark, which has no region).
    pub(crate) fn random(rng: &mut StdRng) -> Self {
        let sex = if rng.gen_bool(0.55) {
            Sex::Female
        } else {
            Sex::Male
        };
        let year = rng.gen_range(1930..=2015);
        let birth_date =
            Date::from_ordinal_date(year, rng.gen_range(1..=365)).unwrap_or(date!(1950 - 01 - 01));
        let older = year < 1960;
        let given = match (sex, older) {
            (Sex::Male, true) => MALE_OLDER.choose(rng),
            (Sex::Male, false) => MALE_YOUNGER.choose(rng),
            (_, true) => FEMALE_OLDER.choose(rng),
            (_, false) => FEMALE_YOUNGER.choose(rng),
        };
        let surname = SURNAMES.choose(rng);
        let (family_kanji, family_kana) =
            surname.map_or(("佐藤", "サトウ"), |s| (s.name.kanji, s.name.kana));
        let (given_kanji, given_kana) =
            given.map_or(("花子", "ハナコ"), |g| (g.kanji, g.kana));
        let (district, postal) = DISTRICTS
            .choose(rng)
            .copied()
            .unwrap_or(("港町", "240-0001"));
        Self {
            kanji: Some((family_kanji.to_owned(), given_kanji.to_owned())),
            kana: (family_kana.to_owned(), given_kana.to_owned()),
            sex,
            birth_date,
            postal_code: Some(postal.to_owned()),
            address: Some(format!(
                "{PREFECTURE}{TOWN}{district}{}丁目{}番{}号",
                rng.gen_range(1..=5),
                rng.gen_range(1..=30),
                rng.gen_range(1..=25)
            )),
            phone: Some(format!(
                "045-{:03}-{:04}",
                rng.gen_range(200..=999),
                rng.gen_range(0..=9999)
            )),
        }
    }
}

/// The doctor who signs a facility's orders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Doctor {
    /// Local staff ID (the demo login, e.g. `dr.tanaka`).
    pub id: String,
    pub family: String,
    pub given: String,
}

impl Doctor {
    /// The first physician account of the facility with `code`, so the letters and orders are
    /// signed by someone who can log in to the demo.
    pub(crate) fn of_facility(region: &DemoRegion, code: &str) -> Self {
        region
            .users
            .iter()
            .find(|u| u.facility_code.as_str() == code && u.profession == Profession::Physician)
            .map_or_else(Self::generic, |u| {
                let (family, given) = split(&u.display_name);
                Self {
                    id: u.login.as_str().to_owned(),
                    family,
                    given,
                }
            })
    }

    /// The benchmark's doctor.
    pub(crate) fn generic() -> Self {
        Self {
            id: "dr.demo".to_owned(),
            family: "医師".to_owned(),
            given: "一郎".to_owned(),
        }
    }

    pub(crate) fn display(&self) -> String {
        format!("{}{NAME_SEPARATOR}{}", self.family, self.given)
    }
}

/// A random day in `[from, to]` (`to` if the range is empty).
pub(crate) fn day_in(rng: &mut StdRng, from: Date, to: Date) -> Date {
    let span = (to - from).whole_days();
    if span <= 0 {
        return to;
    }
    from.checked_add(time::Duration::days(rng.gen_range(0..=span)))
        .unwrap_or(to)
}
