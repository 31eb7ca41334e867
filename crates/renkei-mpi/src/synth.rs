//! Synthetic residents seen at several facilities, with ground truth, for evaluation.
//!
//! The region is 静岡県東部 (13 municipalities, a few dozen towns each, one postal code per
//! town). People live in households (singles, couples, families with children, three
//! generations) that share a family name, an address and an insurance card (with 枝番 per
//! member). Each person is seen at one to six facilities (hospitals, clinics, pharmacies); each
//! facility has its own habits, and each visit falls in a year between 2012 and 2025, so life
//! events split a person's records into before and after.
//!
//! Noise, as in DESIGN §5 and issue 4 item 3:
//! - kana: half-width (old systems), hiragana, small kana written large (キヨウコ), long vowels
//!   as ー or ウ, ヅ/ズ and ヂ/ジ, with or without a space, rare one-kana typos;
//! - kanji: registered itaiji (髙橋, 山﨑, 渡邊, 齋藤 …) typed in the standard form by some
//!   clerks, ■/〓 from systems that cannot store them, confusable kanji (斎/斉, 藤/籐), rare
//!   typos to another kanji with the same reading, kanji missing (pharmacies often keep kana
//!   only), names without a space;
//! - life events: marriage (family name, card, and sometimes address change), moves within the
//!   region (address, postal code, 国保 insurer when the municipality changes), 後期高齢者医療
//!   at 75;
//! - birth dates with day/month swapped, one digit off, adjacent digits transposed; missing
//!   fields; address formats (prefecture and 郡 optional, 丁目番地号 or hyphens, full-width
//!   and kanji numerals, buildings and rooms), postal code and insurance number formats
//!   (full-width, hyphens, leading zeros dropped by spreadsheets).
//!
//! Traps, each listed in [`Population::traps`]: twins (same family name, birth date, address
//! and card, different given names); a father and son with one name at one address; strangers
//! with one common name (top family and given names) and one birth date in different towns.
//!
//! Everything is drawn from a ChaCha8 generator seeded with `seed`: the same arguments give
//! the same population.

use crate::record::{LinkRecord, days_in_month};
use crate::synth_data::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use renkei_domain::Sex;

/// Which trap a pair of persons is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrapKind {
    Twins,
    FatherAndSon,
    Strangers,
}

impl TrapKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TrapKind::Twins => "twins",
            TrapKind::FatherAndSon => "father_and_son",
            TrapKind::Strangers => "strangers",
        }
    }
}

/// Two persons that must not be merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    pub kind: TrapKind,
    pub persons: (String, String),
}

/// A generated population.
#[derive(Debug, Clone)]
pub struct Population {
    pub records: Vec<LinkRecord>,
    /// The true person ID of each record.
    pub truth: Vec<String>,
    pub traps: Vec<Trap>,
}

/// `persons` residents and their records (in random order), with the true person ID of each
/// record.
pub fn generate(persons: usize, seed: u64) -> (Vec<LinkRecord>, Vec<String>) {
    let p = population(persons, seed);
    (p.records, p.truth)
}

/// Like [`generate`], with the trap pairs.
pub fn population(persons: usize, seed: u64) -> Population {
    let mut g = Gen::new(seed);
    while g.people.len() < persons {
        g.household();
    }
    g.people.truncate(persons);
    let live: std::collections::HashSet<usize> = g.people.iter().map(|p| p.id).collect();
    g.traps
        .retain(|(_, a, b)| live.contains(a) && live.contains(b));
    let mut out: Vec<(LinkRecord, usize)> = Vec::new();
    let people = std::mem::take(&mut g.people);
    for p in &people {
        g.records_of(p, &mut out);
    }
    out.shuffle(&mut g.rng);
    let width = out.len().to_string().len().max(7);
    let mut records = Vec::with_capacity(out.len());
    let mut truth = Vec::with_capacity(out.len());
    for (k, (mut r, pid)) in out.into_iter().enumerate() {
        r.record_id = format!("R{:0width$}", k + 1);
        records.push(r);
        truth.push(person_id(pid));
    }
    let traps = g
        .traps
        .iter()
        .map(|&(kind, a, b)| Trap {
            kind,
            persons: (person_id(a), person_id(b)),
        })
        .collect();
    Population {
        records,
        truth,
        traps,
    }
}

fn person_id(i: usize) -> String {
    format!("P{i:07}")
}

const NOW: i32 = 2025;
const FIRST_VISIT: i32 = 2012;

/// Cumulative weights for sampling.
struct Weighted<T> {
    items: Vec<T>,
    cum: Vec<f64>,
}

impl<T: Clone + Default> Weighted<T> {
    fn new(items: Vec<(T, f64)>) -> Weighted<T> {
        let mut cum = Vec::with_capacity(items.len());
        let mut acc = 0.0;
        let mut out = Vec::with_capacity(items.len());
        for (t, w) in items {
            acc += w;
            cum.push(acc);
            out.push(t);
        }
        Weighted { items: out, cum }
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> T {
        let total = self.cum.last().copied().unwrap_or(0.0);
        let x = rng.gen_range(0.0..total.max(f64::MIN_POSITIVE));
        let i = self
            .cum
            .partition_point(|&c| c <= x)
            .min(self.items.len().saturating_sub(1));
        // `items` is never empty: every list is built from non-empty tables.
        self.items.get(i).cloned().unwrap_or_default()
    }

    fn top(&self, n: usize) -> Vec<T> {
        self.items.iter().take(n).cloned().collect()
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
struct Name {
    kanji: String,
    kana: String,
}

#[derive(Clone, Debug, PartialEq)]
struct Addr {
    town: usize,
    chome: u8,
    ban: u16,
    go: u16,
    building: Option<(usize, u16)>,
}

#[derive(Clone, Debug, PartialEq)]
struct Card {
    insurer: String,
    symbol: String,
    number: String,
    branch: Option<u8>,
}

struct Town {
    city: usize,
    name: &'static str,
    postal: u32,
    chomes: u8,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Hospital,
    Clinic,
    Pharmacy,
}

#[derive(Clone, Copy, PartialEq)]
enum KanaScript {
    Full,
    Half,
    Hiragana,
}

/// How one facility writes its records.
#[derive(Clone, Copy)]
struct Habits {
    script: KanaScript,
    small_kana: bool,
    kana_space: &'static str,
    kanji_rate: f64,
    kanji_space: &'static str,
    old_charset: bool,
    prefecture: bool,
    address_style: u8,
    postal_rate: f64,
    insurance_rate: f64,
    branch_rate: f64,
    drop_zeros: bool,
}

struct Facility {
    code: String,
    habits: Habits,
    next_id: u32,
    id_style: u8,
}

struct Person {
    id: usize,
    sex: Sex,
    dob: (i32, u8, u8),
    given: Name,
    /// (from year, family name as registered).
    family: Vec<(i32, Name)>,
    addresses: Vec<(i32, Addr)>,
    cards: Vec<(i32, Card)>,
    /// Itaiji in the registered family name that clerks may type in the standard form.
    itaiji: bool,
}

fn at_year<T>(timeline: &[(i32, T)], year: i32) -> Option<&T> {
    timeline
        .iter()
        .rev()
        .find(|(from, _)| *from <= year)
        .or_else(|| timeline.first())
        .map(|(_, t)| t)
}

struct Gen {
    rng: ChaCha8Rng,
    surnames: Weighted<Name>,
    common_surnames: Vec<Name>,
    male_old: Weighted<Name>,
    male_young: Weighted<Name>,
    female_old: Weighted<Name>,
    female_young: Weighted<Name>,
    towns: Vec<Town>,
    towns_by_city: Vec<Vec<usize>>,
    city_weights: Weighted<usize>,
    facilities: Vec<Facility>,
    facilities_by_city: Vec<Vec<usize>>,
    people: Vec<Person>,
    traps: Vec<(TrapKind, usize, usize)>,
    next_number: u32,
}

fn name(k: &str, n: &str) -> Name {
    Name {
        kanji: k.to_owned(),
        kana: n.to_owned(),
    }
}

/// Zipf-like weights for a list ordered most common first.
fn zipf(list: &[(&str, &str)], offset: f64) -> Vec<(Name, f64)> {
    list.iter()
        .enumerate()
        .map(|(i, (k, n))| (name(k, n), 1.0 / (i as f64 + offset)))
        .collect()
}

/// A list plus generated two-character names, the generated part holding `tail_share`.
fn with_tail(
    list: &[(&str, &str)],
    heads: &[(&str, &str)],
    tails: &[(&str, &str)],
    tail_share: f64,
    rng: &mut ChaCha8Rng,
) -> Weighted<Name> {
    let mut items = zipf(list, 3.0);
    let head_total: f64 = items.iter().map(|x| x.1).sum();
    let mut generated = Vec::new();
    for (hk, hn) in heads {
        for (tk, tn) in tails {
            let k = format!("{hk}{tk}");
            if hk == tk || list.iter().any(|(lk, _)| *lk == k) {
                continue;
            }
            generated.push(name(&k, &format!("{hn}{tn}")));
        }
    }
    generated.shuffle(rng);
    let gen_weights: Vec<f64> = (0..generated.len())
        .map(|i| 1.0 / (i as f64 + 20.0))
        .collect();
    let gen_total: f64 = gen_weights.iter().sum();
    let scale = head_total * tail_share / (1.0 - tail_share) / gen_total.max(1e-9);
    items.extend(
        generated
            .into_iter()
            .zip(gen_weights.into_iter().map(|w| w * scale)),
    );
    Weighted::new(items)
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Surnames: the listed ones at their weights, the rest of the population (60%) over
        // generated two-character names.
        let mut items: Vec<(Name, f64)> = SURNAMES
            .iter()
            .map(|(k, n, w)| (name(k, n), f64::from(*w)))
            .collect();
        let listed: f64 = items.iter().map(|x| x.1).sum();
        let mut generated = Vec::new();
        for (hk, hn) in SURNAME_HEADS {
            for (tk, tn) in SURNAME_TAILS {
                let k = format!("{hk}{tk}");
                if hk == tk || SURNAMES.iter().any(|(sk, _, _)| *sk == k) {
                    continue;
                }
                generated.push(name(&k, &format!("{hn}{tn}")));
            }
        }
        generated.shuffle(&mut rng);
        let weights: Vec<f64> = (0..generated.len())
            .map(|i| 1.0 / (i as f64 + 30.0))
            .collect();
        let total: f64 = weights.iter().sum();
        let scale = listed * 1.5 / total;
        items.extend(
            generated
                .into_iter()
                .zip(weights.into_iter().map(|w| w * scale)),
        );
        let common_surnames: Vec<Name> = SURNAMES
            .iter()
            .take(5)
            .map(|(k, n, _)| name(k, n))
            .collect();
        let surnames = Weighted::new(items);

        let male_old = with_tail(MALE_OLD, MALE_HEADS, MALE_TAILS, 0.35, &mut rng);
        let male_young = with_tail(MALE_YOUNG, MALE_HEADS, MALE_TAILS, 0.35, &mut rng);
        let female_old = with_tail(FEMALE_OLD, FEMALE_HEADS, FEMALE_TAILS, 0.35, &mut rng);
        let female_young = with_tail(FEMALE_YOUNG, FEMALE_HEADS, FEMALE_TAILS, 0.35, &mut rng);

        let mut towns = Vec::new();
        let mut towns_by_city = Vec::new();
        for (c, _) in CITIES.iter().enumerate() {
            let mut names: Vec<&'static str> = TOWNS.to_vec();
            names.shuffle(&mut rng);
            let count = rng.gen_range(18..=30);
            let mut ids = Vec::new();
            for (t, town) in names.into_iter().take(count).enumerate() {
                let city_code = 410 + u32::try_from(c).unwrap_or(0);
                ids.push(towns.len());
                towns.push(Town {
                    city: c,
                    name: town,
                    postal: city_code * 10_000 + u32::try_from(t).unwrap_or(0) * 37 + 11,
                    chomes: if rng.gen_bool(0.7) {
                        rng.gen_range(1..=6)
                    } else {
                        0
                    },
                });
            }
            towns_by_city.push(ids);
        }
        let sizes = [
            190.0, 108.0, 245.0, 130.0, 86.0, 50.0, 30.0, 47.0, 35.0, 37.0, 32.0, 43.0, 18.0,
        ];
        let city_weights = Weighted::new(sizes.iter().enumerate().map(|(i, &w)| (i, w)).collect());

        let mut g = Gen {
            rng,
            surnames,
            common_surnames,
            male_old,
            male_young,
            female_old,
            female_young,
            towns,
            towns_by_city,
            city_weights,
            facilities: Vec::new(),
            facilities_by_city: Vec::new(),
            people: Vec::new(),
            traps: Vec::new(),
            next_number: 1,
        };
        g.make_facilities();
        g
    }

    fn make_facilities(&mut self) {
        for c in 0..CITIES.len() {
            let mut ids = Vec::new();
            for (kind, count) in [(Kind::Hospital, 2), (Kind::Clinic, 10), (Kind::Pharmacy, 8)] {
                for _ in 0..count {
                    let r = &mut self.rng;
                    let old = r.gen_bool(0.2);
                    let script = if old && r.gen_bool(0.7) {
                        KanaScript::Half
                    } else if r.gen_bool(0.12) {
                        KanaScript::Hiragana
                    } else {
                        KanaScript::Full
                    };
                    let code = format!(
                        "{}{:02}{:02}",
                        match kind {
                            Kind::Hospital => "H",
                            Kind::Clinic => "C",
                            Kind::Pharmacy => "Y",
                        },
                        c,
                        ids.len()
                    );
                    let habits = Habits {
                        script,
                        small_kana: !(old && r.gen_bool(0.6)),
                        kana_space: ["　", " ", "　", ""].choose(r).copied().unwrap_or("　"),
                        kanji_rate: match kind {
                            Kind::Pharmacy => 0.35,
                            _ => 0.98,
                        },
                        kanji_space: ["　", "　", " ", ""].choose(r).copied().unwrap_or("　"),
                        old_charset: old,
                        prefecture: r.gen_bool(0.4),
                        address_style: r.gen_range(0..5),
                        postal_rate: match kind {
                            Kind::Pharmacy => 0.7,
                            _ => 0.9,
                        },
                        insurance_rate: match kind {
                            Kind::Pharmacy => 0.95,
                            Kind::Clinic => 0.85,
                            Kind::Hospital => 0.9,
                        },
                        branch_rate: if old { 0.1 } else { 0.7 },
                        drop_zeros: r.gen_bool(0.15),
                    };
                    let f = Facility {
                        code,
                        habits,
                        next_id: r.gen_range(1..5000),
                        id_style: r.gen_range(0..3),
                    };
                    ids.push(self.facilities.len());
                    self.facilities.push(f);
                }
            }
            self.facilities_by_city.push(ids);
        }
    }

    fn random_addr(&mut self, city: Option<usize>) -> Addr {
        let city = city.unwrap_or_else(|| self.city_weights.sample(&mut self.rng));
        let towns = self.towns_by_city.get(city).cloned().unwrap_or_default();
        let town = towns.choose(&mut self.rng).copied().unwrap_or(0);
        let chomes = self.towns.get(town).map_or(0, |t| t.chomes);
        let r = &mut self.rng;
        Addr {
            town,
            chome: if chomes > 0 {
                r.gen_range(1..=chomes)
            } else {
                0
            },
            ban: if chomes > 0 {
                r.gen_range(1..=30)
            } else {
                r.gen_range(1..=1500)
            },
            go: r.gen_range(1..=25),
            building: r.gen_bool(0.2).then(|| {
                (
                    r.gen_range(0..BUILDINGS.len()),
                    r.gen_range(1..=4) * 100 + r.gen_range(1..=8),
                )
            }),
        }
    }

    fn city_of(&self, a: &Addr) -> usize {
        self.towns.get(a.town).map_or(0, |t| t.city)
    }

    fn number(&mut self) -> u32 {
        self.next_number += 1;
        self.next_number
    }

    fn kokuho_card(&mut self, city: usize) -> Card {
        let n = self.number();
        Card {
            insurer: CITIES.get(city).map_or("220038", |c| c.2).to_owned(),
            symbol: format!("{:02}", self.rng.gen_range(1..40)),
            number: format!("{:06}", n % 1_000_000),
            branch: Some(1),
        }
    }

    fn employer_card(&mut self) -> Card {
        let n = self.number();
        let insurer = EMPLOYER_INSURERS
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("01220012");
        Card {
            insurer: insurer.to_owned(),
            symbol: format!("{}", self.rng.gen_range(1000..99_999_999u32)),
            number: format!("{}", n % 10_000 + 1),
            branch: Some(0),
        }
    }

    fn elder_card(&mut self) -> Card {
        let n = self.number();
        Card {
            insurer: LATE_ELDER_INSURER.to_owned(),
            symbol: String::new(),
            number: format!("{:08}", 10_000_000 + n % 90_000_000),
            branch: None,
        }
    }

    fn given_name(&mut self, sex: Sex, year: i32) -> Name {
        let list = match (sex, year < 1970) {
            (Sex::Male, true) => &self.male_old,
            (Sex::Male, false) => &self.male_young,
            (_, true) => &self.female_old,
            (_, false) => &self.female_young,
        };
        list.sample(&mut self.rng)
    }

    fn dob(&mut self, from: i32, to: i32) -> (i32, u8, u8) {
        let y = self.rng.gen_range(from..=to.max(from));
        let m = self.rng.gen_range(1..=12u8);
        let d = self.rng.gen_range(1..=days_in_month(y, m));
        (y, m, d)
    }

    fn registered(&mut self, family: &Name) -> (Name, bool) {
        // About a quarter of people whose family name has a character with an itaiji are
        // registered with it (髙橋, 山﨑, 渡邊).
        let mut kanji = family.kanji.clone();
        let mut changed = false;
        if self.rng.gen_bool(0.25) {
            for &(std, var) in ITAIJI {
                if kanji.contains(std) {
                    kanji = kanji.replacen(std, &var.to_string(), 1);
                    changed = true;
                    break;
                }
            }
        }
        (
            Name {
                kanji,
                kana: family.kana.clone(),
            },
            changed,
        )
    }

    fn push_person(
        &mut self,
        sex: Sex,
        dob: (i32, u8, u8),
        given: Name,
        family: &Name,
        addr: &Addr,
        card: Card,
    ) -> usize {
        let (registered, itaiji) = self.registered(family);
        let id = self.people.len();
        let mut cards = vec![(i32::MIN, card)];
        let turn_75 = dob.0 + 75;
        if turn_75 <= NOW {
            let elder = self.elder_card();
            if turn_75 <= FIRST_VISIT {
                cards = vec![(i32::MIN, elder)];
            } else {
                cards.push((turn_75, elder));
            }
        }
        self.people.push(Person {
            id,
            sex,
            dob,
            given,
            family: vec![(i32::MIN, registered)],
            addresses: vec![(i32::MIN, addr.clone())],
            cards,
            itaiji,
        });
        id
    }

    /// One household, or a pair of stranger households (a trap).
    fn household(&mut self) {
        if self.rng.gen_bool(0.006) {
            self.strangers();
            return;
        }
        let family = self.surnames.sample(&mut self.rng);
        let addr = self.random_addr(None);
        let city = self.city_of(&addr);
        let kind = self.rng.gen_range(0..100);
        let employed = self.rng.gen_bool(0.55);
        let mut card = if employed {
            self.employer_card()
        } else {
            self.kokuho_card(city)
        };
        let next_branch = |c: &mut Card| -> Card {
            let out = c.clone();
            c.branch = c.branch.map(|b| b + 1);
            out
        };
        match kind {
            // Single elderly.
            0..15 => {
                let sex = if self.rng.gen_bool(0.6) {
                    Sex::Female
                } else {
                    Sex::Male
                };
                let dob = self.dob(1925, 1958);
                let given = self.given_name(sex, dob.0);
                let c = next_branch(&mut card);
                self.push_person(sex, dob, given, &family, &addr, c);
            }
            // Single adult.
            15..30 => {
                let sex = if self.rng.gen_bool(0.5) {
                    Sex::Female
                } else {
                    Sex::Male
                };
                let dob = self.dob(1960, 2004);
                let given = self.given_name(sex, dob.0);
                let c = next_branch(&mut card);
                let id = self.push_person(sex, dob, given, &family, &addr, c);
                self.life_events(id);
            }
            // Couples, with children or grandparents.
            _ => {
                let elderly = kind < 45;
                let head_year = if elderly {
                    self.rng.gen_range(1928..=1958)
                } else {
                    self.rng.gen_range(1955..=1998)
                };
                let hdob = self.dob(head_year, head_year);
                let hgiven = self.given_name(Sex::Male, hdob.0);
                let c = next_branch(&mut card);
                let head = self.push_person(Sex::Male, hdob, hgiven.clone(), &family, &addr, c);
                let wife_year = (head_year + self.rng.gen_range(-5..=3)).min(2003);
                let wdob = self.dob(wife_year, wife_year);
                let wgiven = self.given_name(Sex::Female, wdob.0);
                let c = next_branch(&mut card);
                let wife = self.push_person(Sex::Female, wdob, wgiven, &family, &addr, c);
                self.life_events(head);
                self.marriage(wife);
                if !elderly && kind < 90 {
                    self.children(head, &hgiven, hdob.0, &family, &addr, &mut card);
                }
                if kind >= 90 {
                    // A grandparent.
                    let gdob = self.dob(1925, (head_year - 22).min(1960));
                    let gsex = if self.rng.gen_bool(0.65) {
                        Sex::Female
                    } else {
                        Sex::Male
                    };
                    let ggiven = self.given_name(gsex, gdob.0);
                    let c = self.kokuho_card(city);
                    self.push_person(gsex, gdob, ggiven, &family, &addr, c);
                    if !elderly {
                        self.children(head, &hgiven, hdob.0, &family, &addr, &mut card);
                    }
                }
            }
        }
    }

    fn children(
        &mut self,
        father: usize,
        father_given: &Name,
        father_year: i32,
        family: &Name,
        addr: &Addr,
        card: &mut Card,
    ) {
        let n = *[0usize, 1, 1, 2, 2, 2, 3]
            .choose(&mut self.rng)
            .unwrap_or(&1);
        let mut used: Vec<String> = Vec::new();
        let mut named_junior = false;
        let mut twins_done = false;
        let mut k = 0;
        while k < n {
            let lo = father_year + 22;
            let hi = (father_year + 42).min(NOW);
            if lo > hi {
                break;
            }
            let dob = self.dob(lo, hi);
            let twins = !twins_done && self.rng.gen_bool(0.04);
            let count = if twins { 2 } else { 1 };
            let mut ids = Vec::new();
            for t in 0..count {
                let sex = if twins && t == 1 && self.rng.gen_bool(0.7) {
                    self.people
                        .get(*ids.first().unwrap_or(&0))
                        .map_or(Sex::Male, |p| p.sex)
                } else if self.rng.gen_bool(0.5) {
                    Sex::Male
                } else {
                    Sex::Female
                };
                let junior = sex == Sex::Male && !named_junior && !twins && self.rng.gen_bool(0.04);
                let mut given = if junior {
                    father_given.clone()
                } else {
                    self.given_name(sex, dob.0)
                };
                let mut tries = 0;
                while !junior && used.contains(&given.kana) && tries < 20 {
                    given = self.given_name(sex, dob.0);
                    tries += 1;
                }
                used.push(given.kana.clone());
                let c = card.clone();
                card.branch = card.branch.map(|b| b + 1);
                let id = self.push_person(sex, dob, given, family, addr, c);
                if junior {
                    named_junior = true;
                    self.traps.push((TrapKind::FatherAndSon, father, id));
                }
                ids.push(id);
            }
            if let [a, b] = ids.as_slice() {
                twins_done = true;
                self.traps.push((TrapKind::Twins, *a, *b));
            }
            for id in ids {
                self.life_events(id);
            }
            k += 1;
        }
    }

    /// Two strangers with one common name and one birth date, in different towns.
    fn strangers(&mut self) {
        let sex = if self.rng.gen_bool(0.5) {
            Sex::Male
        } else {
            Sex::Female
        };
        let dob = self.dob(1935, 1995);
        let family = self
            .common_surnames
            .choose(&mut self.rng)
            .cloned()
            .unwrap_or_else(|| name("佐藤", "サトウ"));
        let list = match (sex, dob.0 < 1970) {
            (Sex::Male, true) => self.male_old.top(4),
            (Sex::Male, false) => self.male_young.top(4),
            (_, true) => self.female_old.top(4),
            (_, false) => self.female_young.top(4),
        };
        let given = list
            .choose(&mut self.rng)
            .cloned()
            .unwrap_or_else(|| name("博", "ヒロシ"));
        let a_addr = self.random_addr(None);
        let mut b_addr = self.random_addr(None);
        while self.city_of(&b_addr) == self.city_of(&a_addr) {
            b_addr = self.random_addr(None);
        }
        let ca = if self.rng.gen_bool(0.5) {
            self.employer_card()
        } else {
            self.kokuho_card(self.city_of(&a_addr))
        };
        let cb = if self.rng.gen_bool(0.5) {
            self.employer_card()
        } else {
            self.kokuho_card(self.city_of(&b_addr))
        };
        let a = self.push_person(sex, dob, given.clone(), &family, &a_addr, ca);
        let b = self.push_person(sex, dob, given, &family, &b_addr, cb);
        self.traps.push((TrapKind::Strangers, a, b));
    }

    /// Moves within the region (and the 国保 card that goes with a new municipality).
    fn life_events(&mut self, id: usize) {
        if !self.rng.gen_bool(0.09) {
            return;
        }
        let year = self.rng.gen_range(FIRST_VISIT + 1..NOW);
        let Some(old_addr) = self
            .people
            .get(id)
            .and_then(|p| p.addresses.first())
            .map(|a| a.1.clone())
        else {
            return;
        };
        let old_city = self.city_of(&old_addr);
        let same_city = self.rng.gen_bool(0.5);
        let prev = self.random_addr(same_city.then_some(old_city));
        let prev_city = self.city_of(&prev);
        // The current address is the household's; the person lived at `prev` before `year`.
        let kokuho_change = prev_city != old_city
            && self
                .people
                .get(id)
                .and_then(|p| p.cards.first())
                .is_some_and(|c| CITIES.iter().any(|city| city.2 == c.1.insurer));
        let prev_card = kokuho_change.then(|| self.kokuho_card(prev_city));
        if let Some(p) = self.people.get_mut(id) {
            p.addresses = vec![(i32::MIN, prev), (year, old_addr)];
            if let Some(card) = prev_card
                && let Some(first) = p.cards.first().cloned()
            {
                let mut cards = vec![(i32::MIN, card), (year, first.1)];
                cards.extend(p.cards.iter().skip(1).cloned());
                p.cards = cards;
            }
        }
    }

    /// A wife who married during the visit window: maiden name, her own card, and (in about
    /// half the cases) another address before.
    fn marriage(&mut self, id: usize) {
        let young = self.people.get(id).is_some_and(|p| p.dob.0 >= 1972);
        if !young || !self.rng.gen_bool(0.35) {
            return;
        }
        let year = self.rng.gen_range(FIRST_VISIT + 1..NOW);
        let mut maiden = self.surnames.sample(&mut self.rng);
        let current = self
            .people
            .get(id)
            .and_then(|p| p.family.first())
            .map(|f| f.1.clone());
        while current.as_ref().is_some_and(|c| c.kana == maiden.kana) {
            maiden = self.surnames.sample(&mut self.rng);
        }
        let (maiden, _) = self.registered(&maiden);
        // She keeps her own card (her employer's, name updated) or had another before.
        let card = if self.rng.gen_bool(0.4) {
            None
        } else if self.rng.gen_bool(0.5) {
            Some(self.employer_card())
        } else {
            let city = self.city_weights.sample(&mut self.rng);
            Some(self.kokuho_card(city))
        };
        let moved = self.rng.gen_bool(0.45).then(|| self.random_addr(None));
        if let Some(p) = self.people.get_mut(id)
            && let (Some(cur), Some(addr), Some(first_card)) = (
                p.family.first().cloned(),
                p.addresses.first().cloned(),
                p.cards.first().cloned(),
            )
        {
            p.family = vec![(i32::MIN, maiden), (year, cur.1)];
            if let Some(prev) = moved {
                p.addresses = vec![(i32::MIN, prev), (year, addr.1)];
            }
            if let Some(card) = card {
                let mut cards = vec![(i32::MIN, card), (year, first_card.1)];
                cards.extend(p.cards.iter().skip(1).cloned());
                p.cards = cards;
            }
        }
    }

    /// The records of one person at one to six facilities.
    fn records_of(&mut self, p: &Person, out: &mut Vec<(LinkRecord, usize)>) {
        let count = *[
            1usize, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6,
        ]
        .choose(&mut self.rng)
        .unwrap_or(&2);
        let home = p.addresses.last().map_or(0, |a| self.city_of(&a.1));
        let before = p.addresses.first().map_or(home, |a| self.city_of(&a.1));
        let mut used: Vec<usize> = Vec::new();
        let mut tries = 0;
        while used.len() < count && tries < 50 {
            tries += 1;
            let city = if self.rng.gen_bool(0.8) {
                if self.rng.gen_bool(0.7) { home } else { before }
            } else {
                self.rng.gen_range(0..CITIES.len())
            };
            let Some(&f) = self
                .facilities_by_city
                .get(city)
                .and_then(|v| v.choose(&mut self.rng))
            else {
                continue;
            };
            if used.contains(&f) {
                continue;
            }
            used.push(f);
            let year = self.rng.gen_range(FIRST_VISIT.max(p.dob.0)..=NOW);
            let r = self.record(p, f, year);
            out.push((r, p.id));
        }
    }

    fn record(&mut self, p: &Person, f: usize, year: i32) -> LinkRecord {
        let family = at_year(&p.family, year)
            .cloned()
            .unwrap_or_else(|| name("", ""));
        let addr = at_year(&p.addresses, year).cloned();
        let card = at_year(&p.cards, year).cloned();
        let Some(fac) = self.facilities.get_mut(f) else {
            return LinkRecord::default();
        };
        fac.next_id += self.rng.gen_range(1..4);
        let local_id = match fac.id_style {
            0 => format!("{:08}", fac.next_id),
            1 => format!("{}", fac.next_id),
            _ => format!("K-{:06}", fac.next_id),
        };
        let facility = fac.code.clone();
        let h = fac.habits;
        let r = &mut self.rng;
        let name_kana = Some(render_kana(
            &family.kana,
            &p.given.kana,
            h.script,
            h.small_kana,
            h.kana_space,
            r,
        ));
        let name_kanji = r.gen_bool(h.kanji_rate).then(|| {
            render_kanji(
                &family.kanji,
                &p.given.kanji,
                p.itaiji,
                h.old_charset,
                h.kanji_space,
                r,
            )
        });
        let sex = (!r.gen_bool(0.02)).then_some(p.sex);
        let birth_date = (!r.gen_bool(0.01)).then(|| noisy_date(p.dob, r));
        let (postal_code, address) = match &addr {
            Some(a) => {
                let town = self.towns.get(a.town);
                let postal = town
                    .filter(|_| r.gen_bool(h.postal_rate))
                    .map(|t| render_postal(t.postal, r));
                let address = town
                    .filter(|_| r.gen_bool(0.96))
                    .map(|t| render_address(t, a, h.prefecture, h.address_style, r));
                (postal, address)
            }
            None => (None, None),
        };
        let with_card = card.filter(|_| r.gen_bool(h.insurance_rate));
        let (insurer_number, insured_symbol, insured_number, insured_branch) = match with_card {
            Some(c) => {
                let insurer = if h.drop_zeros {
                    c.insurer.trim_start_matches('0').to_owned()
                } else {
                    c.insurer.clone()
                };
                let insurer = if r.gen_bool(0.05) {
                    to_fullwidth_digits(&insurer)
                } else {
                    insurer
                };
                let number = if r.gen_bool(0.1) {
                    format!("{:0>8}", c.number)
                } else {
                    c.number.clone()
                };
                let branch = c.branch.filter(|_| r.gen_bool(h.branch_rate)).map(|b| {
                    if r.gen_bool(0.8) {
                        format!("{b:02}")
                    } else {
                        b.to_string()
                    }
                });
                (
                    Some(insurer),
                    (!c.symbol.is_empty()).then(|| c.symbol.clone()),
                    Some(number),
                    branch,
                )
            }
            None => (None, None, None, None),
        };
        LinkRecord {
            record_id: String::new(),
            facility,
            local_id,
            name_kanji,
            name_kana,
            sex,
            birth_date,
            postal_code,
            address,
            insurer_number,
            insured_symbol,
            insured_number,
            insured_branch,
        }
    }
}

/// A birth date with a 3% chance of a typo: day/month swapped, one digit off (day, month, or
/// the last digit of the year), or adjacent digits of the day transposed.
fn noisy_date(d: (i32, u8, u8), r: &mut ChaCha8Rng) -> (i32, u8, u8) {
    if !r.gen_bool(0.03) {
        return d;
    }
    let (y, m, day) = d;
    let candidate = match r.gen_range(0..6) {
        0 | 1 => (y, day, m),
        2 => (y, m, if day % 10 < 9 { day + 1 } else { day - 1 }),
        3 => (y, if m % 10 < 9 { m + 1 } else { m - 1 }, day),
        4 => (y + if y % 10 < 9 { 1 } else { -1 }, m, day),
        _ => (y, m, (day % 10) * 10 + day / 10),
    };
    if candidate.1 >= 1
        && candidate.1 <= 12
        && candidate.2 >= 1
        && candidate.2 <= days_in_month(candidate.0, candidate.1)
    {
        candidate
    } else {
        d
    }
}

const SMALL_TO_LARGE: &[(char, char)] = &[
    ('ァ', 'ア'),
    ('ィ', 'イ'),
    ('ゥ', 'ウ'),
    ('ェ', 'エ'),
    ('ォ', 'オ'),
    ('ャ', 'ヤ'),
    ('ュ', 'ユ'),
    ('ョ', 'ヨ'),
    ('ッ', 'ツ'),
];

const TYPO_KANA: &[char] = &[
    'ア', 'カ', 'サ', 'タ', 'ナ', 'ハ', 'マ', 'ラ', 'キ', 'シ', 'ミ', 'ト', 'コ', 'ノ',
];

fn kana_variant(s: &str, small: bool, r: &mut ChaCha8Rng) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    // Long vowels: ウ after an o- or u-row kana written ー (キョウコ → キョーコ), オオ → オー.
    if r.gen_bool(0.1) {
        for i in 1..chars.len() {
            let prev = chars.get(i - 1).copied().unwrap_or(' ');
            let cur = chars.get(i).copied().unwrap_or(' ');
            if (cur == 'ウ'
                && "ョュコソトノホモヨロゴゾドボポウクスツヌフムユルグズブプ".contains(prev))
                || (cur == 'オ' && prev == 'オ')
            {
                if let Some(c) = chars.get_mut(i) {
                    *c = 'ー';
                }
                break;
            }
        }
    }
    if r.gen_bool(0.05) {
        for c in chars.iter_mut() {
            *c = match *c {
                'ズ' => 'ヅ',
                'ジ' => 'ヂ',
                other => other,
            };
        }
    }
    if !small {
        for c in chars.iter_mut() {
            if let Some(&(_, large)) = SMALL_TO_LARGE.iter().find(|(s, _)| s == c) {
                *c = large;
            }
        }
    }
    if r.gen_bool(0.008) && !chars.is_empty() {
        let i = r.gen_range(0..chars.len());
        if let (Some(c), Some(&t)) = (chars.get_mut(i), TYPO_KANA.choose(r)) {
            *c = t;
        }
    }
    chars.into_iter().collect()
}

fn render_kana(
    family: &str,
    given: &str,
    script: KanaScript,
    small: bool,
    space: &str,
    r: &mut ChaCha8Rng,
) -> String {
    let f = kana_variant(family, small, r);
    let g = kana_variant(given, small, r);
    let joined = format!("{f}{space}{g}");
    match script {
        KanaScript::Full => joined,
        KanaScript::Half => to_halfwidth(&joined),
        KanaScript::Hiragana => joined.chars().map(to_hiragana).collect(),
    }
}

fn to_hiragana(c: char) -> char {
    match c {
        'ァ'..='ヶ' => char::from_u32(u32::from(c) - 0x60).unwrap_or(c),
        _ => c,
    }
}

const HALF_BASIC: &[(char, char)] = &[
    ('ア', 'ｱ'),
    ('イ', 'ｲ'),
    ('ウ', 'ｳ'),
    ('エ', 'ｴ'),
    ('オ', 'ｵ'),
    ('カ', 'ｶ'),
    ('キ', 'ｷ'),
    ('ク', 'ｸ'),
    ('ケ', 'ｹ'),
    ('コ', 'ｺ'),
    ('サ', 'ｻ'),
    ('シ', 'ｼ'),
    ('ス', 'ｽ'),
    ('セ', 'ｾ'),
    ('ソ', 'ｿ'),
    ('タ', 'ﾀ'),
    ('チ', 'ﾁ'),
    ('ツ', 'ﾂ'),
    ('テ', 'ﾃ'),
    ('ト', 'ﾄ'),
    ('ナ', 'ﾅ'),
    ('ニ', 'ﾆ'),
    ('ヌ', 'ﾇ'),
    ('ネ', 'ﾈ'),
    ('ノ', 'ﾉ'),
    ('ハ', 'ﾊ'),
    ('ヒ', 'ﾋ'),
    ('フ', 'ﾌ'),
    ('ヘ', 'ﾍ'),
    ('ホ', 'ﾎ'),
    ('マ', 'ﾏ'),
    ('ミ', 'ﾐ'),
    ('ム', 'ﾑ'),
    ('メ', 'ﾒ'),
    ('モ', 'ﾓ'),
    ('ヤ', 'ﾔ'),
    ('ユ', 'ﾕ'),
    ('ヨ', 'ﾖ'),
    ('ラ', 'ﾗ'),
    ('リ', 'ﾘ'),
    ('ル', 'ﾙ'),
    ('レ', 'ﾚ'),
    ('ロ', 'ﾛ'),
    ('ワ', 'ﾜ'),
    ('ヲ', 'ｦ'),
    ('ン', 'ﾝ'),
    ('ァ', 'ｧ'),
    ('ィ', 'ｨ'),
    ('ゥ', 'ｩ'),
    ('ェ', 'ｪ'),
    ('ォ', 'ｫ'),
    ('ャ', 'ｬ'),
    ('ュ', 'ｭ'),
    ('ョ', 'ｮ'),
    ('ッ', 'ｯ'),
    ('ー', 'ｰ'),
    ('　', ' '),
];

const HALF_VOICED: &[(char, char)] = &[
    ('ガ', 'ｶ'),
    ('ギ', 'ｷ'),
    ('グ', 'ｸ'),
    ('ゲ', 'ｹ'),
    ('ゴ', 'ｺ'),
    ('ザ', 'ｻ'),
    ('ジ', 'ｼ'),
    ('ズ', 'ｽ'),
    ('ゼ', 'ｾ'),
    ('ゾ', 'ｿ'),
    ('ダ', 'ﾀ'),
    ('ヂ', 'ﾁ'),
    ('ヅ', 'ﾂ'),
    ('デ', 'ﾃ'),
    ('ド', 'ﾄ'),
    ('バ', 'ﾊ'),
    ('ビ', 'ﾋ'),
    ('ブ', 'ﾌ'),
    ('ベ', 'ﾍ'),
    ('ボ', 'ﾎ'),
    ('ヴ', 'ｳ'),
];

const HALF_SEMI: &[(char, char)] = &[
    ('パ', 'ﾊ'),
    ('ピ', 'ﾋ'),
    ('プ', 'ﾌ'),
    ('ペ', 'ﾍ'),
    ('ポ', 'ﾎ'),
];

/// Full-width katakana as an old system stores it: half-width with separate voicing marks.
pub(crate) fn to_halfwidth(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if let Some(&(_, h)) = HALF_BASIC.iter().find(|(f, _)| *f == c) {
            out.push(h);
        } else if let Some(&(_, h)) = HALF_VOICED.iter().find(|(f, _)| *f == c) {
            out.push(h);
            out.push('ﾞ');
        } else if let Some(&(_, h)) = HALF_SEMI.iter().find(|(f, _)| *f == c) {
            out.push(h);
            out.push('ﾟ');
        } else {
            out.push(c);
        }
    }
    out
}

fn render_kanji(
    family: &str,
    given: &str,
    itaiji: bool,
    old: bool,
    space: &str,
    r: &mut ChaCha8Rng,
) -> String {
    let mut f = family.to_owned();
    if itaiji {
        for &(std, var) in ITAIJI {
            if f.contains(var) {
                if old {
                    // Old systems cannot store the itaiji: ■/〓, or the standard form.
                    let marker = if r.gen_bool(0.5) { "■" } else { "〓" };
                    let rep = if r.gen_bool(0.6) {
                        marker.to_owned()
                    } else {
                        std.to_string()
                    };
                    f = f.replacen(var, &rep, 1);
                } else if r.gen_bool(0.35) {
                    f = f.replacen(var, &std.to_string(), 1);
                }
            }
        }
    }
    let mut g = given.to_owned();
    if r.gen_bool(0.04) {
        for &(a, b) in SIMILAR {
            if f.contains(a) {
                f = f.replacen(a, &b.to_string(), 1);
                break;
            }
            if g.contains(a) {
                g = g.replacen(a, &b.to_string(), 1);
                break;
            }
        }
    }
    // A rare typo: another kanji with the same reading (博 for 浩).
    if r.gen_bool(0.004) {
        for (a, b) in [
            ('浩', '博'),
            ('博', '弘'),
            ('子', '児'),
            ('一', '市'),
            ('介', '助'),
        ] {
            if g.contains(a) {
                g = g.replacen(a, &b.to_string(), 1);
                break;
            }
        }
    }
    format!("{f}{space}{g}")
}

fn to_fullwidth_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(u32::from(c) - u32::from('0') + 0xFF10).unwrap_or(c),
            '-' => '－',
            _ => c,
        })
        .collect()
}

fn kanji_number(n: u16) -> String {
    const D: [char; 10] = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    let digit = |k: u16| D.get(usize::from(k)).copied().unwrap_or('〇');
    match n {
        0..=9 => digit(n).to_string(),
        10 => "十".to_owned(),
        11..=19 => format!("十{}", digit(n - 10)),
        20..=99 => {
            let (t, o) = (n / 10, n % 10);
            if o == 0 {
                format!("{}十", digit(t))
            } else {
                format!("{}十{}", digit(t), digit(o))
            }
        }
        _ => n.to_string(),
    }
}

fn render_postal(code: u32, r: &mut ChaCha8Rng) -> String {
    let s = format!("{:03}-{:04}", code / 10_000, code % 10_000);
    match r.gen_range(0..6) {
        0 => format!("〒{s}"),
        1 => s.replace('-', ""),
        2 => to_fullwidth_digits(&s),
        _ => s,
    }
}

fn render_address(
    town: &Town,
    a: &Addr,
    pref_habit: bool,
    habit: u8,
    r: &mut ChaCha8Rng,
) -> String {
    let (city, county, _) = CITIES
        .get(town.city)
        .copied()
        .unwrap_or(("沼津市", None, ""));
    let pref = pref_habit || r.gen_bool(0.15);
    let mut s = String::new();
    if pref {
        s.push_str("静岡県");
        if let Some(c) = county
            && r.gen_bool(0.7)
        {
            s.push_str(c);
        }
    }
    s.push_str(city);
    s.push_str(town.name);
    let style = if r.gen_bool(0.2) {
        r.gen_range(0..5)
    } else {
        habit
    };
    let hyphen = ["-", "‐", "−", "ー", "－"]
        .choose(r)
        .copied()
        .unwrap_or("-");
    let chome = u16::from(a.chome);
    let numbers = match (style, a.chome > 0) {
        (0, true) => format!("{chome}丁目{}番{}号", a.ban, a.go),
        (0, false) => format!("{}番地{}", a.ban, a.go),
        (1, true) => format!("{chome}-{}-{}", a.ban, a.go),
        (1, false) => format!("{}-{}", a.ban, a.go),
        (2, true) => to_fullwidth_digits(&format!("{chome}-{}-{}", a.ban, a.go)),
        (2, false) => to_fullwidth_digits(&format!("{}番地の{}", a.ban, a.go)),
        (3, true) => format!("{}丁目{}番地{}", kanji_number(chome), a.ban, a.go),
        (3, false) => format!("{}番地{}号", a.ban, a.go),
        (_, true) => format!("{chome}{hyphen}{}{hyphen}{}", a.ban, a.go),
        (_, false) => format!("{}{hyphen}{}", a.ban, a.go),
    };
    s.push_str(&numbers);
    if let Some((b, room)) = a.building
        && r.gen_bool(0.75)
    {
        let bname = BUILDINGS.get(b).copied().unwrap_or("コーポ");
        match r.gen_range(0..3) {
            0 => s.push_str(&format!(" {bname}{room}")),
            1 => s.push_str(&format!("　{bname} {room}号室")),
            _ => s.push_str(&format!("{bname}{room}号室")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use renkei_text::{AddressMatch, address_prefix_level, fold_address, fold_kana};

    #[test]
    fn address_renderings_fold_to_one_key() {
        let mut r = ChaCha8Rng::seed_from_u64(7);
        for (chomes, building) in [(3u8, None), (0, Some((1usize, 201u16)))] {
            let town = Town {
                city: 9,
                name: "大平",
                postal: 4110001,
                chomes,
            };
            let a = Addr {
                town: 0,
                chome: if chomes > 0 { 2 } else { 0 },
                ban: 14,
                go: 7,
                building,
            };
            let reference = fold_address(&render_address(&town, &a, false, 1, &mut r));
            for style in 0..5 {
                for _ in 0..10 {
                    let s = render_address(&town, &a, r.gen_bool(0.5), style, &mut r);
                    let k = fold_address(&s);
                    assert_eq!(
                        address_prefix_level(&reference, &k),
                        AddressMatch::Exact,
                        "{s} → {k:?} vs {reference:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn kana_renderings_fold_to_one_key() {
        let mut r = ChaCha8Rng::seed_from_u64(3);
        let reference = fold_kana("サトウ キョウコ");
        for script in [KanaScript::Full, KanaScript::Half, KanaScript::Hiragana] {
            for small in [true, false] {
                let s = render_kana("サトウ", "キョウコ", script, small, " ", &mut r);
                assert_eq!(fold_kana(&s), reference, "{s}");
            }
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let a = generate(50, 9);
        let b = generate(50, 9);
        assert_eq!(a, b);
        assert!(a.0.len() >= 50);
    }
}
