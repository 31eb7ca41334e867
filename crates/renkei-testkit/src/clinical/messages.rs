//! The JAHIS messages of each family, as SS-MIX2 files: ADT-00, ADT-61, PPR-01, OMP-01,
//! OML-11, ADT-22 and ADT-52. Each builder writes the fields the mapper in `renkei-hl7::jahis`
//! reads (see the module docs there) and no segment it would have to set aside as unmapped,
//! laid out as in the JAHIS samples.

use time::{Date, PrimitiveDateTime};

use super::Ssmix2File;
use super::catalog::{
    Allergen, DISEASE_UNCODED, Dept, Disease, Drug, LOCAL_DRUG_TABLE, Lab, Specimen,
};
use super::hl7::{Seg, esc, iso_2022_jp, message, msh, pid, ts12, ts14, ts17, xcn, ymd};
use super::person::{Doctor, Person};
use renkei_domain::Sex;

/// Who and where a message is about: the facility, the patient as registered there, and the
/// doctor who writes the orders.
pub(crate) struct Cx<'a> {
    /// Index into `DemoRegion.facilities` (0 for the benchmark).
    pub facility: usize,
    pub facility_code: &'a str,
    /// ORC-21 (ordering facility name); `None` leaves it empty.
    pub facility_name: Option<&'a str>,
    pub patient_id: &'a str,
    pub person: &'a Person,
    pub doctor: &'a Doctor,
}

/// Hands out a facility's order numbers (also used as MSH-10 control IDs). An order number is
/// the date and a 7-digit serial (15 digits, as the guideline asks); the serial only goes up, so
/// no two files of a facility share a logical key.
pub(crate) struct Numbers {
    serial: u64,
}

impl Numbers {
    pub(crate) fn new(start: u64) -> Self {
        Self { serial: start }
    }

    pub(crate) fn next(&mut self, on: Date) -> String {
        self.serial = (self.serial + 1) % 10_000_000;
        format!("{}{:07}", ymd(on), self.serial)
    }
}

/// The file for a message: name `患者ID_診療日_データ種別_オーダNo_発生日時_診療科_1`.
fn file(
    cx: &Cx<'_>,
    date: Option<Date>,
    kind: &str,
    order_no: &str,
    at: PrimitiveDateTime,
    dept: Option<&str>,
    text: &str,
) -> Ssmix2File {
    let file_name = format!(
        "{}_{}_{kind}_{order_no}_{}_{}_1",
        cx.patient_id,
        date.map_or_else(|| "-".to_owned(), ymd),
        ts17(at),
        dept.unwrap_or("-")
    );
    Ssmix2File {
        facility: cx.facility,
        patient_id: cx.patient_id.to_owned(),
        file_name,
        bytes: iso_2022_jp(text),
    }
}

/// PV1 of an outpatient visit (`O`, the department as location) or an inpatient (`I`, ward,
/// room and bed).
fn pv1(cx: &Cx<'_>, dept: Dept, ward: Option<&Ward>) -> Seg {
    let s = Seg::new("PV1").f(1, "0001");
    match ward {
        Some(w) => s
            .f(2, "I")
            .f(3, format!("{}^{}^{}^^^N", w.ward, w.room, w.bed))
            .f(7, xcn(cx.doctor))
            .f(10, dept.code),
        None => s
            .f(2, "O")
            .f(3, format!("{}^^^^^C", dept.code))
            .f(7, xcn(cx.doctor))
            .f(10, dept.code),
    }
}

/// ORC as JAHIS order messages carry it: control, placer number, Rp (ORC-4), transaction time,
/// ordering doctor, department (ORC-17), facility (ORC-21) and patient class (ORC-29).
fn orc(
    cx: &Cx<'_>,
    control: &str,
    order_no: &str,
    rp: Option<usize>,
    at: PrimitiveDateTime,
    dept: Dept,
    inpatient: bool,
) -> Seg {
    let mut s = Seg::new("ORC")
        .f(1, control)
        .f(2, order_no)
        .f(9, ts14(at))
        .f(12, xcn(cx.doctor))
        .f(17, format!("{}^{}^99Z01", dept.code, esc(dept.name)))
        .f(
            29,
            if inpatient {
                "I^入院患者オーダ^HL70482"
            } else {
                "O^外来患者オーダ^HL70482"
            },
        );
    if let Some(rp) = rp {
        s = s.f(4, rp.to_string());
    }
    if let Some(name) = cx.facility_name {
        s = s.f(21, esc(name));
    }
    s
}

/// ADT-00 (ADT^A08): the patient's demographics as registered at the facility.
pub(crate) fn adt00(cx: &Cx<'_>, n: &mut Numbers, at: PrimitiveDateTime) -> Ssmix2File {
    let order = n.next(at.date());
    let text = message(
        msh(cx.facility_code, at, "ADT^A08^ADT_A01", &order),
        &[
            Seg::new("EVN").f(2, ts12(at)),
            pid(cx.patient_id, cx.person, true),
        ],
    );
    file(cx, None, "ADT-00", &order, at, None, &text)
}

/// One allergy as ADT-61 records it.
pub(crate) struct AllergyEntry {
    pub allergen: Allergen,
    pub reaction: &'static str,
    /// IAM-12: when it started, as the patient tells it.
    pub since: &'static str,
    pub recorded: Date,
    /// IAM-7: the allergy's identifier at the facility (stable across updates).
    pub id: String,
    pub severe: bool,
}

/// ADT-61 (ADT^A60): the patient's allergies, one IAM each.
pub(crate) fn adt61(
    cx: &Cx<'_>,
    n: &mut Numbers,
    at: PrimitiveDateTime,
    allergies: &[AllergyEntry],
) -> Ssmix2File {
    let order = n.next(at.date());
    let mut segs = vec![
        Seg::new("EVN").f(2, ts12(at)),
        pid(cx.patient_id, cx.person, false),
    ];
    for (i, a) in allergies.iter().enumerate() {
        let (t, tn) = a.allergen.kind.hl7();
        let (sev, sevn) = if a.severe {
            ("SV", "重度")
        } else {
            ("MO", "中等度")
        };
        segs.push(
            Seg::new("IAM")
                .f(1, (i + 1).to_string())
                .f(2, format!("{t}^{tn}^HL70127"))
                .f(
                    3,
                    format!(
                        "{}^{}^{}",
                        a.allergen.code.0,
                        esc(a.allergen.name),
                        a.allergen.code.1
                    ),
                )
                .f(4, format!("{sev}^{sevn}^HL70128"))
                .f(5, esc(a.reaction))
                .f(6, "A^追加^HL70323")
                .f(7, esc(&a.id))
                .f(12, esc(a.since))
                .f(13, ymd(a.recorded)),
        );
    }
    let text = message(msh(cx.facility_code, at, "ADT^A60^ADT_A60", &order), &segs);
    file(cx, None, "ADT-61", &order, at, None, &text)
}

/// How a problem ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 治癒 (HL7 0241 `F`, which JAHIS uses for 全治).
    Cured,
    /// 中止 (JAHIS 転帰区分 `I`): a suspicion ruled out, a treatment stopped.
    Stopped,
}

/// One diagnosis on a facility's problem list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub disease: Disease,
    /// PRB-4: the problem's identifier at the facility, the same in every snapshot.
    pub id: String,
    /// PRB-7 and PRB-16: the day the facility recorded it (JAHIS 開始日).
    pub recorded: Date,
    pub ended: Option<(Date, Outcome)>,
    pub suspected: bool,
    pub main: bool,
    pub inpatient: bool,
}

impl Problem {
    /// The name as the problem list shows it (「…の疑い」 for a suspicion).
    pub(crate) fn text(&self) -> String {
        if self.suspected {
            format!("{}の疑い", self.disease.name)
        } else {
            self.disease.name.to_owned()
        }
    }
}

/// PPR-01 (PPR^ZD1): the facility's problem list as of `at`, one PRB + ZPR per diagnosis
/// (ZPR-2 the 病名管理番号 or the uncoded placeholder, ZPR-3 「の疑い」, ZPR-5 the 病名交換用コード).
pub(crate) fn ppr01(
    cx: &Cx<'_>,
    n: &mut Numbers,
    at: PrimitiveDateTime,
    problems: &[&Problem],
    previous: Option<Date>,
    dept: Dept,
) -> Ssmix2File {
    let order = n.next(at.date());
    let mut segs = vec![pid(cx.patient_id, cx.person, false)];
    for p in problems {
        let d = p.disease;
        let key = d.medis.unwrap_or(DISEASE_UNCODED);
        let name = esc(d.name);
        // New since the last snapshot: AD; carried over: UP.
        let action = match previous {
            Some(prev) if p.recorded <= prev => "UP",
            _ => "AD",
        };
        let setting = if p.inpatient {
            "I^入院時"
        } else {
            "O^外来時"
        };
        let mut prb = Seg::new("PRB")
            .f(1, action)
            .f(2, ymd(at.date()))
            .f(3, format!("{key}^{name}^MDCDX2"))
            .f(4, esc(&p.id))
            .f(7, ymd(p.recorded))
            .f(10, format!("{}^{name}^I10^{setting}^JHSD0004", d.icd10))
            .f(16, ymd(p.recorded))
            .f(17, esc(&p.text()));
        if let Some((on, outcome)) = p.ended {
            prb = prb.f(9, ymd(on)).f(15, ymd(on)).f(
                14,
                match outcome {
                    Outcome::Cured => "F^治癒^HL70241",
                    Outcome::Stopped => "I^中止^JHSD0006",
                },
            );
        }
        if p.main {
            prb = prb.f(18, "1^主診断^JHSD0007");
        }
        segs.push(prb);
        let mut zpr = Seg::new("ZPR").f(2, format!("{key}^{name}^MDCDX2"));
        if p.suspected {
            zpr = zpr.f(3, "^の疑い");
        }
        if let Some(ex) = d.exchange {
            zpr = zpr.f(5, format!("{ex}^{name}^MDCDX2"));
        }
        segs.push(zpr);
    }
    segs.push(orc(cx, "NW", &order, None, at, dept, false));
    let text = message(msh(cx.facility_code, at, "PPR^ZD1^PPR_ZD1", &order), &segs);
    file(cx, None, "PPR-01", &order, at, Some(dept.code), &text)
}

/// A prescription category (RXE-21, MERIT-9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RxCategory {
    /// A clinic's 院外処方.
    Outside,
    /// A hospital's outpatient prescription, dispensed outside.
    HospitalOutpatient,
    /// 退院処方.
    Discharge,
}

impl RxCategory {
    fn rxe21(self) -> &'static str {
        match self {
            Self::Outside => "OHO^院外処方^MR9P",
            Self::HospitalOutpatient => "OHP^外来処方^MR9P~OHO^院外処方^MR9P",
            Self::Discharge => "DCG^退院処方^MR9P",
        }
    }
}

/// RXE-2: the national codes when known (HOT9 with the YJ code as the alternate, or YJ with
/// the local code), otherwise the facility's own code.
fn drug_code(d: &Drug) -> String {
    let name = esc(d.name);
    match (d.hot9, d.yj) {
        (Some(hot), Some(yj)) => format!("{hot}^{name}^HOT9^{yj}^{name}^YJ"),
        (Some(hot), None) => format!("{hot}^{name}^HOT9^{}^{name}^{LOCAL_DRUG_TABLE}", d.local),
        (None, Some(yj)) => format!("{yj}^{name}^YJ^{}^{name}^{LOCAL_DRUG_TABLE}", d.local),
        (None, None) => format!("{}^{name}^{LOCAL_DRUG_TABLE}", d.local),
    }
}

/// OMP-01 (RDE^O11): one prescription, one Rp (ORC + RXE + TQ1 + RXR) per medicine with its own
/// number of days.
pub(crate) fn omp01(
    cx: &Cx<'_>,
    n: &mut Numbers,
    at: PrimitiveDateTime,
    rps: &[(Drug, u32)],
    dept: Dept,
    category: RxCategory,
    ward: Option<&Ward>,
) -> Ssmix2File {
    let order = n.next(at.date());
    let inpatient = ward.is_some();
    let mut segs = vec![pid(cx.patient_id, cx.person, false), pv1(cx, dept, ward)];
    for (i, (d, days)) in rps.iter().enumerate() {
        let (unit, unit_name) = d.unit;
        let daily = d.per_dose * d.usage.times_per_day;
        segs.push(orc(cx, "NW", &order, Some(i + 1), at, dept, inpatient));
        segs.push(
            Seg::new("RXE")
                .f(2, drug_code(d))
                .f(3, d.per_dose.to_string())
                .f(5, format!("{unit}^{unit_name}^MR9P"))
                .f(10, (daily * days).to_string())
                .f(11, format!("{unit}^{unit_name}^MR9P"))
                .f(15, order.as_str())
                .f(19, format!("{daily}^{unit}&{unit_name}&MR9P"))
                .f(21, category.rxe21()),
        );
        segs.push(
            Seg::new("TQ1")
                .f(1, "1")
                .f(3, format!("{}&{}&JAMISDP01", d.usage.code, d.usage.text))
                .f(6, format!("{days}^d"))
                .f(7, ts12(at)),
        );
        segs.push(Seg::new("RXR").f(1, "PO^口^HL70162"));
    }
    let text = message(msh(cx.facility_code, at, "RDE^O11^RDE_O11", &order), &segs);
    file(
        cx,
        Some(at.date()),
        "OMP-01",
        &order,
        at,
        Some(dept.code),
        &text,
    )
}

/// `value` with the test's number of decimals.
pub(crate) fn format_value(value: f64, decimals: usize) -> String {
    format!("{value:.decimals$}")
}

/// OBX-7 as laboratory systems print it: `low-high`, `<=high` or `>=low`.
pub(crate) fn range_text(lab: Lab, sex: Sex) -> Option<String> {
    let t = lab.test();
    let (lo, hi) = if sex == Sex::Female {
        t.range.female
    } else {
        t.range.male
    };
    let f = |v: f64| format_value(v, t.decimals);
    match (lo, hi) {
        (Some(l), Some(h)) => Some(format!("{}-{}", f(l), f(h))),
        (None, Some(h)) => Some(format!("<={}", f(h))),
        (Some(l), None) => Some(format!(">={}", f(l))),
        (None, None) => None,
    }
}

/// OBX-8: `H` above, `L` below the reference range (compared as printed).
pub(crate) fn flag(lab: Lab, sex: Sex, value: f64) -> Option<&'static str> {
    let t = lab.test();
    let (lo, hi) = if sex == Sex::Female {
        t.range.female
    } else {
        t.range.male
    };
    let shown: f64 = format_value(value, t.decimals).parse().unwrap_or(value);
    if hi.is_some_and(|h| shown > h) {
        Some("H")
    } else if lo.is_some_and(|l| shown < l) {
        Some("L")
    } else {
        None
    }
}

/// A hospital bed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ward {
    pub ward: String,
    pub room: String,
    pub bed: String,
}

/// OML-11 (OUL^R22): the results of one blood draw, one SPM + OBR + ORC group per specimen
/// (serum, plasma, whole blood) with an OBX per test: JLAC10 code, value, UCUM unit, reference
/// range, H/L flag and the collection time.
pub(crate) fn oml11(
    cx: &Cx<'_>,
    n: &mut Numbers,
    collected: PrimitiveDateTime,
    reported: PrimitiveDateTime,
    results: &[(Lab, f64)],
    dept: Dept,
    ward: Option<&Ward>,
) -> Ssmix2File {
    let order = n.next(collected.date());
    let inpatient = ward.is_some();
    let mut segs = vec![pid(cx.patient_id, cx.person, false), pv1(cx, dept, ward)];
    let mut specimens: Vec<Specimen> = results.iter().map(|(l, _)| l.test().specimen).collect();
    specimens.sort();
    specimens.dedup();
    for (j, spec) in specimens.iter().enumerate() {
        let (mat, mat_name) = spec.material();
        let (panel, panel_name) = spec.panel();
        let filler = format!("{order}{}", j + 1);
        segs.push(
            Seg::new("SPM")
                .f(1, (j + 1).to_string())
                .f(2, filler.as_str())
                .f(4, format!("{mat}^{mat_name}^JC10"))
                .f(17, ts12(collected)),
        );
        segs.push(
            Seg::new("OBR")
                .f(1, (j + 1).to_string())
                .f(2, order.as_str())
                .f(3, filler.as_str())
                .f(4, format!("{panel}^{panel_name}^99O03"))
                .f(7, ts12(collected))
                .f(16, xcn(cx.doctor))
                .f(22, ts14(reported)),
        );
        segs.push(
            orc(cx, "SC", &order, None, reported, dept, inpatient)
                .f(3, filler.as_str())
                .f(5, "CM"),
        );
        for (k, (lab, value)) in results
            .iter()
            .filter(|(l, _)| l.test().specimen == *spec)
            .enumerate()
        {
            let t = lab.test();
            let mut obx = Seg::new("OBX")
                .f(1, (k + 1).to_string())
                .f(2, "NM")
                .f(3, format!("{}^{}^JC10", t.jlac10, esc(t.name)))
                .f(5, format_value(*value, t.decimals))
                .f(6, format!("{u}^{u}^UCUM", u = esc(t.unit)))
                .f(11, "F")
                .f(14, ts12(collected));
            if let Some(r) = range_text(*lab, cx.person.sex) {
                obx = obx.f(7, esc(&r));
            }
            if let Some(f) = flag(*lab, cx.person.sex, *value) {
                obx = obx.f(8, f);
            }
            segs.push(obx);
        }
    }
    let text = message(
        msh(cx.facility_code, reported, "OUL^R22^OUL_R22", &order),
        &segs,
    );
    file(
        cx,
        Some(collected.date()),
        "OML-11",
        &order,
        reported,
        Some(dept.code),
        &text,
    )
}

/// PV1 of a hospital stay: ward, attending and admitting doctor, department, visit number
/// (PV1-19, shared by the admission and the discharge) and admission time (PV1-44).
fn stay_pv1(cx: &Cx<'_>, ward: &Ward, dept: Dept, visit: &str, admitted: PrimitiveDateTime) -> Seg {
    pv1(cx, dept, Some(ward))
        .f(17, xcn(cx.doctor))
        .f(19, esc(visit))
        .f(44, ts12(admitted))
}

/// ADT-22 (ADT^A01): admission.
pub(crate) fn adt22(
    cx: &Cx<'_>,
    n: &mut Numbers,
    admitted: PrimitiveDateTime,
    ward: &Ward,
    dept: Dept,
    visit: &str,
) -> Ssmix2File {
    let order = n.next(admitted.date());
    let text = message(
        msh(cx.facility_code, admitted, "ADT^A01^ADT_A01", &order),
        &[
            Seg::new("EVN").f(2, ts12(admitted)).f(6, ts12(admitted)),
            pid(cx.patient_id, cx.person, false),
            stay_pv1(cx, ward, dept, visit, admitted),
        ],
    );
    file(
        cx,
        Some(admitted.date()),
        "ADT-22",
        &order,
        admitted,
        Some(dept.code),
        &text,
    )
}

/// ADT-52 (ADT^A03): discharge home (PV1-36 `01`), with the discharge time (PV1-45).
pub(crate) fn adt52(
    cx: &Cx<'_>,
    n: &mut Numbers,
    admitted: PrimitiveDateTime,
    discharged: PrimitiveDateTime,
    ward: &Ward,
    dept: Dept,
    visit: &str,
) -> Ssmix2File {
    let order = n.next(discharged.date());
    let text = message(
        msh(cx.facility_code, discharged, "ADT^A03^ADT_A03", &order),
        &[
            Seg::new("EVN")
                .f(2, ts12(discharged))
                .f(6, ts12(discharged)),
            pid(cx.patient_id, cx.person, false),
            stay_pv1(cx, ward, dept, visit, admitted)
                .f(36, "01")
                .f(45, ts12(discharged)),
        ],
    );
    file(
        cx,
        Some(discharged.date()),
        "ADT-52",
        &order,
        discharged,
        Some(dept.code),
        &text,
    )
}
