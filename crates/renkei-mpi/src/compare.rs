//! Field comparisons with graded levels, conflicts, and the evidence of one comparison.

use crate::model::Model;
use crate::prepare::{Name, Prepared, Table, prepare};
use crate::record::LinkRecord;
use renkei_text::{AddressMatch, UNKNOWN_CHAR, address_prefix_level, kanji_similar};
use serde::{Deserialize, Serialize};

pub(crate) const FAMILY: usize = 0;
pub(crate) const GIVEN: usize = 1;
pub(crate) const SEX: usize = 2;
pub(crate) const BIRTH: usize = 3;
pub(crate) const ADDRESS: usize = 4;
pub(crate) const POSTAL: usize = 5;
pub(crate) const INSURANCE: usize = 6;
/// Number of Fellegi–Sunter fields.
pub(crate) const N_FIELDS: usize = 7;
/// The level of a field that one record lacks: it weighs nothing.
pub(crate) const MISSING: u8 = u8::MAX;

/// Field names, in model order.
pub(crate) const FIELD_NAMES: [&str; N_FIELDS] = [
    "family_name",
    "given_name",
    "sex",
    "birth_date",
    "address",
    "postal_code",
    "insurance",
];

/// Levels of a name part (family or given), best first. "kanji" compares
/// [`renkei_text::fold_kanji_name`] keys (itaiji folded), "kana" compares
/// [`renkei_text::fold_kana`] keys.
pub(crate) const NAME_LEVELS: &[&str] = &[
    "exact",                   // kanji and kana both equal
    "kanji_equal",             // kanji equal (itaiji folded), kana missing or a close spelling
    "kanji_unknown_char",      // kanji equal where one side has ■/〓
    "kanji_similar",           // kanji differ only by a known confusion (斎/斉)
    "kana_equal",              // kana equal, no kanji on one side
    "kana_equal_kanji_differ", // same reading, different kanji (博/浩 ヒロシ)
    "kanji_equal_kana_differ", // same kanji, different reading (裕子 ユウコ/ヒロコ)
    "kana_jw_0.9",             // no kanji to compare, kana Jaro–Winkler ≥ 0.9
    "kana_jw_0.8",             // no kanji to compare, kana Jaro–Winkler ≥ 0.8
    "different",
];
pub(crate) const N_EXACT: u8 = 0;
pub(crate) const N_KANJI_EQUAL: u8 = 1;
pub(crate) const N_KANJI_UNKNOWN: u8 = 2;
pub(crate) const N_KANJI_SIMILAR: u8 = 3;
pub(crate) const N_KANA_EQUAL: u8 = 4;
pub(crate) const N_KANA_EQUAL_KANJI_DIFFER: u8 = 5;
pub(crate) const N_KANJI_EQUAL_KANA_DIFFER: u8 = 6;
pub(crate) const N_KANA_JW90: u8 = 7;
pub(crate) const N_KANA_JW80: u8 = 8;
pub(crate) const N_DIFFERENT: u8 = 9;

pub(crate) const SEX_LEVELS: &[&str] = &["equal", "different"];
pub(crate) const SEX_DIFFERENT: u8 = 1;

pub(crate) const BIRTH_LEVELS: &[&str] = &[
    "exact",
    "day_month_swap",
    "one_digit_off",
    "same_year_month",
    "different",
];
pub(crate) const BIRTH_EXACT: u8 = 0;
pub(crate) const BIRTH_DIFFERENT: u8 = 4;

pub(crate) const ADDRESS_LEVELS: &[&str] = &[
    "exact",
    "same_block",
    "same_chome",
    "same_town",
    "same_city",
    "different",
];

pub(crate) const POSTAL_LEVELS: &[&str] = &["exact", "first_3_digits", "different"];

pub(crate) const INSURANCE_LEVELS: &[&str] = &[
    "exact",
    "exact_without_branch",
    "other_branch",
    "number_only",
    "different",
];
pub(crate) const INSURANCE_OTHER_BRANCH: u8 = 2;

pub(crate) fn levels_of(field: usize) -> &'static [&'static str] {
    match field {
        FAMILY | GIVEN => NAME_LEVELS,
        SEX => SEX_LEVELS,
        BIRTH => BIRTH_LEVELS,
        ADDRESS => ADDRESS_LEVELS,
        POSTAL => POSTAL_LEVELS,
        _ => INSURANCE_LEVELS,
    }
}

/// Why two records cannot be one person (or, for [`Conflict::GivenNameDiffers`], why they are
/// never linked without a person looking at them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conflict {
    /// Both records state a sex, and they differ.
    SexDiffers,
    /// Birth dates differ beyond the typo levels (day/month swap, one digit off in the day,
    /// month or last digit of the year, same year and month). A change in the tens of the year
    /// is a conflict: that is how a father and a son with one name look.
    BirthDateDiffers,
    /// One facility, two local IDs: the facility registered two patients.
    SameFacilityOtherLocalId,
    /// One insurance card (保険者番号・記号・番号), two 枝番: two members of one family.
    OtherMemberOnInsuranceCard,
    /// Both records have a given name and they share neither kanji nor reading (twins look like
    /// this). Not impossible for one person (a wrong name typed), so the pair may go to review,
    /// but it is never linked automatically (unless the records share the insurance card *and*
    /// its 枝番, which names one member of a family), and when the kanji differ, never chained
    /// into one cluster.
    GivenNameDiffers,
    /// Nothing but names, sex and birth date agree: no address in the same town, postal code,
    /// insurance card or local ID ties the records together. Strangers with a common name and
    /// one birth date look like this (so does a person who moved and changed insurance): at
    /// most review.
    Uncorroborated,
}

impl Conflict {
    /// Hard conflicts make the pair a [`crate::Outcome::NewPerson`]; the soft one caps it at
    /// review.
    pub fn is_hard(self) -> bool {
        !matches!(self, Conflict::GivenNameDiffers | Conflict::Uncorroborated)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Conflict::SexDiffers => "sex_differs",
            Conflict::BirthDateDiffers => "birth_date_differs",
            Conflict::SameFacilityOtherLocalId => "same_facility_other_local_id",
            Conflict::OtherMemberOnInsuranceCard => "other_member_on_insurance_card",
            Conflict::GivenNameDiffers => "given_name_differs",
            Conflict::Uncorroborated => "uncorroborated",
        }
    }
}

/// One field's contribution to a comparison: its level and weight (log2 of m/u, with the
/// term-frequency adjustment for names). The first entry of [`Comparison::fields`] is the
/// prior (`field: "prior"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldEvidence {
    pub field: &'static str,
    pub level: &'static str,
    pub weight: f64,
}

/// The evidence of one comparison. `score` is the sum of the weights of `fields` (the prior
/// included): the log2 posterior odds that the two records are one person, under the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub fields: Vec<FieldEvidence>,
    pub score: f64,
    pub conflict: Option<Conflict>,
}

/// What to do with a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Same person: link automatically.
    Link,
    /// Possibly the same person: a person decides.
    Review,
    /// Not the same person.
    NewPerson,
}

/// Local ID evidence: not part of the EM model, a fixed rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Local {
    Unknown,
    OtherFacility,
    SameLocalId,
    OtherLocalId,
}

/// The comparison of two prepared records, without allocation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scored {
    pub levels: [u8; N_FIELDS],
    /// Term-frequency lookups for the family and given levels that agree on a value.
    pub tf: [Option<(Table, u32)>; 2],
    pub local: Local,
    pub conflict: Option<Conflict>,
    pub score: f64,
}

/// Compares two records: folds both, then levels, weights and conflicts. The result is the
/// same with `a` and `b` swapped.
pub fn compare(model: &Model, a: &LinkRecord, b: &LinkRecord) -> Comparison {
    let tf = &model.term_frequencies;
    let (pa, pb) = (prepare(a, tf), prepare(b, tf));
    let s = score_pair(model, &pa, &pb);
    evidence(model, &s)
}

/// Three-way decision for a comparison: hard conflicts are new persons; a soft conflict is at
/// most review; otherwise the score against the model's thresholds.
pub fn classify(model: &Model, c: &Comparison) -> Outcome {
    outcome(model, c.score, c.conflict)
}

pub(crate) fn outcome(model: &Model, score: f64, conflict: Option<Conflict>) -> Outcome {
    let t = &model.thresholds;
    match conflict {
        Some(c) if c.is_hard() => Outcome::NewPerson,
        Some(_) if score >= t.review => Outcome::Review,
        Some(_) => Outcome::NewPerson,
        None if score >= t.link => Outcome::Link,
        None if score >= t.review => Outcome::Review,
        None => Outcome::NewPerson,
    }
}

pub(crate) fn evidence(model: &Model, s: &Scored) -> Comparison {
    let mut fields = Vec::with_capacity(N_FIELDS + 2);
    fields.push(FieldEvidence {
        field: "prior",
        level: "base_rate",
        weight: model.prior_log2_odds,
    });
    for (f, (&level, &name)) in s.levels.iter().zip(FIELD_NAMES.iter()).enumerate() {
        let tf = match f {
            FAMILY => s.tf.first().copied().flatten(),
            GIVEN => s.tf.get(1).copied().flatten(),
            _ => None,
        };
        let (level_name, weight) = if level == MISSING {
            ("missing", 0.0)
        } else {
            (
                levels_of(f)
                    .get(usize::from(level))
                    .copied()
                    .unwrap_or("unknown"),
                model.weight(f, level, tf),
            )
        };
        fields.push(FieldEvidence {
            field: name,
            level: level_name,
            weight,
        });
    }
    let (local_level, local_weight) = match s.local {
        Local::Unknown => ("missing", 0.0),
        Local::OtherFacility => ("other_facility", 0.0),
        Local::SameLocalId => ("same_local_id", model.same_local_id_weight),
        Local::OtherLocalId => ("other_local_id_same_facility", 0.0),
    };
    fields.push(FieldEvidence {
        field: "local_id",
        level: local_level,
        weight: local_weight,
    });
    Comparison {
        fields,
        score: s.score,
        conflict: s.conflict,
    }
}

/// Levels, conflicts and score of one pair.
pub(crate) fn score_pair(model: &Model, a: &Prepared, b: &Prepared) -> Scored {
    let (levels, tf) = levels(a, b);
    let local = local(a, b);
    let conflict = conflict_from(&levels, local);
    let mut score = model.prior_log2_odds;
    for (f, &level) in levels.iter().enumerate() {
        if level != MISSING {
            let tf = match f {
                FAMILY => tf.first().copied().flatten(),
                GIVEN => tf.get(1).copied().flatten(),
                _ => None,
            };
            score += model.weight(f, level, tf);
        }
    }
    if local == Local::SameLocalId {
        score += model.same_local_id_weight;
    }
    Scored {
        levels,
        tf,
        local,
        conflict,
        score,
    }
}

fn conflict_from(levels: &[u8; N_FIELDS], local: Local) -> Option<Conflict> {
    let at = |f: usize| levels.get(f).copied().unwrap_or(MISSING);
    if at(SEX) == SEX_DIFFERENT {
        Some(Conflict::SexDiffers)
    } else if at(BIRTH) == BIRTH_DIFFERENT {
        Some(Conflict::BirthDateDiffers)
    } else if local == Local::OtherLocalId {
        Some(Conflict::SameFacilityOtherLocalId)
    } else if at(INSURANCE) == INSURANCE_OTHER_BRANCH {
        Some(Conflict::OtherMemberOnInsuranceCard)
    } else if matches!(at(GIVEN), N_DIFFERENT | N_KANA_JW80) && at(INSURANCE) != 0 {
        // The same card *and* the same 枝番 is the same member of the family: the given names
        // then differ by a typo, not because these are twins.
        Some(Conflict::GivenNameDiffers)
    } else if !corroborated(levels, local) {
        Some(Conflict::Uncorroborated)
    } else {
        None
    }
}

/// Whether something besides names, sex and birth date agrees: the address down to the town
/// (町・字) or closer, the postal code, the insurance card (with or without 枝番, or symbol and
/// number), or the local ID at one facility.
fn corroborated(levels: &[u8; N_FIELDS], local: Local) -> bool {
    let at = |f: usize| levels.get(f).copied().unwrap_or(MISSING);
    local == Local::SameLocalId
        || matches!(at(ADDRESS), 0..=3)
        || at(POSTAL) == 0
        || matches!(at(INSURANCE), 0 | 1 | 3)
}

/// The conflict that keeps two records out of one cluster, if any (cheap fields first): the
/// hard conflicts, and given names whose **kanji** differ (both records have them, they are
/// not itaiji, unknown-character or similar variants of each other, and the readings differ
/// too). A given name that differs only in kana (one record has no kanji) is a soft conflict
/// for the pair but does not split clusters: a kana typo in one record must not keep a
/// person's other records apart, while twins, whose records carry their kanji, stay apart.
pub(crate) fn cluster_conflict(a: &Prepared, b: &Prepared) -> Option<Conflict> {
    if a.sex != 0 && b.sex != 0 && a.sex != b.sex {
        return Some(Conflict::SexDiffers);
    }
    if let (Some(x), Some(y)) = (a.birth, b.birth)
        && birth_level(x, y) == BIRTH_DIFFERENT
    {
        return Some(Conflict::BirthDateDiffers);
    }
    if local(a, b) == Local::OtherLocalId {
        return Some(Conflict::SameFacilityOtherLocalId);
    }
    if insurance_level(a, b) == INSURANCE_OTHER_BRANCH {
        return Some(Conflict::OtherMemberOnInsuranceCard);
    }
    given_kanji_differ(a, b).then_some(Conflict::GivenNameDiffers)
}

fn local(a: &Prepared, b: &Prepared) -> Local {
    if a.facility.is_empty() || b.facility.is_empty() {
        Local::Unknown
    } else if a.facility != b.facility {
        Local::OtherFacility
    } else if a.local_id.is_empty() || b.local_id.is_empty() {
        Local::Unknown
    } else if a.local_id == b.local_id {
        Local::SameLocalId
    } else {
        Local::OtherLocalId
    }
}

type Levels = ([u8; N_FIELDS], [Option<(Table, u32)>; 2]);

pub(crate) fn levels(a: &Prepared, b: &Prepared) -> Levels {
    let (family, given, tf) = names(a, b);
    let sex = if a.sex == 0 || b.sex == 0 {
        MISSING
    } else if a.sex == b.sex {
        0
    } else {
        SEX_DIFFERENT
    };
    let birth = match (a.birth, b.birth) {
        (Some(x), Some(y)) => birth_level(x, y),
        _ => MISSING,
    };
    let address = match (&a.address, &b.address) {
        (Some(x), Some(y)) => match address_prefix_level(x, y) {
            AddressMatch::Exact => 0,
            AddressMatch::SameBlock => 1,
            AddressMatch::SameChome => 2,
            AddressMatch::SameTown => 3,
            AddressMatch::SameCity => 4,
            AddressMatch::Different => 5,
        },
        _ => MISSING,
    };
    let postal = match (a.postal, b.postal) {
        (Some(x), Some(y)) if x == y => 0,
        (Some(x), Some(y)) if x / 10_000 == y / 10_000 => 1,
        (Some(_), Some(_)) => 2,
        _ => MISSING,
    };
    (
        [
            family,
            given,
            sex,
            birth,
            address,
            postal,
            insurance_level(a, b),
        ],
        tf,
    )
}

fn insurance_level(a: &Prepared, b: &Prepared) -> u8 {
    let (Some(x), Some(y)) = (&a.card, &b.card) else {
        return MISSING;
    };
    if x.symbol != y.symbol || x.number != y.number {
        return 4;
    }
    match (&x.insurer, &y.insurer) {
        (Some(i), Some(j)) if i == j => match (&x.branch, &y.branch) {
            (Some(p), Some(q)) if p == q => 0,
            (Some(_), Some(_)) => INSURANCE_OTHER_BRANCH,
            _ => 1,
        },
        _ => 3,
    }
}

/// Birth-date levels. Typos: day and month swapped; one digit off in the day, the month or
/// the last digit of the year, or two adjacent digits of month and day transposed; same year
/// and month. Anything else (including any change in the first three digits of the year) is
/// [`BIRTH_DIFFERENT`].
pub(crate) fn birth_level(a: (i32, u8, u8), b: (i32, u8, u8)) -> u8 {
    if a == b {
        return BIRTH_EXACT;
    }
    if a.0 == b.0 && a.1 == b.2 && a.2 == b.1 {
        return 1;
    }
    let (da, db) = (date_digits(a), date_digits(b));
    let diff: Vec<usize> = (0..8).filter(|&i| da.get(i) != db.get(i)).take(3).collect();
    match diff.as_slice() {
        [i] if *i >= 3 => return 2,
        [i, j]
            if *i >= 4 && *j == i + 1 && da.get(*i) == db.get(*j) && da.get(*j) == db.get(*i) =>
        {
            return 2;
        }
        _ => {}
    }
    if a.0 == b.0 && a.1 == b.1 {
        return 3;
    }
    BIRTH_DIFFERENT
}

fn date_digits((y, m, d): (i32, u8, u8)) -> [u8; 8] {
    let y = y.rem_euclid(10_000);
    let digit = |v: i32| u8::try_from(v.rem_euclid(10)).unwrap_or(0);
    [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        m / 10,
        m % 10,
        d / 10,
        d % 10,
    ]
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// How the two records' names in one script line up.
enum Resolved<'a> {
    /// Family and given parts on both sides, with term-frequency counts where known.
    Parts {
        family: (&'a str, &'a str),
        given: (&'a str, &'a str),
        counts: Option<(u32, u32)>,
    },
    /// The whole names are equal but cannot be split.
    FullEqual,
    /// The whole names differ and cannot be split.
    FullDiffer(&'a str, &'a str),
}

fn resolve<'a>(a: &'a Name, b: &'a Name) -> Resolved<'a> {
    match (&a.split, &b.split) {
        (Some((fa, ga)), Some((fb, gb))) => Resolved::Parts {
            family: (fa, fb),
            given: (ga, gb),
            counts: Some(a.counts),
        },
        (Some((fa, ga)), None) => match split_like(&b.full, fa, ga) {
            Some((fb, gb)) => Resolved::Parts {
                family: (fa, fb),
                given: (ga, gb),
                counts: Some(a.counts),
            },
            None => Resolved::FullDiffer(&a.full, &b.full),
        },
        (None, Some((fb, gb))) => match split_like(&a.full, fb, gb) {
            Some((fa, ga)) => Resolved::Parts {
                family: (fa, fb),
                given: (ga, gb),
                counts: Some(b.counts),
            },
            None => Resolved::FullDiffer(&a.full, &b.full),
        },
        (None, None) if a.full == b.full => Resolved::FullEqual,
        (None, None) => {
            heuristic_split(&a.full, &b.full).unwrap_or(Resolved::FullDiffer(&a.full, &b.full))
        }
    }
}

/// Splits `full` like a name whose parts are `family` and `given`: after `family` when it
/// starts with it, before `given` when it ends with it.
fn split_like<'a>(full: &'a str, family: &str, given: &str) -> Option<(&'a str, &'a str)> {
    if full.len() > family.len() && full.starts_with(family) {
        return Some((full.get(..family.len())?, full.get(family.len()..)?));
    }
    if full.len() > given.len() && full.ends_with(given) {
        let cut = full.len() - given.len();
        return Some((full.get(..cut)?, full.get(cut..)?));
    }
    None
}

/// Two unsplit, different names: a shared start is taken as the family name (佐藤翔太 and
/// 佐藤翔平), a shared end as the given name (田中恭子 and 佐藤恭子).
fn heuristic_split<'a>(a: &'a str, b: &'a str) -> Option<Resolved<'a>> {
    let prefix: usize = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    if prefix > 0 && a.len() > prefix && b.len() > prefix {
        return Some(Resolved::Parts {
            family: (a.get(..prefix)?, b.get(..prefix)?),
            given: (a.get(prefix..)?, b.get(prefix..)?),
            counts: None,
        });
    }
    let suffix: usize = a
        .chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    if suffix > 0 && a.len() > suffix && b.len() > suffix {
        let (ca, cb) = (a.len() - suffix, b.len() - suffix);
        return Some(Resolved::Parts {
            family: (a.get(..ca)?, b.get(..cb)?),
            given: (a.get(ca..)?, b.get(cb..)?),
            counts: None,
        });
    }
    None
}

/// One script's input to a name part comparison.
#[derive(Clone, Copy)]
enum PartIn<'a> {
    Missing,
    Equal,
    Pair(&'a str, &'a str, Option<u32>),
}

fn part_inputs<'a>(
    own: Option<&Resolved<'a>>,
    other: Option<&Resolved<'a>>,
) -> (PartIn<'a>, PartIn<'a>) {
    let other_has_parts = matches!(other, Some(Resolved::Parts { .. }));
    match own {
        None => (PartIn::Missing, PartIn::Missing),
        Some(Resolved::Parts {
            family,
            given,
            counts,
        }) => (
            PartIn::Pair(family.0, family.1, counts.map(|c| c.0)),
            PartIn::Pair(given.0, given.1, counts.map(|c| c.1)),
        ),
        Some(Resolved::FullEqual) => (PartIn::Equal, PartIn::Equal),
        Some(Resolved::FullDiffer(..)) if other_has_parts => (PartIn::Missing, PartIn::Missing),
        // Neither the family nor the given part lines up (a typo in an unspaced name, or two
        // different names): both parts are compared as the whole names, so a given name that
        // cannot be found is "different", never "missing".
        Some(Resolved::FullDiffer(x, y)) => (PartIn::Pair(x, y, None), PartIn::Pair(x, y, None)),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KanjiRel {
    Equal,
    Unknown,
    Similar,
    Differ,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KanaRel {
    Equal,
    Close90,
    Close80,
    Differ,
}

/// Whether both records have given names in kanji that differ, and the readings (when both
/// have them) differ as well.
fn given_kanji_differ(a: &Prepared, b: &Prepared) -> bool {
    let kanji = match (&a.kanji, &b.kanji) {
        (Some(x), Some(y)) => resolve(x, y),
        _ => return false,
    };
    let kana = match (&a.kana, &b.kana) {
        (Some(x), Some(y)) => Some(resolve(x, y)),
        _ => None,
    };
    let (_, kj_given) = part_inputs(Some(&kanji), kana.as_ref());
    let (_, kn_given) = part_inputs(kana.as_ref(), Some(&kanji));
    let kanji_differ =
        matches!(kj_given, PartIn::Pair(x, y, _) if kanji_rel(x, y) == KanjiRel::Differ);
    let kana_equal = match kn_given {
        PartIn::Equal => true,
        PartIn::Pair(x, y, _) => x == y,
        PartIn::Missing => false,
    };
    kanji_differ && !kana_equal
}

/// Family level, given level, term-frequency lookups.
fn names(a: &Prepared, b: &Prepared) -> (u8, u8, [Option<(Table, u32)>; 2]) {
    let kanji = match (&a.kanji, &b.kanji) {
        (Some(x), Some(y)) => Some(resolve(x, y)),
        _ => None,
    };
    let kana = match (&a.kana, &b.kana) {
        (Some(x), Some(y)) => Some(resolve(x, y)),
        _ => None,
    };
    let (kj_family, kj_given) = part_inputs(kanji.as_ref(), kana.as_ref());
    let (kn_family, kn_given) = part_inputs(kana.as_ref(), kanji.as_ref());
    let (family, tf_family) =
        part_level(kj_family, kn_family, Table::FamilyKanji, Table::FamilyKana);
    let (given, tf_given) = part_level(kj_given, kn_given, Table::GivenKanji, Table::GivenKana);
    (family, given, [tf_family, tf_given])
}

fn part_level(
    kanji: PartIn<'_>,
    kana: PartIn<'_>,
    kanji_table: Table,
    kana_table: Table,
) -> (u8, Option<(Table, u32)>) {
    let kj = match kanji {
        PartIn::Missing => None,
        PartIn::Equal => Some((KanjiRel::Equal, None)),
        PartIn::Pair(x, y, count) => Some((kanji_rel(x, y), count)),
    };
    let kn = match kana {
        PartIn::Missing => None,
        PartIn::Equal => Some((KanaRel::Equal, None)),
        PartIn::Pair(x, y, count) => Some((kana_rel(x, y), count)),
    };
    let tf_kanji = kj.and_then(|(_, c)| c).map(|c| (kanji_table, c));
    let tf_kana = kn.and_then(|(_, c)| c).map(|c| (kana_table, c));
    use KanaRel as N;
    use KanjiRel as K;
    match (kj.map(|x| x.0), kn.map(|x| x.0)) {
        (Some(K::Equal), Some(N::Equal)) => (N_EXACT, tf_kanji),
        (Some(K::Equal), Some(N::Close90 | N::Close80) | None) => (N_KANJI_EQUAL, tf_kanji),
        (Some(K::Equal), Some(N::Differ)) => (N_KANJI_EQUAL_KANA_DIFFER, None),
        (Some(K::Unknown), Some(N::Equal | N::Close90) | None) => (N_KANJI_UNKNOWN, None),
        (Some(K::Similar), Some(N::Equal | N::Close90) | None) => (N_KANJI_SIMILAR, None),
        (Some(K::Unknown | K::Similar), Some(N::Close80)) => (N_KANA_JW80, None),
        (Some(K::Differ), Some(N::Equal)) => (N_KANA_EQUAL_KANJI_DIFFER, None),
        (Some(_), Some(_)) | (Some(K::Differ), None) => (N_DIFFERENT, None),
        (None, Some(N::Equal)) => (N_KANA_EQUAL, tf_kana),
        (None, Some(N::Close90)) => (N_KANA_JW90, None),
        (None, Some(N::Close80)) => (N_KANA_JW80, None),
        (None, Some(N::Differ)) => (N_DIFFERENT, None),
        (None, None) => (MISSING, None),
    }
}

fn kanji_rel(a: &str, b: &str) -> KanjiRel {
    if a == b {
        return KanjiRel::Equal;
    }
    if a.chars().count() != b.chars().count() {
        return KanjiRel::Differ;
    }
    let mut unknown = false;
    let mut similar = false;
    for (x, y) in a.chars().zip(b.chars()) {
        if x == y {
            continue;
        }
        if x == UNKNOWN_CHAR || y == UNKNOWN_CHAR {
            unknown = true;
        } else if kanji_similar(x, y) {
            similar = true;
        } else {
            return KanjiRel::Differ;
        }
    }
    if similar {
        KanjiRel::Similar
    } else if unknown {
        KanjiRel::Unknown
    } else {
        KanjiRel::Differ
    }
}

fn kana_rel(a: &str, b: &str) -> KanaRel {
    if a == b {
        return KanaRel::Equal;
    }
    // Only a name of the same length can be a typo of another: a longer or shorter one is
    // another name (翔 ショウ and 翔太 ショウタ, as twins are often named).
    if a.chars().count() != b.chars().count() {
        return KanaRel::Differ;
    }
    // Argument order fixed so that the comparison is symmetric to the last bit.
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    let jw = strsim::jaro_winkler(x, y);
    if jw >= 0.9 {
        KanaRel::Close90
    } else if jw >= 0.8 {
        KanaRel::Close80
    } else {
        KanaRel::Differ
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_levels() {
        let d = |y, m, dd| (y, m, dd);
        assert_eq!(birth_level(d(1950, 3, 12), d(1950, 3, 12)), 0);
        assert_eq!(birth_level(d(1950, 3, 12), d(1950, 12, 3)), 1);
        assert_eq!(birth_level(d(1950, 3, 12), d(1950, 3, 13)), 2);
        assert_eq!(birth_level(d(1950, 3, 12), d(1951, 3, 12)), 2);
        assert_eq!(birth_level(d(1950, 3, 12), d(1950, 3, 21)), 2);
        assert_eq!(birth_level(d(1950, 3, 12), d(1950, 3, 28)), 3);
        assert_eq!(birth_level(d(1950, 3, 12), d(1980, 3, 12)), BIRTH_DIFFERENT);
        assert_eq!(birth_level(d(1950, 3, 12), d(1950, 4, 28)), BIRTH_DIFFERENT);
    }

    #[test]
    fn heuristic_split_of_unspaced_names() {
        match heuristic_split("佐藤翔太", "佐藤翔平") {
            Some(Resolved::Parts { family, given, .. }) => {
                assert_eq!(family, ("佐藤翔", "佐藤翔"));
                assert_eq!(given, ("太", "平"));
            }
            _ => panic!("expected parts"),
        }
        match heuristic_split("田中恭子", "佐藤恭子") {
            Some(Resolved::Parts { family, given, .. }) => {
                assert_eq!(family, ("田中", "佐藤"));
                assert_eq!(given, ("恭子", "恭子"));
            }
            _ => panic!("expected parts"),
        }
    }
}
