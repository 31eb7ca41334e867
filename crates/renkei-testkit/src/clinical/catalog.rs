//! What the synthetic histories are made of: diagnoses, medicines, lab tests and allergens.
//!
//! Codes are real only where they could be checked against a published source in this
//! repository's test data or the JP-CLINS code tables `renkei-fhir` ships:
//! - MEDIS 病名管理番号 only for the diagnoses that appear with one in the JAHIS sample storage or
//!   the JP-CLINS examples (胃炎, 狭心症, 十二指腸潰瘍, 上腹部痛); every other diagnosis is sent with
//!   the uncoded placeholder `99999999` and its name, as JP-CLINS allows ("病名のコード化ができない
//!   場合には…全桁9"). ICD-10 codes are the WHO codes, written without the dot as JAHIS does.
//! - HOT9/YJ codes only for the medicines of those examples (アムロジピンＯＤ錠１０ｍｇ,
//!   カルボシステイン錠, カロナール錠, デエビゴ錠, ミヤＢＭ錠); the others carry a facility-local
//!   code (`99DRG`, a JAHIS local table name), which the mapper keeps under its local prefix
//!   and JP-CLINS documents send with the `NOCODED` marker.
//! - JLAC10 codes are taken from the CLINS 指定検査43項目 table (plus eGFR from the CLINS
//!   examples, which is deliberately *not* in that set), with the JCCLS 共用基準範囲 as reference
//!   ranges.
//! - JAMI 用法 codes are the ones used in the sample storage and the CLINS examples.

/// A diagnosis as a facility's problem list records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Disease {
    pub name: &'static str,
    /// MEDIS 病名管理番号, when known for certain; otherwise the uncoded placeholder is sent.
    pub medis: Option<&'static str>,
    /// MEDIS 病名交換用コード, when known for certain.
    pub exchange: Option<&'static str>,
    /// ICD-10 without the dot (JAHIS writes `K297`).
    pub icd10: &'static str,
    /// SS-MIX2 診療科 (user table 0069) that usually records it.
    pub dept: Dept,
}

/// The uncoded 病名管理番号 (JP-CLINS: all nines, as many digits as a real number).
pub(crate) const DISEASE_UNCODED: &str = "99999999";

/// An SS-MIX2 診療科 code and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dept {
    pub code: &'static str,
    pub name: &'static str,
}

pub(crate) const INTERNAL: Dept = Dept {
    code: "01",
    name: "内科",
};
pub(crate) const CARDIO: Dept = Dept {
    code: "08",
    name: "循環器科",
};
pub(crate) const ORTHO: Dept = Dept {
    code: "11",
    name: "整形外科",
};
pub(crate) const GASTRO: Dept = Dept {
    code: "06",
    name: "消化器科",
};
pub(crate) const NEURO: Dept = Dept {
    code: "04",
    name: "神経内科",
};

pub(crate) const PAEDS: Dept = Dept {
    code: "09",
    name: "小児科",
};
pub(crate) const DERM: Dept = Dept {
    code: "19",
    name: "皮膚科",
};
pub(crate) const URO: Dept = Dept {
    code: "20",
    name: "ひ尿器科",
};
pub(crate) const GYN: Dept = Dept {
    code: "25",
    name: "婦人科",
};
pub(crate) const EYE: Dept = Dept {
    code: "26",
    name: "眼科",
};
pub(crate) const ENT: Dept = Dept {
    code: "27",
    name: "耳鼻いんこう科",
};
pub(crate) const PSYCH: Dept = Dept {
    code: "02",
    name: "精神科",
};
pub(crate) const NEUROSURG: Dept = Dept {
    code: "14",
    name: "脳神経外科",
};

const fn dx(name: &'static str, icd10: &'static str, dept: Dept) -> Disease {
    Disease {
        name,
        medis: None,
        exchange: None,
        icd10,
        dept,
    }
}

/// Diagnoses, by identifier. The chronic ones drive regular visits, prescriptions and labs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Dx {
    Hypertension,
    Diabetes,
    Dyslipidaemia,
    HeartFailure,
    Osteoporosis,
    Ckd,
    Dementia,
    Gerd,
    Constipation,
    KneeOa,
    AtrialFibrillation,
    Hyperuricaemia,
    Insomnia,
    Angina,
    Gastritis,
    DuodenalUlcer,
    Uri,
    Pneumonia,
    Uti,
    CerebralInfarction,
    UpperAbdominalPain,
    Cataract,
    AllergicRhinitis,
    Eczema,
    HerpesZoster,
    Asthma,
    Depression,
    Bph,
    Menopause,
    Headache,
    LowBackPain,
}

impl Dx {
    pub(crate) fn disease(self) -> Disease {
        match self {
            Self::Hypertension => dx("本態性高血圧症", "I10", INTERNAL),
            Self::Diabetes => dx("２型糖尿病", "E119", INTERNAL),
            Self::Dyslipidaemia => dx("脂質異常症", "E785", INTERNAL),
            Self::HeartFailure => dx("慢性心不全", "I509", CARDIO),
            Self::Osteoporosis => dx("骨粗鬆症", "M819", ORTHO),
            Self::Ckd => dx("慢性腎臓病", "N189", INTERNAL),
            Self::Dementia => dx("認知症", "F03", NEURO),
            Self::Gerd => dx("逆流性食道炎", "K210", GASTRO),
            Self::Constipation => dx("便秘症", "K590", INTERNAL),
            Self::KneeOa => dx("変形性膝関節症", "M179", ORTHO),
            Self::AtrialFibrillation => dx("心房細動", "I489", CARDIO),
            Self::Hyperuricaemia => dx("高尿酸血症", "E790", INTERNAL),
            Self::Insomnia => dx("不眠症", "G470", INTERNAL),
            // Codes from the JP-CLINS examples (Condition-Example-JP-Condition-eCS-ANGINA).
            Self::Angina => Disease {
                medis: Some("20058911"),
                ..dx("狭心症", "I209", CARDIO)
            },
            // Codes from the JAHIS sample PPR-01 (20054174, TSQF, K297).
            Self::Gastritis => Disease {
                medis: Some("20054174"),
                exchange: Some("TSQF"),
                ..dx("胃炎", "K297", GASTRO)
            },
            // From the JP-CLINS examples.
            Self::DuodenalUlcer => Disease {
                medis: Some("20064049"),
                ..dx("十二指腸潰瘍", "K269", GASTRO)
            },
            Self::Uri => dx("急性上気道炎", "J069", INTERNAL),
            Self::Pneumonia => dx("肺炎", "J189", INTERNAL),
            Self::Uti => dx("尿路感染症", "N390", INTERNAL),
            Self::CerebralInfarction => dx("脳梗塞", "I639", NEURO),
            // From the JP-CLINS referral example.
            Self::UpperAbdominalPain => Disease {
                medis: Some("20065011"),
                ..dx("上腹部痛", "R101", GASTRO)
            },
            Self::Cataract => dx("白内障", "H259", EYE),
            Self::AllergicRhinitis => dx("アレルギー性鼻炎", "J304", ENT),
            Self::Eczema => dx("湿疹", "L309", DERM),
            Self::HerpesZoster => dx("帯状疱疹", "B029", DERM),
            Self::Asthma => dx("気管支喘息", "J459", PAEDS),
            Self::Depression => dx("うつ病", "F329", PSYCH),
            Self::Bph => dx("前立腺肥大症", "N40", URO),
            Self::Menopause => dx("更年期障害", "N951", GYN),
            Self::Headache => dx("頭痛", "R51", NEUROSURG),
            Self::LowBackPain => dx("腰痛症", "M545", ORTHO),
        }
    }

    /// The medicines usually prescribed for it. (Hypertension has alternatives, chosen per
    /// patient by the history generator.)
    pub(crate) fn drugs(self) -> &'static [Rx] {
        match self {
            Self::Hypertension => &[Rx::Amlodipine10],
            Self::Diabetes => &[Rx::Metformin250],
            Self::Dyslipidaemia => &[Rx::Atorvastatin10],
            Self::HeartFailure => &[Rx::Furosemide20],
            Self::Osteoporosis => &[Rx::Eldecalcitol],
            Self::Ckd => &[],
            Self::Dementia => &[Rx::Donepezil5],
            Self::Gerd => &[Rx::Lansoprazole15],
            Self::Constipation => &[Rx::MagnesiumOxide330],
            Self::KneeOa => &[Rx::Loxoprofen60, Rx::Rebamipide100],
            Self::AtrialFibrillation => &[Rx::Apixaban5],
            Self::Hyperuricaemia => &[Rx::Febuxostat20],
            Self::Insomnia => &[Rx::Lemborexant25],
            // The same amlodipine a clinic may already give for hypertension: the duplicate
            // ingredient the medication check should notice.
            Self::Angina => &[Rx::Amlodipine10],
            Self::Gastritis => &[Rx::Rebamipide100],
            Self::DuodenalUlcer => &[Rx::Lansoprazole15],
            Self::Uri => &[Rx::Carbocisteine250, Rx::Calonal300],
            Self::Pneumonia => &[Rx::MiyaBm],
            Self::Uti => &[],
            Self::CerebralInfarction => &[Rx::Clopidogrel75],
            Self::UpperAbdominalPain => &[Rx::Rebamipide100],
            Self::Cataract | Self::Eczema | Self::Asthma | Self::Depression | Self::Menopause => {
                &[]
            }
            Self::AllergicRhinitis => &[Rx::Fexofenadine60],
            Self::HerpesZoster => &[Rx::Valaciclovir500],
            Self::Bph => &[Rx::Tamsulosin02],
            Self::Headache => &[Rx::Calonal300],
            Self::LowBackPain => &[Rx::Loxoprofen60, Rx::Rebamipide100],
        }
    }

    /// Whether it ends by itself (the problem list closes it with an outcome).
    pub(crate) fn acute(self) -> bool {
        matches!(
            self,
            Self::Uri
                | Self::Pneumonia
                | Self::Uti
                | Self::Gastritis
                | Self::UpperAbdominalPain
                | Self::HerpesZoster
                | Self::Headache
                | Self::LowBackPain
        )
    }
}

/// How a medicine is taken: JAMI 用法 code and its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Usage {
    pub code: &'static str,
    pub text: &'static str,
    pub times_per_day: u32,
}

pub(crate) const MORNING: Usage = Usage {
    code: "1011000400000000",
    text: "内服・経口・１日１回朝食後",
    times_per_day: 1,
};
pub(crate) const EVENING: Usage = Usage {
    code: "1011040000000000",
    text: "内服・経口・１日１回夕食後",
    times_per_day: 1,
};
pub(crate) const BEDTIME: Usage = Usage {
    code: "1011100000000000",
    text: "内服・経口・１日１回就寝前",
    times_per_day: 1,
};
pub(crate) const TWICE: Usage = Usage {
    code: "1012040400000000",
    text: "内服・経口・１日２回朝夕食後",
    times_per_day: 2,
};
pub(crate) const THRICE: Usage = Usage {
    code: "1013044400000000",
    text: "内服・経口・１日３回朝昼夕食後",
    times_per_day: 3,
};

/// A medicine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Drug {
    pub name: &'static str,
    /// 一般名 (ingredient), for the letters' text and the duplicate check.
    pub ingredient: &'static str,
    pub hot9: Option<&'static str>,
    pub yj: Option<&'static str>,
    /// The facility-local code (table `99DRG`), always present: EMRs keep their own code.
    pub local: &'static str,
    /// MERIT-9 unit code and name (`TAB` 錠, `CAP` カプセル).
    pub unit: (&'static str, &'static str),
    /// Units per dose.
    pub per_dose: u32,
    pub usage: Usage,
}

/// Local drug table name (JAHIS `99xxx` user-defined tables).
pub(crate) const LOCAL_DRUG_TABLE: &str = "99DRG";

const TAB: (&str, &str) = ("TAB", "錠");
const CAP: (&str, &str) = ("CAP", "カプセル");

/// Medicines, by identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Rx {
    Amlodipine10,
    Olmesartan20,
    Metformin250,
    Atorvastatin10,
    Lansoprazole15,
    MagnesiumOxide330,
    Loxoprofen60,
    Rebamipide100,
    Furosemide20,
    Eldecalcitol,
    Donepezil5,
    Febuxostat20,
    Lemborexant25,
    Apixaban5,
    Carbocisteine250,
    Calonal300,
    MiyaBm,
    Fexofenadine60,
    Valaciclovir500,
    Tamsulosin02,
    Clopidogrel75,
}

const fn local(
    name: &'static str,
    ingredient: &'static str,
    code: &'static str,
    unit: (&'static str, &'static str),
    per_dose: u32,
    usage: Usage,
) -> Drug {
    Drug {
        name,
        ingredient,
        hot9: None,
        yj: None,
        local: code,
        unit,
        per_dose,
        usage,
    }
}

impl Rx {
    pub(crate) fn drug(self) -> Drug {
        match self {
            // HOT9 121431401 and YJ 2171022F6276: the JP-CLINS MedicationRequest examples.
            Self::Amlodipine10 => Drug {
                hot9: Some("121431401"),
                yj: Some("2171022F6276"),
                ..local(
                    "アムロジピンＯＤ錠１０ｍｇ",
                    "アムロジピンベシル酸塩",
                    "D0101",
                    TAB,
                    1,
                    MORNING,
                )
            },
            Self::Olmesartan20 => local(
                "オルメサルタン錠２０ｍｇ",
                "オルメサルタンメドキソミル",
                "D0102",
                TAB,
                1,
                MORNING,
            ),
            Self::Metformin250 => local(
                "メトホルミン塩酸塩錠２５０ｍｇ",
                "メトホルミン塩酸塩",
                "D0201",
                TAB,
                1,
                TWICE,
            ),
            Self::Atorvastatin10 => local(
                "アトルバスタチン錠１０ｍｇ",
                "アトルバスタチンカルシウム水和物",
                "D0301",
                TAB,
                1,
                EVENING,
            ),
            Self::Lansoprazole15 => local(
                "ランソプラゾールＯＤ錠１５ｍｇ",
                "ランソプラゾール",
                "D0401",
                TAB,
                1,
                MORNING,
            ),
            Self::MagnesiumOxide330 => local(
                "酸化マグネシウム錠３３０ｍｇ",
                "酸化マグネシウム",
                "D0402",
                TAB,
                1,
                THRICE,
            ),
            Self::Loxoprofen60 => local(
                "ロキソプロフェンナトリウム錠６０ｍｇ",
                "ロキソプロフェンナトリウム水和物",
                "D0501",
                TAB,
                1,
                THRICE,
            ),
            Self::Rebamipide100 => local(
                "レバミピド錠１００ｍｇ",
                "レバミピド",
                "D0403",
                TAB,
                1,
                THRICE,
            ),
            Self::Furosemide20 => local(
                "フロセミド錠２０ｍｇ",
                "フロセミド",
                "D0601",
                TAB,
                1,
                MORNING,
            ),
            Self::Eldecalcitol => local(
                "エルデカルシトールカプセル０．７５μｇ",
                "エルデカルシトール",
                "D0701",
                CAP,
                1,
                MORNING,
            ),
            Self::Donepezil5 => local(
                "ドネペジル塩酸塩ＯＤ錠５ｍｇ",
                "ドネペジル塩酸塩",
                "D0801",
                TAB,
                1,
                MORNING,
            ),
            Self::Febuxostat20 => local(
                "フェブキソスタット錠２０ｍｇ",
                "フェブキソスタット",
                "D0302",
                TAB,
                1,
                MORNING,
            ),
            // YJ 1190027F1022: the JP-CLINS examples.
            Self::Lemborexant25 => Drug {
                yj: Some("1190027F1022"),
                ..local(
                    "デエビゴ錠２．５ｍｇ",
                    "レンボレキサント",
                    "D0802",
                    TAB,
                    1,
                    BEDTIME,
                )
            },
            Self::Apixaban5 => local(
                "アピキサバン錠５ｍｇ",
                "アピキサバン",
                "D0602",
                TAB,
                1,
                TWICE,
            ),
            // HOT9 103831601 and YJ 2233002F1280: the JP-CLINS examples.
            Self::Carbocisteine250 => Drug {
                hot9: Some("103831601"),
                yj: Some("2233002F1280"),
                ..local(
                    "カルボシステイン錠２５０ｍｇ「サワイ」",
                    "Ｌ－カルボシステイン",
                    "D0901",
                    TAB,
                    2,
                    THRICE,
                )
            },
            // YJ 1141007F1063: the JP-CLINS examples.
            Self::Calonal300 => Drug {
                yj: Some("1141007F1063"),
                ..local(
                    "カロナール錠３００",
                    "アセトアミノフェン",
                    "D0902",
                    TAB,
                    1,
                    THRICE,
                )
            },
            // HOT9 104195801 and YJ 2316009F1022: the JP-CLINS examples.
            Self::MiyaBm => Drug {
                hot9: Some("104195801"),
                yj: Some("2316009F1022"),
                ..local("ミヤＢＭ錠", "酪酸菌（宮入菌）", "D0903", TAB, 1, THRICE)
            },
            Self::Fexofenadine60 => local(
                "フェキソフェナジン塩酸塩錠６０ｍｇ",
                "フェキソフェナジン塩酸塩",
                "D1001",
                TAB,
                1,
                TWICE,
            ),
            Self::Valaciclovir500 => local(
                "バラシクロビル錠５００ｍｇ",
                "バラシクロビル塩酸塩",
                "D1101",
                TAB,
                2,
                THRICE,
            ),
            Self::Clopidogrel75 => local(
                "クロピドグレル錠７５ｍｇ",
                "クロピドグレル硫酸塩",
                "D0603",
                TAB,
                1,
                MORNING,
            ),
            Self::Tamsulosin02 => local(
                "タムスロシン塩酸塩ＯＤ錠０．２ｍｇ",
                "タムスロシン塩酸塩",
                "D1201",
                TAB,
                1,
                MORNING,
            ),
        }
    }
}

/// Where a lab value is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Specimen {
    /// 023 血清
    Serum,
    /// 022 血漿
    Plasma,
    /// 019 全血
    WholeBlood,
}

impl Specimen {
    /// JLAC10 material code and name.
    pub(crate) fn material(self) -> (&'static str, &'static str) {
        match self {
            Self::Serum => ("023", "血清"),
            Self::Plasma => ("022", "血漿"),
            Self::WholeBlood => ("019", "全血"),
        }
    }

    /// The order group (OBR-4, local table) results of this specimen are reported under.
    pub(crate) fn panel(self) -> (&'static str, &'static str) {
        match self {
            Self::Serum => ("E002", "生化学的検査"),
            Self::Plasma => ("E003", "血漿検査"),
            Self::WholeBlood => ("E001", "血液学的検査"),
        }
    }
}

/// A reference range: low and high (either may be open), for men and women.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Range {
    pub male: (Option<f64>, Option<f64>),
    pub female: (Option<f64>, Option<f64>),
}

const fn both(lo: f64, hi: f64) -> Range {
    Range {
        male: (Some(lo), Some(hi)),
        female: (Some(lo), Some(hi)),
    }
}

const fn by_sex(male: (f64, f64), female: (f64, f64)) -> Range {
    Range {
        male: (Some(male.0), Some(male.1)),
        female: (Some(female.0), Some(female.1)),
    }
}

/// A lab test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LabTest {
    pub name: &'static str,
    /// JLAC10 17-digit code.
    pub jlac10: &'static str,
    /// Whether the code is in the JP-CLINS 指定検査43項目 set (eGFR is not).
    pub clins_core: bool,
    /// The laboratory system's own item code (JP-CLINS requires it in documents).
    pub local: &'static str,
    /// UCUM unit.
    pub unit: &'static str,
    pub decimals: usize,
    pub range: Range,
    pub specimen: Specimen,
}

/// Lab tests, by identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Lab {
    HbA1c,
    Glucose,
    Creatinine,
    Egfr,
    Ast,
    Alt,
    Ldl,
    Hdl,
    Tg,
    Hb,
    Wbc,
    Plt,
    K,
    Na,
    Crp,
    Bnp,
    UricAcid,
}

impl Lab {
    pub(crate) fn test(self) -> LabTest {
        use Specimen::{Plasma, Serum, WholeBlood};
        let t = |name, jlac10, local, unit, decimals, range, specimen| LabTest {
            name,
            jlac10,
            clins_core: true,
            local,
            unit,
            decimals,
            range,
            specimen,
        };
        match self {
            Self::HbA1c => t(
                "HbA1c(NGSP)",
                "3D046000001906202",
                "L1001",
                "%",
                1,
                both(4.9, 6.0),
                WholeBlood,
            ),
            Self::Glucose => t(
                "血糖",
                "3D010000002227101",
                "L1002",
                "mg/dL",
                0,
                both(73.0, 109.0),
                Plasma,
            ),
            Self::Creatinine => t(
                "クレアチニン",
                "3C015000002327101",
                "L1003",
                "mg/dL",
                2,
                by_sex((0.65, 1.07), (0.46, 0.79)),
                Serum,
            ),
            // JLAC10 code from the JP-CLINS examples; not one of the 43 items.
            Self::Egfr => LabTest {
                clins_core: false,
                ..t(
                    "eGFR",
                    "8A065000002391901",
                    "L1004",
                    "mL/min/{1.73_m2}",
                    1,
                    Range {
                        male: (Some(60.0), None),
                        female: (Some(60.0), None),
                    },
                    Serum,
                )
            },
            Self::Ast => t(
                "AST",
                "3B035000002327201",
                "L1005",
                "U/L",
                0,
                both(13.0, 30.0),
                Serum,
            ),
            Self::Alt => t(
                "ALT",
                "3B045000002327201",
                "L1006",
                "U/L",
                0,
                by_sex((10.0, 42.0), (7.0, 23.0)),
                Serum,
            ),
            Self::Ldl => t(
                "LDL-コレステロール",
                "3F077000002327101",
                "L1007",
                "mg/dL",
                0,
                both(65.0, 163.0),
                Serum,
            ),
            Self::Hdl => t(
                "HDL-コレステロール",
                "3F070000002327101",
                "L1008",
                "mg/dL",
                0,
                by_sex((38.0, 90.0), (48.0, 103.0)),
                Serum,
            ),
            Self::Tg => t(
                "中性脂肪",
                "3F015000002327101",
                "L1009",
                "mg/dL",
                0,
                by_sex((40.0, 234.0), (30.0, 117.0)),
                Serum,
            ),
            Self::Hb => t(
                "ヘモグロビン",
                "2A030000001930901",
                "L2001",
                "g/dL",
                1,
                by_sex((13.7, 16.8), (11.6, 14.8)),
                WholeBlood,
            ),
            Self::Wbc => t(
                "白血球数",
                "2A990000001930952",
                "L2002",
                "10*3/uL",
                1,
                both(3.3, 8.6),
                WholeBlood,
            ),
            Self::Plt => t(
                "血小板数",
                "2A050000001930901",
                "L2003",
                "10*3/uL",
                0,
                both(158.0, 348.0),
                WholeBlood,
            ),
            Self::K => t(
                "カリウム",
                "3H015000002327201",
                "L1010",
                "mmol/L",
                1,
                both(3.6, 4.8),
                Serum,
            ),
            Self::Na => t(
                "ナトリウム",
                "3H010000002327101",
                "L1011",
                "mmol/L",
                0,
                both(138.0, 145.0),
                Serum,
            ),
            Self::Crp => t(
                "ＣＲＰ",
                "5C070000002306201",
                "L1012",
                "mg/dL",
                2,
                both(0.0, 0.14),
                Serum,
            ),
            Self::Bnp => t(
                "ＢＮＰ",
                "4Z271000002205101",
                "L3001",
                "pg/mL",
                1,
                Range {
                    male: (None, Some(18.4)),
                    female: (None, Some(18.4)),
                },
                Plasma,
            ),
            Self::UricAcid => t(
                "尿酸",
                "3C020000002327101",
                "L1013",
                "mg/dL",
                1,
                by_sex((3.7, 7.8), (2.6, 5.5)),
                Serum,
            ),
        }
    }
}

/// Allergen type (HL7 table 0127).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AllergyType {
    Drug,
    Food,
    Pollen,
}

impl AllergyType {
    pub(crate) fn hl7(self) -> (&'static str, &'static str) {
        match self {
            Self::Drug => ("DA", "薬剤アレルギー"),
            Self::Food => ("FA", "食物アレルギー"),
            Self::Pollen => ("LA", "花粉アレルギー"),
        }
    }

    pub(crate) fn fhir(self) -> &'static str {
        match self {
            Self::Drug => "medication",
            Self::Food => "food",
            Self::Pollen => "environment",
        }
    }
}

/// An allergen as a facility records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Allergen {
    pub name: &'static str,
    pub kind: AllergyType,
    /// (code, coding-system name): JLAC10 allergen codes from the JAHIS sample ADT-61, else the
    /// facility's own table `99ALG`.
    pub code: (&'static str, &'static str),
    /// Typical reactions (one is picked).
    pub reactions: &'static [&'static str],
    /// Medicines a prescriber avoids for this patient.
    pub avoid: &'static [Rx],
    /// Relative frequency.
    pub weight: u32,
}

pub(crate) const ALLERGENS: [Allergen; 8] = [
    Allergen {
        name: "ペニシリン系抗菌薬",
        kind: AllergyType::Drug,
        code: ("A0001", "99ALG"),
        reactions: &["薬疹", "蕁麻疹", "呼吸困難"],
        avoid: &[],
        weight: 20,
    },
    Allergen {
        name: "セフェム系抗菌薬",
        kind: AllergyType::Drug,
        code: ("A0002", "99ALG"),
        reactions: &["薬疹", "発熱"],
        avoid: &[],
        weight: 8,
    },
    Allergen {
        name: "ヨード造影剤",
        kind: AllergyType::Drug,
        code: ("A0003", "99ALG"),
        reactions: &["蕁麻疹", "嘔気", "血圧低下"],
        avoid: &[],
        weight: 12,
    },
    Allergen {
        name: "ロキソプロフェンナトリウム",
        kind: AllergyType::Drug,
        code: ("A0004", "99ALG"),
        reactions: &["喘息発作", "蕁麻疹"],
        avoid: &[Rx::Loxoprofen60],
        weight: 8,
    },
    Allergen {
        name: "卵",
        kind: AllergyType::Food,
        code: ("A1001", "99ALG"),
        reactions: &["蕁麻疹", "嘔吐"],
        avoid: &[],
        weight: 10,
    },
    // JLAC10 code as in the JAHIS sample ADT-61.
    Allergen {
        name: "ソバ",
        kind: AllergyType::Food,
        code: ("5A1002411023006", "JC10"),
        reactions: &["湿疹", "呼吸困難", "口腔内のかゆみ"],
        avoid: &[],
        weight: 8,
    },
    Allergen {
        name: "えび",
        kind: AllergyType::Food,
        code: ("A1002", "99ALG"),
        reactions: &["蕁麻疹", "口腔内のかゆみ"],
        avoid: &[],
        weight: 6,
    },
    // JLAC10 code as in the JAHIS sample ADT-61.
    Allergen {
        name: "スギ",
        kind: AllergyType::Pollen,
        code: ("5A1002216023023", "JC10"),
        reactions: &["くしゃみ", "目のかゆみ", "鼻汁"],
        avoid: &[],
        weight: 10,
    },
];
