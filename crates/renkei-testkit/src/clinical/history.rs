//! The histories themselves: what each resident has, which facility looks after what, and the
//! visits, orders, results, stays and letters that follow.
//!
//! A resident gets a clinical model first (chronic diagnoses by age and sex, allergies, a lab
//! profile). Each hospital or medical clinic that knows the resident then gets its own history
//! over a window that starts when the resident signed the consent (for about one in eight
//! facilities somewhat earlier: records from before the consent exist but are not shared):
//! - the facility that manages chronic diagnoses (a general or internal-medicine clinic, else the
//!   hospital; heart disease often at a hospital, knees and bones at an orthopaedic clinic)
//!   sees the resident every 4–8 weeks (hospitals every 8–12), prescribes at every visit and
//!   draws blood every two or three visits;
//! - the others see the resident for one to three episodes that fit the facility (a cold at
//!   an internal-medicine clinic, cataract at the eye clinic, a suspected angina at a hospital);
//! - hospitals admit some of their older patients (pneumonia, heart failure, urinary infection,
//!   stroke) and discharge them with a discharge prescription;
//! - every change of a facility's problem list is sent as a new PPR-01 snapshot.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use renkei_domain::{FacilityKind, Sex};
use time::{Date, Duration, PrimitiveDateTime, Time};

use super::Ssmix2File;
use super::catalog::{ALLERGENS, CARDIO, Dept, Dx, INTERNAL, Lab, NEURO, ORTHO, Rx};
use super::fhir::{Letter, LetterKind};
use super::messages::{
    AllergyEntry, Cx, Numbers, Outcome, Problem, RxCategory, Ward, adt00, adt22, adt52, adt61,
    oml11, omp01, ppr01,
};
use super::person::{Doctor, Person, day_in};
use crate::{DemoFacility, DemoRegion, DemoResident};

/// splitmix64: independent, reproducible streams per resident from one seed.
pub(crate) fn mix(seed: u64, n: u64) -> u64 {
    let mut z = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// `on` at a random time between `from_h` and `to_h` o'clock.
pub(crate) fn at(rng: &mut StdRng, on: Date, from_h: u8, to_h: u8) -> PrimitiveDateTime {
    let t = Time::from_hms_milli(
        rng.gen_range(from_h..to_h.max(from_h + 1)),
        rng.gen_range(0..60),
        rng.gen_range(0..60),
        rng.gen_range(0..1000),
    )
    .unwrap_or(Time::MIDNIGHT);
    PrimitiveDateTime::new(on, t)
}

fn plus_minutes(t: PrimitiveDateTime, m: i64) -> PrimitiveDateTime {
    t.checked_add(Duration::minutes(m)).unwrap_or(t)
}

fn age_on(birth: Date, on: Date) -> i32 {
    let before = (u8::from(on.month()), on.day()) < (u8::from(birth.month()), birth.day());
    on.year() - birth.year() - i32::from(before)
}

/// What kind of practice a facility is, read from its name (the demo layout names its clinics
/// by speciality, as Japanese clinics are).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Practice {
    Hospital,
    /// Internal medicine or family practice: can manage chronic diagnoses.
    General,
    Ortho,
    Eye,
    Ent,
    Derm,
    Paeds,
    Psych,
    Uro,
    Gyn,
    NeuroSurg,
}

impl Practice {
    pub(crate) fn of(f: &DemoFacility) -> Option<Self> {
        match f.kind {
            FacilityKind::Hospital => Some(Self::Hospital),
            FacilityKind::MedicalClinic => {
                let n = f.name.as_str();
                Some(if n.contains("整形外科") {
                    Self::Ortho
                } else if n.contains("眼科") {
                    Self::Eye
                } else if n.contains("耳鼻") {
                    Self::Ent
                } else if n.contains("皮膚科") {
                    Self::Derm
                } else if n.contains("こども") {
                    Self::Paeds
                } else if n.contains("心療内科") {
                    Self::Psych
                } else if n.contains("泌尿器") {
                    Self::Uro
                } else if n.contains("レディース") {
                    Self::Gyn
                } else if n.contains("脳神経外科") {
                    Self::NeuroSurg
                } else {
                    Self::General
                })
            }
            _ => None,
        }
    }

    fn can_manage_chronic(self) -> bool {
        matches!(self, Self::Hospital | Self::General)
    }

    /// The department a clinic's messages come from.
    fn dept(self) -> Dept {
        use super::catalog::{DERM, ENT, EYE, GYN, NEUROSURG, PAEDS, PSYCH, URO};
        match self {
            Self::Hospital | Self::General => INTERNAL,
            Self::Ortho => ORTHO,
            Self::Eye => EYE,
            Self::Ent => ENT,
            Self::Derm => DERM,
            Self::Paeds => PAEDS,
            Self::Psych => PSYCH,
            Self::Uro => URO,
            Self::Gyn => GYN,
            Self::NeuroSurg => NEUROSURG,
        }
    }
}

/// A resident's lab profile: baselines and trends the values of every facility follow.
struct LabProfile {
    hba1c: f64,
    creatinine: f64,
    /// mg/dL per year.
    creatinine_slope: f64,
    ast: f64,
    alt: f64,
    ldl: f64,
    hdl: f64,
    tg: f64,
    hb: f64,
    wbc: f64,
    plt: f64,
    k: f64,
    na: f64,
    bnp: f64,
    uric_acid: f64,
}

/// The acute state a blood draw is taken in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Stable,
    /// Pneumonia or urinary infection at admission.
    Infection,
    /// Decompensated heart failure at admission.
    Decompensated,
    /// Getting better before discharge.
    Recovering,
}

/// The resident's clinical truth, shared by all facilities.
struct Model {
    sex: Sex,
    birth: Date,
    /// The consent date: trends start here.
    anchor: Date,
    chronic: Vec<Dx>,
    /// The antihypertensives of this patient.
    ht_regimen: Vec<Rx>,
    allergies: Vec<(usize, &'static str, &'static str, bool)>,
    lab: LabProfile,
}

fn u(rng: &mut StdRng, lo: f64, hi: f64) -> f64 {
    rng.gen_range(lo..hi)
}

impl Model {
    fn new(rng: &mut StdRng, r: &DemoResident, today: Date) -> Self {
        let age = age_on(r.birth_date, today);
        let female = r.sex == Sex::Female;
        let male = r.sex == Sex::Male;
        // Prevalence by age band (roughly Japanese outpatient figures, rounded).
        let band = match age {
            ..15 => 0,
            15..40 => 1,
            40..65 => 2,
            65..75 => 3,
            _ => 4,
        };
        let p = |by_band: [f64; 5]| by_band.get(band).copied().unwrap_or(0.0);
        let mut chronic = Vec::new();
        let has = |rng: &mut StdRng, chronic: &mut Vec<Dx>, dx: Dx, prob: f64| {
            if prob > 0.0 && rng.gen_bool(prob.min(1.0)) {
                chronic.push(dx);
            }
        };
        has(
            rng,
            &mut chronic,
            Dx::Hypertension,
            p([0.0, 0.05, 0.25, 0.45, 0.6]),
        );
        has(
            rng,
            &mut chronic,
            Dx::Diabetes,
            p([0.0, 0.02, 0.1, 0.17, 0.2]),
        );
        has(
            rng,
            &mut chronic,
            Dx::Dyslipidaemia,
            p([0.0, 0.05, 0.25, 0.35, 0.3]),
        );
        has(
            rng,
            &mut chronic,
            Dx::HeartFailure,
            p([0.0, 0.0, 0.01, 0.03, 0.1]),
        );
        let op = if female {
            [0.0, 0.0, 0.04, 0.2, 0.3]
        } else {
            [0.0, 0.0, 0.0, 0.03, 0.05]
        };
        has(rng, &mut chronic, Dx::Osteoporosis, p(op));
        has(
            rng,
            &mut chronic,
            Dx::Dementia,
            if age >= 85 {
                0.25
            } else {
                p([0.0, 0.0, 0.0, 0.02, 0.08])
            },
        );
        has(rng, &mut chronic, Dx::Gerd, p([0.0, 0.05, 0.08, 0.1, 0.1]));
        has(
            rng,
            &mut chronic,
            Dx::Constipation,
            p([0.0, 0.02, 0.05, 0.12, 0.2]),
        );
        has(
            rng,
            &mut chronic,
            Dx::KneeOa,
            p([0.0, 0.0, 0.04, 0.12, 0.18]),
        );
        has(
            rng,
            &mut chronic,
            Dx::AtrialFibrillation,
            p([0.0, 0.0, 0.01, 0.04, 0.08]),
        );
        has(
            rng,
            &mut chronic,
            Dx::Hyperuricaemia,
            p(if male {
                [0.0, 0.03, 0.15, 0.12, 0.08]
            } else {
                [0.0, 0.0, 0.01, 0.02, 0.03]
            }),
        );
        has(
            rng,
            &mut chronic,
            Dx::Insomnia,
            p([0.0, 0.05, 0.06, 0.1, 0.12]),
        );
        has(
            rng,
            &mut chronic,
            Dx::Angina,
            p([0.0, 0.0, 0.01, 0.04, 0.06]),
        );
        if male {
            has(rng, &mut chronic, Dx::Bph, p([0.0, 0.0, 0.03, 0.12, 0.2]));
        }
        // Kidney disease follows diabetes and hypertension.
        let ckd = p([0.0, 0.0, 0.03, 0.08, 0.15])
            * if chronic.contains(&Dx::Diabetes) || chronic.contains(&Dx::Hypertension) {
                1.6
            } else {
                0.7
            };
        has(rng, &mut chronic, Dx::Ckd, ckd);

        let ht_regimen = match rng.gen_range(0..10) {
            0..5 => vec![Rx::Amlodipine10],
            5..8 => vec![Rx::Olmesartan20],
            _ => vec![Rx::Amlodipine10, Rx::Olmesartan20],
        };

        // About 15% have an allergy; a few have two.
        let mut allergies: Vec<(usize, &'static str, &'static str, bool)> = Vec::new();
        if rng.gen_bool(0.15) {
            let count = if rng.gen_bool(0.2) { 2 } else { 1 };
            while allergies.len() < count {
                let weights: u32 = ALLERGENS.iter().map(|a| a.weight).sum();
                let mut pick = rng.gen_range(0..weights.max(1));
                let Some(i) = ALLERGENS.iter().position(|a| {
                    if pick < a.weight {
                        true
                    } else {
                        pick -= a.weight;
                        false
                    }
                }) else {
                    break;
                };
                if allergies.iter().any(|(j, ..)| *j == i) {
                    continue;
                }
                let reaction = ALLERGENS
                    .get(i)
                    .and_then(|a| a.reactions.choose(rng).copied())
                    .unwrap_or("発疹");
                let since = ["幼少期", "２０歳頃", "１０年ほど前", "数年前", "時期不明"]
                    .choose(rng)
                    .copied()
                    .unwrap_or("時期不明");
                allergies.push((i, reaction, since, rng.gen_bool(0.15)));
            }
        }

        let dm = chronic.contains(&Dx::Diabetes);
        let ckd = chronic.contains(&Dx::Ckd);
        let dl = chronic.contains(&Dx::Dyslipidaemia);
        let hf = chronic.contains(&Dx::HeartFailure);
        let hu = chronic.contains(&Dx::Hyperuricaemia);
        let fatty = rng.gen_bool(0.1);
        let base_cre = if female {
            u(rng, 0.5, 0.78)
        } else {
            u(rng, 0.7, 1.05)
        };
        let lab = LabProfile {
            hba1c: if dm {
                u(rng, 6.8, 9.4)
            } else {
                u(rng, 5.0, 5.9)
            },
            creatinine: if ckd {
                base_cre * u(rng, 1.5, 2.6)
            } else {
                base_cre
            },
            creatinine_slope: if ckd {
                u(rng, 0.08, 0.25)
            } else {
                u(rng, 0.0, 0.02)
            },
            ast: u(rng, 15.0, 28.0) * if fatty { 1.7 } else { 1.0 },
            alt: u(rng, 10.0, 26.0) * if fatty { 2.0 } else { 1.0 },
            ldl: if dl {
                u(rng, 150.0, 195.0)
            } else {
                u(rng, 80.0, 140.0)
            },
            hdl: if female {
                u(rng, 50.0, 80.0)
            } else {
                u(rng, 40.0, 65.0)
            },
            tg: if dl {
                u(rng, 130.0, 290.0)
            } else {
                u(rng, 60.0, 150.0)
            },
            hb: (if female {
                u(rng, 11.6, 13.8)
            } else {
                u(rng, 13.2, 15.8)
            }) - if ckd { 1.2 } else { 0.0 },
            wbc: u(rng, 4.0, 7.5),
            plt: u(rng, 170.0, 300.0),
            k: u(rng, 3.8, 4.6) + if ckd { 0.5 } else { 0.0 },
            na: u(rng, 138.0, 143.0),
            bnp: if hf {
                u(rng, 150.0, 600.0)
            } else {
                u(rng, 5.0, 35.0)
            },
            uric_acid: if hu {
                u(rng, 7.6, 9.5)
            } else if female {
                u(rng, 3.0, 5.5)
            } else {
                u(rng, 4.5, 7.0)
            },
        };
        Self {
            sex: r.sex,
            birth: r.birth_date,
            anchor: r.consent.signed_on,
            chronic,
            ht_regimen,
            allergies,
            lab,
        }
    }

    fn has(&self, dx: Dx) -> bool {
        self.chronic.contains(&dx)
    }

    fn avoids(&self, rx: Rx) -> bool {
        self.allergies
            .iter()
            .filter_map(|(i, ..)| ALLERGENS.get(*i))
            .any(|a| a.avoid.contains(&rx))
    }

    /// The medicines for `dx`, respecting this patient's choices and allergies.
    fn regimen(&self, dx: Dx) -> Vec<Rx> {
        let base: Vec<Rx> = if dx == Dx::Hypertension {
            self.ht_regimen.clone()
        } else {
            dx.drugs().to_vec()
        };
        let mut out: Vec<Rx> = base.into_iter().filter(|rx| !self.avoids(*rx)).collect();
        if out.is_empty() && matches!(dx, Dx::KneeOa | Dx::LowBackPain) {
            // NSAID allergy: acetaminophen instead.
            out.push(Rx::Calonal300);
        }
        out
    }

    /// The tests a visit orders for these diagnoses.
    fn panel(&self, dxs: &[Dx], with_cbc: bool, with_crp: bool) -> Vec<Lab> {
        let mut labs = vec![
            Lab::Creatinine,
            Lab::Egfr,
            Lab::Ast,
            Lab::Alt,
            Lab::K,
            Lab::Na,
        ];
        if dxs.contains(&Dx::Diabetes) {
            labs.extend([Lab::HbA1c, Lab::Glucose]);
        }
        if dxs.contains(&Dx::Dyslipidaemia) {
            labs.extend([Lab::Ldl, Lab::Hdl, Lab::Tg]);
        }
        if dxs
            .iter()
            .any(|d| matches!(d, Dx::HeartFailure | Dx::AtrialFibrillation))
        {
            labs.push(Lab::Bnp);
        }
        if dxs.contains(&Dx::Hyperuricaemia) {
            labs.push(Lab::UricAcid);
        }
        if with_cbc {
            labs.extend([Lab::Hb, Lab::Wbc, Lab::Plt]);
        }
        if with_crp {
            labs.push(Lab::Crp);
        }
        labs
    }

    /// The values of one blood draw on `on`. Trends run from the consent date: diabetes and
    /// lipids improve on treatment, kidney function declines, and acute illness shows.
    fn draw(&self, rng: &mut StdRng, labs: &[Lab], on: Date, state: State) -> Vec<(Lab, f64)> {
        let years = ((on - self.anchor).whole_days() as f64 / 365.25).max(0.0);
        let treated = years.min(1.0);
        let noise = |rng: &mut StdRng, spread: f64| 1.0 + rng.gen_range(-spread..spread);
        let l = &self.lab;
        let creatinine = (l.creatinine + l.creatinine_slope * years) * noise(rng, 0.04);
        let age = f64::from(age_on(self.birth, on).max(18));
        let egfr = 194.0
            * creatinine.powf(-1.094)
            * age.powf(-0.287)
            * if self.sex == Sex::Female { 0.739 } else { 1.0 };
        let infection = state == State::Infection;
        let mut out = Vec::with_capacity(labs.len());
        for lab in labs {
            let v = match lab {
                Lab::HbA1c => {
                    let improved = if self.has(Dx::Diabetes) {
                        0.6 * treated
                    } else {
                        0.0
                    };
                    (l.hba1c - improved) * noise(rng, 0.03)
                }
                Lab::Glucose => {
                    let a1c = l.hba1c
                        - if self.has(Dx::Diabetes) {
                            0.6 * treated
                        } else {
                            0.0
                        };
                    (28.7 * a1c - 46.7).max(75.0) * noise(rng, 0.12)
                        + if infection { 30.0 } else { 0.0 }
                }
                Lab::Creatinine => creatinine,
                Lab::Egfr => egfr,
                Lab::Ast => l.ast * noise(rng, 0.12),
                Lab::Alt => l.alt * noise(rng, 0.15),
                Lab::Ldl => {
                    let statin = if self.has(Dx::Dyslipidaemia) {
                        1.0 - 0.3 * (years * 4.0).min(1.0)
                    } else {
                        1.0
                    };
                    l.ldl * statin * noise(rng, 0.06)
                }
                Lab::Hdl => l.hdl * noise(rng, 0.06),
                Lab::Tg => l.tg * noise(rng, 0.2),
                Lab::Hb => l.hb * noise(rng, 0.03) - if infection { 0.4 } else { 0.0 },
                Lab::Wbc => match state {
                    State::Infection => u(rng, 10.5, 17.5),
                    State::Recovering => u(rng, 5.5, 8.8),
                    _ => l.wbc * noise(rng, 0.12),
                },
                Lab::Plt => l.plt * noise(rng, 0.08),
                Lab::K => l.k * noise(rng, 0.03),
                Lab::Na => {
                    l.na * noise(rng, 0.01)
                        - if state == State::Decompensated {
                            3.0
                        } else {
                            0.0
                        }
                }
                Lab::Crp => match state {
                    State::Infection => u(rng, 4.5, 16.0),
                    State::Recovering => u(rng, 0.3, 1.6),
                    State::Decompensated => u(rng, 0.2, 1.0),
                    State::Stable => u(rng, 0.02, 0.12),
                },
                Lab::Bnp => match state {
                    State::Decompensated => u(rng, 600.0, 1800.0),
                    _ => l.bnp * noise(rng, 0.25),
                },
                Lab::UricAcid => {
                    let treated = if self.has(Dx::Hyperuricaemia) {
                        2.2 * (years * 4.0).min(1.0)
                    } else {
                        0.0
                    };
                    (l.uric_acid - treated) * noise(rng, 0.05)
                }
            };
            out.push((*lab, v.max(0.01)));
        }
        out
    }
}

/// The region-wide generator: facility order numbers and the output.
pub(crate) struct Generator<'r> {
    region: &'r DemoRegion,
    today: Date,
    numbers: Vec<Numbers>,
    doctors: Vec<Doctor>,
    pub ssmix2: Vec<Ssmix2File>,
    pub letters: Vec<Letter>,
}

impl<'r> Generator<'r> {
    pub(crate) fn new(region: &'r DemoRegion, seed: u64, today: Date) -> Self {
        let mut rng = StdRng::seed_from_u64(mix(seed, u64::MAX));
        let numbers = region
            .facilities
            .iter()
            .map(|_| Numbers::new(rng.gen_range(0..3_000_000)))
            .collect();
        let doctors = region
            .facilities
            .iter()
            .map(|f| Doctor::of_facility(region, f.code.as_str()))
            .collect();
        Self {
            region,
            today,
            numbers,
            doctors,
            ssmix2: Vec::new(),
            letters: Vec::new(),
        }
    }

    /// Every resident's histories.
    pub(crate) fn run(&mut self, seed: u64) {
        let region = self.region;
        for (i, r) in region.residents.iter().enumerate() {
            let mut rng = StdRng::seed_from_u64(mix(seed, i as u64));
            self.resident(&mut rng, r);
        }
    }

    fn resident(&mut self, rng: &mut StdRng, r: &DemoResident) {
        let region = self.region;
        let links: Vec<(usize, Practice, &str)> = r
            .local_ids
            .iter()
            .filter_map(|(i, id)| {
                let p = Practice::of(region.facilities.get(*i)?)?;
                // SS-MIX2 puts the patient ID in folder and file names: letters and digits only.
                let id = id.as_str();
                let storable = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
                storable.then_some((*i, p, id))
            })
            .collect();
        if links.is_empty() {
            return;
        }
        let model = Model::new(rng, r, self.today);
        let person = Person::of(r);

        // Who manages what.
        let primary = links
            .iter()
            .position(|(_, p, _)| *p == Practice::General)
            .or_else(|| links.iter().position(|(_, p, _)| *p == Practice::Hospital));
        let hospital = links.iter().position(|(_, p, _)| *p == Practice::Hospital);
        let ortho = links.iter().position(|(_, p, _)| *p == Practice::Ortho);
        let uro = links.iter().position(|(_, p, _)| *p == Practice::Uro);
        let mut managed: Vec<Vec<Dx>> = vec![Vec::new(); links.len()];
        for dx in &model.chronic {
            let target = match dx {
                Dx::HeartFailure | Dx::Angina | Dx::AtrialFibrillation
                    if hospital.is_some() && rng.gen_bool(0.6) =>
                {
                    hospital
                }
                Dx::Ckd | Dx::Dementia if hospital.is_some() && rng.gen_bool(0.3) => hospital,
                Dx::KneeOa | Dx::Osteoporosis if ortho.is_some() => ortho,
                Dx::Bph if uro.is_some() => uro,
                Dx::Bph => primary.filter(|_| rng.gen_bool(0.3)),
                _ => primary,
            };
            if let Some(list) = target.and_then(|t| managed.get_mut(t)) {
                list.push(*dx);
            }
        }
        let core = links.iter().position(|(i, ..)| *i == 0);
        for (k, (fi, practice, pid)) in links.iter().enumerate() {
            let mine = managed.get(k).cloned().unwrap_or_default();
            // A facility also lists chronic diagnoses others treat, when it knows of them.
            let share = if mine.is_empty() { 0.3 } else { 0.5 };
            let known: Vec<Dx> = model
                .chronic
                .iter()
                .copied()
                .filter(|d| !mine.contains(d))
                .filter(|_| practice.can_manage_chronic() && rng.gen_bool(share))
                .collect();
            // Clinics refer some chronic patients to the core hospital.
            let refer = *practice == Practice::General
                && !mine.is_empty()
                && core.is_some_and(|c| c != k)
                && rng.gen_bool(0.2);
            let mut fac_rng = StdRng::seed_from_u64(rng.r#gen());
            let site = Site {
                index: *fi,
                practice: *practice,
                patient_id: pid,
            };
            let care = Care {
                managed: mine,
                known,
                refer,
            };
            self.facility(&mut fac_rng, &model, &person, site, care);
        }
    }

    fn facility(
        &mut self,
        rng: &mut StdRng,
        model: &Model,
        person: &Person,
        site: Site<'_>,
        care: Care,
    ) {
        let region = self.region;
        let Some(facility) = region.facilities.get(site.index) else {
            return;
        };
        let doctor = self
            .doctors
            .get(site.index)
            .cloned()
            .unwrap_or_else(Doctor::generic);
        let Some(numbers) = self.numbers.get_mut(site.index) else {
            return;
        };
        let cx = Cx {
            facility: site.index,
            facility_code: facility.code.as_str(),
            facility_name: Some(facility.name.as_str()),
            patient_id: site.patient_id,
            person,
            doctor: &doctor,
        };
        let mut run = Run {
            rng,
            model,
            cx: &cx,
            numbers,
            practice: site.practice,
            today: self.today,
            h: FacilityHistory {
                patient_id: site.patient_id.to_owned(),
                files: Vec::new(),
                problems: Vec::new(),
                labs: Vec::new(),
                prescriptions: Vec::new(),
                stays: Vec::new(),
            },
        };
        let referral = run.history(&care);
        let h = run.h;
        if let Some(plan) = referral {
            self.letters
                .push(referral_letter(model, &cx, &h, plan, person, &doctor));
        }
        for stay in h.stays.iter().filter(|s| s.summary) {
            self.letters
                .push(discharge_summary(model, &cx, &h, stay, person, &doctor));
        }
        self.ssmix2.extend(h.files);
    }
}

/// Where a history happens.
#[derive(Clone, Copy)]
struct Site<'a> {
    index: usize,
    practice: Practice,
    patient_id: &'a str,
}

/// What a facility does for a resident.
struct Care {
    /// The chronic diagnoses it treats (prescribes for, follows with blood tests).
    managed: Vec<Dx>,
    /// Chronic diagnoses it lists because it knows of them (treated elsewhere).
    known: Vec<Dx>,
    /// Whether it refers the patient to the core hospital at some point.
    refer: bool,
}

/// A hospital stay, kept for the discharge summary.
struct Stay {
    admitted: PrimitiveDateTime,
    discharged: PrimitiveDateTime,
    reason: Dx,
    ward: Ward,
    visit: String,
    dept: Dept,
    discharge_rx: Vec<(Rx, u32)>,
    summary: bool,
}

/// One facility's history: the files written, and what the letters are made from.
struct FacilityHistory {
    patient_id: String,
    files: Vec<Ssmix2File>,
    problems: Vec<Problem>,
    labs: Vec<(PrimitiveDateTime, Vec<(Lab, f64)>)>,
    prescriptions: Vec<(PrimitiveDateTime, Vec<(Rx, u32)>)>,
    stays: Vec<Stay>,
}

impl FacilityHistory {
    /// Record a diagnosis on the problem list: active, confirmed, not the main one, outpatient,
    /// then as `edit` says.
    fn problem(&mut self, dx: Dx, recorded: Date, edit: impl FnOnce(&mut Problem)) {
        let mut p = Problem {
            disease: dx.disease(),
            id: format!("PRB{}{:03}", self.patient_id, self.problems.len() + 1),
            recorded,
            ended: None,
            suspected: false,
            main: false,
            inpatient: false,
        };
        edit(&mut p);
        self.problems.push(p);
    }

    fn active_on(&self, on: Date) -> Vec<&Problem> {
        self.problems
            .iter()
            .filter(|p| p.recorded <= on && p.ended.is_none_or(|(e, _)| e > on))
            .collect()
    }
}

/// Days of medicine until the next visit, in whole weeks (what Japanese prescriptions give).
fn supply(gap: i64) -> u32 {
    let weeks = (gap.clamp(14, 91) + 3) / 7;
    u32::try_from(weeks * 7).unwrap_or(28)
}

/// Medicines for `dxs`, each once, all for `days`.
fn regimen_for<'d>(
    model: &Model,
    dxs: impl IntoIterator<Item = &'d Dx>,
    days: u32,
) -> Vec<(Rx, u32)> {
    let mut rps: Vec<(Rx, u32)> = Vec::new();
    for dx in dxs {
        for rx in model.regimen(*dx) {
            if !rps.iter().any(|(r, _)| *r == rx) {
                rps.push((rx, days));
            }
        }
    }
    rps
}

/// Writing one facility's history for one patient.
struct Run<'a> {
    rng: &'a mut StdRng,
    model: &'a Model,
    cx: &'a Cx<'a>,
    numbers: &'a mut Numbers,
    practice: Practice,
    today: Date,
    h: FacilityHistory,
}

impl Run<'_> {
    fn hospital(&self) -> bool {
        self.practice == Practice::Hospital
    }

    /// The whole history; returns the referral to write, if the facility refers.
    fn history(&mut self, care: &Care) -> Option<ReferralPlan> {
        let (model, today) = (self.model, self.today);
        // The window: from the consent, for some facilities from somewhat before it.
        let start = if self.rng.gen_bool(0.12) {
            model
                .anchor
                .checked_sub(days(self.rng.gen_range(30..=400)))
                .unwrap_or(model.anchor)
        } else {
            model.anchor
        };
        let first = day_in(
            self.rng,
            start.min(today),
            start.checked_add(days(14)).unwrap_or(today).min(today),
        );
        // Registration comes first in the morning; the consultation and its orders follow.
        let first_at = at(self.rng, first, 8, 9);
        self.h.files.push(adt00(self.cx, self.numbers, first_at));

        // Allergies, told at the first visit.
        let regular = !care.managed.is_empty();
        let allergies = allergy_entries(model, &self.h.patient_id, first);
        if !allergies.is_empty() && (regular || self.rng.gen_bool(0.6)) {
            let at = plus_minutes(first_at, 3);
            self.h
                .files
                .push(adt61(self.cx, self.numbers, at, &allergies));
        }

        // A hospital's department follows what it treats; a clinic is its speciality.
        let dept = care
            .managed
            .first()
            .filter(|_| self.hospital())
            .map_or_else(|| self.practice.dept(), |d| d.disease().dept);
        // The first diagnosis a facility manages is its 主病名.
        for (n, dx) in care.managed.iter().chain(care.known.iter()).enumerate() {
            self.h.problem(*dx, first, |p| p.main = n == 0 && regular);
        }

        if regular {
            self.regular(&care.managed, dept, first);
        } else {
            self.episodes(first);
        }
        if self.hospital() {
            self.admission(&care.managed, first);
        }
        let referral = if care.refer {
            self.plan_referral()
        } else {
            None
        };
        self.snapshots(dept);
        referral
    }

    /// A blood draw: OML-11 and the values kept for letters.
    fn lab(
        &mut self,
        drawn: PrimitiveDateTime,
        reported: PrimitiveDateTime,
        values: Vec<(Lab, f64)>,
        dept: Dept,
        ward: Option<&Ward>,
    ) {
        self.h.files.push(oml11(
            self.cx,
            self.numbers,
            drawn,
            reported,
            &values,
            dept,
            ward,
        ));
        self.h.labs.push((drawn, values));
    }

    /// A prescription: OMP-01 and the medicines kept for letters.
    fn prescribe(
        &mut self,
        t: PrimitiveDateTime,
        rps: Vec<(Rx, u32)>,
        dept: Dept,
        category: RxCategory,
        ward: Option<&Ward>,
    ) {
        if rps.is_empty() {
            return;
        }
        let drugs: Vec<_> = rps.iter().map(|(rx, n)| (rx.drug(), *n)).collect();
        self.h.files.push(omp01(
            self.cx,
            self.numbers,
            t,
            &drugs,
            dept,
            category,
            ward,
        ));
        self.h.prescriptions.push((t, rps));
    }

    fn outpatient_category(&self) -> RxCategory {
        if self.hospital() {
            RxCategory::HospitalOutpatient
        } else {
            RxCategory::Outside
        }
    }

    /// A regular patient: visits every few weeks with a prescription each time and blood tests
    /// every two or three visits; now and then a cold, or a new diagnosis.
    fn regular(&mut self, managed: &[Dx], dept: Dept, first: Date) {
        let model = self.model;
        let hospital = self.hospital();
        let mut visits = Vec::new();
        let mut d = first;
        while d <= self.today {
            visits.push(d);
            let gap = if hospital {
                *[56, 56, 84].choose(self.rng).unwrap_or(&56)
            } else {
                *[28, 35, 42, 56, 56].choose(self.rng).unwrap_or(&28)
            };
            d = match d.checked_add(days(gap + self.rng.gen_range(-3..=3))) {
                Some(next) => next,
                None => break,
            };
        }
        let mut managed: Vec<(Dx, Date)> = managed.iter().map(|d| (*d, first)).collect();
        // A new chronic diagnosis during the window, added at a visit. Doctors tidy the list
        // when they add to it: a diagnosis the facility only noted (treated elsewhere) is often
        // closed (中止) the same day, so the new snapshot both adds and ends one.
        if visits.len() > 2 && self.rng.gen_bool(0.25) {
            let candidates: Vec<Dx> = [
                Dx::Constipation,
                Dx::Insomnia,
                Dx::Gerd,
                Dx::Hyperuricaemia,
                Dx::Dyslipidaemia,
            ]
            .into_iter()
            .filter(|d| !model.has(*d) && !managed.iter().any(|(m, _)| m == d))
            .collect();
            let added = candidates.choose(self.rng).copied();
            let on = visits.get(self.rng.gen_range(1..visits.len())).copied();
            if let (Some(dx), Some(on)) = (added, on) {
                let treated: Vec<_> = managed.iter().map(|(d, _)| d.disease()).collect();
                if self.rng.gen_bool(0.6)
                    && let Some(noted) = self.h.problems.iter_mut().find(|p| {
                        p.ended.is_none() && p.recorded < on && !treated.contains(&p.disease)
                    })
                {
                    noted.ended = Some((on, Outcome::Stopped));
                }
                managed.push((dx, on));
                self.h.problem(dx, on, |_| {});
            }
        }
        let lab_chance = if hospital { 0.8 } else { 0.4 };
        for (k, visit) in visits.iter().enumerate() {
            let t = at(self.rng, *visit, 10, 17);
            let next = visits.get(k + 1).copied();
            let gap = next.map_or(28, |n| (n - *visit).whole_days());
            let current: Vec<Dx> = managed
                .iter()
                .filter(|(_, since)| since <= visit)
                .map(|(d, _)| *d)
                .collect();
            // Blood drawn before the consultation; a blood count every other time.
            if k == 0 || self.rng.gen_bool(lab_chance) {
                let labs = model.panel(&current, k % 2 == 0, false);
                let values = model.draw(self.rng, &labs, *visit, State::Stable);
                self.lab(
                    plus_minutes(t, -60),
                    plus_minutes(t, -10),
                    values,
                    dept,
                    None,
                );
            }
            let mut rps = regimen_for(model, &current, supply(gap));
            // A cold now and then, closed as cured at the next visit.
            if !hospital && self.rng.gen_bool(0.05) {
                let ends = next.or_else(|| visit.checked_add(days(self.rng.gen_range(7..=14))));
                self.h.problem(Dx::Uri, *visit, |p| {
                    p.ended = ends.map(|e| (e, Outcome::Cured))
                });
                for (rx, n) in regimen_for(model, &[Dx::Uri], 5) {
                    if !rps.iter().any(|(r, _)| *r == rx) {
                        rps.push((rx, n));
                    }
                }
            }
            let category = self.outpatient_category();
            self.prescribe(t, rps, dept, category, None);
        }
    }

    /// A patient seen for one to three episodes that fit the practice.
    fn episodes(&mut self, first: Date) {
        let model = self.model;
        let count = match self.rng.gen_range(0..10) {
            0..5 => 1,
            5..8 => 2,
            _ => 3,
        };
        let mut dates = vec![first];
        for _ in 1..count {
            dates.push(day_in(self.rng, first, self.today));
        }
        dates.sort();
        dates.dedup();
        let hospital = self.hospital();
        for on in dates {
            let Some((dx, suspected)) = episode_dx(self.rng, model, self.practice, on) else {
                continue;
            };
            // One open problem per diagnosis.
            if self
                .h
                .active_on(on)
                .iter()
                .any(|p| p.disease == dx.disease())
            {
                continue;
            }
            let dept = if hospital {
                dx.disease().dept
            } else {
                self.practice.dept()
            };
            let t = at(self.rng, on, 10, 17);
            // A suspicion is ruled out (中止) after the work-up; acute illness is cured.
            let ended = if suspected {
                on.checked_add(days(self.rng.gen_range(21..=70)))
                    .map(|e| (e, Outcome::Stopped))
            } else if dx.acute() {
                on.checked_add(days(self.rng.gen_range(7..=28)))
                    .map(|e| (e, Outcome::Cured))
            } else {
                None
            };
            self.h.problem(dx, on, |p| {
                p.ended = ended;
                p.suspected = suspected;
                p.main = true;
            });
            if self.rng.gen_bool(if hospital { 0.6 } else { 0.3 }) {
                let labs = model.panel(&[], true, true);
                let values = model.draw(self.rng, &labs, on, State::Stable);
                self.lab(
                    plus_minutes(t, -50),
                    plus_minutes(t, -10),
                    values,
                    dept,
                    None,
                );
            }
            let supply = if dx.acute() {
                self.rng.gen_range(5..=7)
            } else {
                14 * self.rng.gen_range(1..=2)
            };
            if !suspected {
                let category = self.outpatient_category();
                self.prescribe(t, regimen_for(model, &[dx], supply), dept, category, None);
            }
        }
    }

    /// A hospital stay for some older patients: admission, blood tests on admission and before
    /// discharge, discharge with a discharge prescription.
    fn admission(&mut self, managed: &[Dx], first: Date) {
        let model = self.model;
        let age = age_on(model.birth, self.today);
        let chance = match age {
            75.. => 0.14,
            65..75 => 0.07,
            _ => 0.02,
        };
        let (Some(lo), Some(hi)) = (
            first.checked_add(days(20)),
            self.today.checked_sub(days(40)),
        ) else {
            return;
        };
        if lo >= hi || !self.rng.gen_bool(chance) {
            return;
        }
        let rng = &mut *self.rng;
        let admit_day = day_in(rng, lo, hi);
        let reason = if model.has(Dx::HeartFailure) && rng.gen_bool(0.5) {
            Dx::HeartFailure
        } else {
            match rng.gen_range(0..100) {
                0..40 => Dx::Pneumonia,
                40..65 => Dx::Uti,
                65..80 if age >= 70 => Dx::CerebralInfarction,
                _ => Dx::Pneumonia,
            }
        };
        let (los, dept, state) = match reason {
            Dx::HeartFailure => (rng.gen_range(12..=24), CARDIO, State::Decompensated),
            Dx::CerebralInfarction => (rng.gen_range(18..=35), NEURO, State::Stable),
            Dx::Uti => (rng.gen_range(5..=12), INTERNAL, State::Infection),
            _ => (rng.gen_range(8..=16), INTERNAL, State::Infection),
        };
        let Some(discharge_day) = admit_day.checked_add(days(los)) else {
            return;
        };
        let admitted = at(rng, admit_day, 10, 16);
        let discharged = at(rng, discharge_day, 10, 12);
        let floor = rng.gen_range(3..=7);
        let ward = Ward {
            ward: format!("{floor}{}", ["E", "W"].choose(rng).copied().unwrap_or("E")),
            room: format!("{floor}{:02}", rng.gen_range(1..=20)),
            bed: rng.gen_range(1..=4).to_string(),
        };
        let visit = format!(
            "{}{:04}",
            super::hl7::ymd(admit_day),
            rng.gen_range(1..=9999)
        );
        self.h
            .files
            .push(adt22(self.cx, self.numbers, admitted, &ward, dept, &visit));

        // The admission diagnosis (an existing heart-failure entry is not duplicated).
        let already = self
            .h
            .active_on(admit_day)
            .iter()
            .any(|p| p.disease == reason.disease());
        if !already {
            self.h.problem(reason, admit_day, |p| {
                p.ended = reason.acute().then_some((discharge_day, Outcome::Cured));
                p.main = true;
                p.inpatient = true;
            });
        }
        let mut dxs: Vec<Dx> = managed.to_vec();
        dxs.push(reason);
        let labs = model.panel(&dxs, true, true);
        let values = model.draw(self.rng, &labs, admit_day, state);
        let drawn = plus_minutes(admitted, 20);
        self.lab(drawn, plus_minutes(drawn, 70), values, dept, Some(&ward));
        if let Some(before) = discharge_day.checked_sub(days(2)) {
            let recovering = if state == State::Stable {
                State::Stable
            } else {
                State::Recovering
            };
            let values = model.draw(self.rng, &labs, before, recovering);
            let drawn = at(self.rng, before, 6, 7);
            self.lab(drawn, plus_minutes(drawn, 90), values, dept, Some(&ward));
        }
        self.h.files.push(adt52(
            self.cx,
            self.numbers,
            admitted,
            discharged,
            &ward,
            dept,
            &visit,
        ));

        let mut rps = regimen_for(model, managed.iter().chain([&reason]), 14);
        if reason == Dx::HeartFailure && !rps.iter().any(|(r, _)| *r == Rx::Furosemide20) {
            rps.push((Rx::Furosemide20, 14));
        }
        let t = plus_minutes(discharged, -30);
        self.prescribe(t, rps.clone(), dept, RxCategory::Discharge, Some(&ward));
        let summary = self.rng.gen_bool(0.25);
        self.h.stays.push(Stay {
            admitted,
            discharged,
            reason,
            ward,
            visit,
            dept,
            discharge_rx: rps,
            summary,
        });
    }

    /// PPR-01 snapshots: one whenever the problem list changed (a diagnosis recorded or ended),
    /// written in the evening after the day's visits. A diagnosis that ended more than four
    /// months before a snapshot is no longer listed (the receiver closes it as absent).
    fn snapshots(&mut self, dept: Dept) {
        let today = self.today;
        let mut dates: Vec<Date> = self
            .h
            .problems
            .iter()
            .flat_map(|p| std::iter::once(p.recorded).chain(p.ended.map(|(e, _)| e)))
            .filter(|d| *d <= today)
            .collect();
        dates.sort();
        dates.dedup();
        let mut previous = None;
        for on in dates {
            let listed: Vec<Problem> = self
                .h
                .problems
                .iter()
                .filter(|p| p.recorded <= on)
                .filter(|p| {
                    p.ended
                        .is_none_or(|(e, _)| e > on || (on - e).whole_days() <= 120)
                })
                .map(|p| {
                    // Not yet ended as of this snapshot.
                    let mut shown = p.clone();
                    if shown.ended.is_some_and(|(e, _)| e > on) {
                        shown.ended = None;
                    }
                    shown
                })
                .collect();
            if listed.is_empty() {
                continue;
            }
            let refs: Vec<&Problem> = listed.iter().collect();
            let t = at(self.rng, on, 17, 19);
            self.h
                .files
                .push(ppr01(self.cx, self.numbers, t, &refs, previous, dept));
            previous = Some(on);
        }
    }

    /// Pick a later regular visit and a reason to refer that fits the patient's diagnoses; a
    /// suspicion the referral is about (狭心症の疑い, 上腹部痛) joins the clinic's problem list
    /// that day. `None` when nothing on the list would make a clinic refer.
    fn plan_referral(&mut self) -> Option<ReferralPlan> {
        let h = &mut self.h;
        let rng = &mut *self.rng;
        let later: Vec<&(PrimitiveDateTime, Vec<(Rx, u32)>)> =
            h.prescriptions.iter().skip(1).collect();
        let (written, rx) = later
            .choose(rng)
            .copied()
            .or_else(|| h.prescriptions.first())
            .map(|(t, rx)| (*t, rx.clone()))?;
        if written.date() > self.today {
            return None;
        }
        let on = written.date();
        let active = h.active_on(on);
        let has = |dx: Dx| active.iter().any(|p| p.disease == dx.disease());
        let cardiac = has(Dx::HeartFailure)
            || has(Dx::AtrialFibrillation)
            || has(Dx::Hypertension) && rng.gen_bool(0.3);
        let (purpose, history, suspicion) = if cardiac {
            (
                "労作時の息切れと胸部圧迫感が出現しており、精査加療をお願いいたします。",
                "当院にて内服加療中。最近、階段昇降時の息切れと胸部圧迫感を訴えるようになりました。",
                (!has(Dx::Angina)).then_some(Dx::Angina),
            )
        } else if has(Dx::Ckd) {
            (
                "腎機能の低下傾向を認めるため、精査と今後の治療方針についてご高診をお願いいたします。",
                "慢性腎臓病にて当院で経過観察中。クレアチニン値が徐々に上昇しています。",
                None,
            )
        } else if has(Dx::Diabetes) {
            (
                "血糖コントロールが不十分なため、教育入院を含めご高診をお願いいたします。",
                "２型糖尿病にて当院で内服加療中ですが、HbA1cの改善が不十分です。",
                None,
            )
        } else if has(Dx::Hypertension) {
            (
                "降圧が不十分なため、二次性高血圧の精査をお願いいたします。",
                "本態性高血圧症にて当院で内服加療中ですが、家庭血圧の高値が持続しています。",
                None,
            )
        } else if has(Dx::Gerd) {
            (
                "心窩部痛が持続するため、上部消化管内視鏡検査をお願いいたします。",
                "逆流性食道炎にて当院で内服加療中ですが、心窩部痛が続いています。",
                Some(Dx::UpperAbdominalPain),
            )
        } else {
            return None;
        };
        if let Some(dx) = suspicion {
            h.problem(dx, on, |p| p.suspected = dx == Dx::Angina);
        }
        Some(ReferralPlan {
            written: plus_minutes(written, 20),
            rx,
            purpose,
            history,
        })
    }
}

/// The diagnosis an episodic visit is for, fitting the practice and the patient.
fn episode_dx(rng: &mut StdRng, model: &Model, practice: Practice, on: Date) -> Option<(Dx, bool)> {
    let age = age_on(model.birth, on);
    let male = model.sex == Sex::Male;
    let pick = |rng: &mut StdRng, options: &[(Dx, u32)]| -> Option<Dx> {
        let total: u32 = options.iter().map(|o| o.1).sum();
        let mut r = rng.gen_range(0..total.max(1));
        options.iter().find_map(|(d, w)| {
            if r < *w {
                Some(*d)
            } else {
                r -= w;
                None
            }
        })
    };
    let dx = match practice {
        Practice::Hospital => {
            // Hospitals see patients sent for a work-up: a suspected angina now and then.
            if age >= 50 && rng.gen_bool(0.25) {
                return Some((Dx::Angina, true));
            }
            pick(
                rng,
                &[
                    (Dx::UpperAbdominalPain, 20),
                    (Dx::Gastritis, 20),
                    (Dx::DuodenalUlcer, 10),
                    (Dx::Uri, 15),
                    (Dx::HerpesZoster, 5),
                    (Dx::Headache, 5),
                ],
            )
        }
        Practice::General => pick(
            rng,
            &[
                (Dx::Uri, 40),
                (Dx::Gastritis, 20),
                (Dx::Gerd, 10),
                (Dx::Insomnia, 5),
                (Dx::UpperAbdominalPain, 10),
                (Dx::HerpesZoster, 5),
            ],
        ),
        Practice::Ortho => pick(
            rng,
            &[
                (Dx::LowBackPain, 50),
                (Dx::KneeOa, if age >= 50 { 40 } else { 5 }),
                (Dx::Osteoporosis, if age >= 65 && !male { 20 } else { 0 }),
            ],
        ),
        Practice::Eye => Some(Dx::Cataract).filter(|_| age >= 50),
        Practice::Ent => Some(Dx::AllergicRhinitis),
        Practice::Derm => pick(
            rng,
            &[
                (Dx::Eczema, 60),
                (Dx::HerpesZoster, if age >= 50 { 30 } else { 5 }),
            ],
        ),
        Practice::Paeds => {
            if age >= 16 {
                None
            } else {
                pick(rng, &[(Dx::Uri, 70), (Dx::Asthma, 30)])
            }
        }
        Practice::Psych => pick(rng, &[(Dx::Insomnia, 60), (Dx::Depression, 40)]),
        Practice::Uro => Some(if male && age >= 50 { Dx::Bph } else { Dx::Uti }),
        Practice::Gyn => Some(Dx::Menopause).filter(|_| !male && (45..=60).contains(&age)),
        Practice::NeuroSurg => Some(Dx::Headache),
    }?;
    Some((dx, false))
}

/// The allergies as the facility recorded them.
fn allergy_entries(model: &Model, patient_id: &str, recorded: Date) -> Vec<AllergyEntry> {
    model
        .allergies
        .iter()
        .enumerate()
        .filter_map(|(n, (i, reaction, since, severe))| {
            Some(AllergyEntry {
                allergen: *ALLERGENS.get(*i)?,
                reaction,
                since,
                recorded,
                id: format!("ALG{patient_id}{:02}", n + 1),
                severe: *severe,
            })
        })
        .collect()
}

/// The latest values of each test on or before `until`.
fn latest_labs(
    h: &FacilityHistory,
    until: PrimitiveDateTime,
) -> Vec<(Lab, f64, PrimitiveDateTime)> {
    let mut out: Vec<(Lab, f64, PrimitiveDateTime)> = Vec::new();
    let mut draws: Vec<&(PrimitiveDateTime, Vec<(Lab, f64)>)> =
        h.labs.iter().filter(|(t, _)| *t <= until).collect();
    draws.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    for (t, values) in draws {
        for (lab, v) in values {
            if !out.iter().any(|(l, ..)| l == lab) {
                out.push((*lab, *v, *t));
            }
        }
    }
    out.sort_by_key(|(l, ..)| *l);
    out
}

/// Why a clinic refers a patient to the core hospital, decided at a regular visit.
struct ReferralPlan {
    written: PrimitiveDateTime,
    rx: Vec<(Rx, u32)>,
    purpose: &'static str,
    history: &'static str,
}

/// The referral letter: the clinic's problem list, medicines, allergies and latest results on
/// the day it is written.
fn referral_letter(
    model: &Model,
    cx: &Cx<'_>,
    h: &FacilityHistory,
    plan: ReferralPlan,
    person: &Person,
    doctor: &Doctor,
) -> Letter {
    let written = plan.written;
    Letter {
        kind: LetterKind::Referral {
            to: 0,
            purpose: plan.purpose.to_owned(),
            history: plan.history.to_owned(),
        },
        facility: cx.facility,
        patient_id: cx.patient_id.to_owned(),
        person: person.clone(),
        doctor: doctor.clone(),
        written,
        problems: h.active_on(written.date()).into_iter().cloned().collect(),
        allergies: allergy_entries(model, cx.patient_id, written.date()),
        meds: plan
            .rx
            .iter()
            .map(|(r, n)| (r.drug(), *n, written.date()))
            .collect(),
        labs: latest_labs(h, written),
        sex: model.sex,
    }
}

fn discharge_summary(
    model: &Model,
    cx: &Cx<'_>,
    h: &FacilityHistory,
    stay: &Stay,
    person: &Person,
    doctor: &Doctor,
) -> Letter {
    let written = plus_minutes(stay.discharged, 120);
    let course = match stay.reason {
        Dx::Pneumonia => "入院後、抗菌薬点滴治療を開始。解熱し炎症反応も改善したため退院とした。",
        Dx::Uti => "入院後、抗菌薬点滴治療を開始。速やかに解熱し、尿所見も改善したため退院とした。",
        Dx::HeartFailure => "入院後、利尿薬の静注にて体重・浮腫は改善。内服調整ののち退院とした。",
        Dx::CerebralInfarction => {
            "入院後、抗血栓療法とリハビリテーションを実施。ADLの改善を得て自宅退院とした。"
        }
        _ => "入院加療により症状は改善し退院とした。",
    };
    // The problems listed during the stay: those active on admission and those recorded since.
    let problems: Vec<Problem> = h
        .problems
        .iter()
        .filter(|p| p.recorded <= stay.discharged.date())
        .filter(|p| p.ended.is_none_or(|(e, _)| e >= stay.admitted.date()))
        .cloned()
        .collect();
    let labs: Vec<(Lab, f64, PrimitiveDateTime)> = h
        .labs
        .iter()
        .filter(|(t, _)| *t >= stay.admitted && *t <= stay.discharged)
        .flat_map(|(t, values)| values.iter().map(move |(l, v)| (*l, *v, *t)))
        .collect();
    Letter {
        kind: LetterKind::Discharge {
            admitted: stay.admitted,
            discharged: stay.discharged,
            reason: stay.reason,
            course: course.to_owned(),
            ward: stay.ward.clone(),
            visit: stay.visit.clone(),
            dept: stay.dept,
        },
        facility: cx.facility,
        patient_id: cx.patient_id.to_owned(),
        person: person.clone(),
        doctor: doctor.clone(),
        written,
        problems,
        allergies: allergy_entries(model, cx.patient_id, stay.admitted.date()),
        meds: stay
            .discharge_rx
            .iter()
            .map(|(r, n)| (r.drug(), *n, stay.discharged.date()))
            .collect(),
        labs,
        sex: model.sex,
    }
}
