//! SS-MIX2 データ種別 (data kinds): the folder and file-name code that says what a message is.

use std::fmt;
use std::str::FromStr;

/// An SS-MIX2 data kind (データ種別). Variants are named after their codes, which is how
/// everyone in SS-MIX2 refers to them; the doc comment gives the meaning and the HL7 message
/// types JAHIS assigns (the first trigger is the normal one, later ones are cancellations or
/// deletions).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataKind {
    /// ADT-00 患者基本情報の更新 (patient demographics): ADT^A08, ADT^A23 (delete).
    Adt00,
    /// ADT-01 担当医の変更 (attending doctor change): ADT^A54, ADT^A55.
    Adt01,
    /// ADT-12 外来診察の受付 (outpatient visit): ADT^A04, ADT^A11.
    Adt12,
    /// ADT-21 入院予定 (planned admission): ADT^A14, ADT^A27.
    Adt21,
    /// ADT-22 入院実施 (admission): ADT^A01, ADT^A11.
    Adt22,
    /// ADT-31 外出泊実施 (leave of absence): ADT^A21, ADT^A52.
    Adt31,
    /// ADT-32 外出泊帰院実施 (return from leave): ADT^A22, ADT^A53.
    Adt32,
    /// ADT-41 転科・転棟（転室・転床）予定 (planned transfer): ADT^A15, ADT^A26.
    Adt41,
    /// ADT-42 転科・転棟（転室・転床）実施 (transfer): ADT^A02, ADT^A12.
    Adt42,
    /// ADT-51 退院予定 (planned discharge): ADT^A16, ADT^A25.
    Adt51,
    /// ADT-52 退院実施 (discharge): ADT^A03, ADT^A13.
    Adt52,
    /// ADT-61 アレルギー情報の登録／更新 (allergies): ADT^A60.
    Adt61,
    /// PPR-01 病名（歴）情報の登録／更新 (problem list, a full snapshot): PPR^ZD1.
    Ppr01,
    /// OMD 食事オーダ (diet order): OMD^O03.
    Omd,
    /// OMP-01 処方オーダ (prescription order): RDE^O11.
    Omp01,
    /// OMP-02 注射オーダ (injection order): RDE^O11.
    Omp02,
    /// OMP-11 処方実施通知 (medication administered): RAS^O17.
    Omp11,
    /// OMP-12 注射実施通知 (injection administered): RAS^O17.
    Omp12,
    /// OML-01 検体検査オーダ (specimen test order): OML^O33.
    Oml01,
    /// OML-11 検体検査結果通知 (specimen test results): OUL^R22.
    Oml11,
    /// OMG-01 放射線検査オーダ (radiology order): OMG^O19.
    Omg01,
    /// OMG-02 内視鏡検査オーダ (endoscopy order): OMG^O19.
    Omg02,
    /// OMG-03 生理検査オーダ (physiological test order): OMG^O19.
    Omg03,
    /// OMG-11 放射線検査の実施通知 (radiology performed): OMI^Z23.
    Omg11,
    /// OMG-12 内視鏡検査の実施通知 (endoscopy performed): OMI^Z23.
    Omg12,
    /// OMG-13 生理検査結果通知 (physiological test results): ORU^R01.
    Omg13,
    /// Any other code (`[A-Z0-9-]+`), kept so a new or local kind is never dropped.
    Other(String),
}

/// Code, variant, message code (MSH-9.1), accepted triggers (MSH-9.2).
const TABLE: &[(&str, DataKind, &str, &[&str])] = &[
    ("ADT-00", DataKind::Adt00, "ADT", &["A08", "A23"]),
    ("ADT-01", DataKind::Adt01, "ADT", &["A54", "A55"]),
    ("ADT-12", DataKind::Adt12, "ADT", &["A04", "A11"]),
    ("ADT-21", DataKind::Adt21, "ADT", &["A14", "A27"]),
    ("ADT-22", DataKind::Adt22, "ADT", &["A01", "A11"]),
    ("ADT-31", DataKind::Adt31, "ADT", &["A21", "A52"]),
    ("ADT-32", DataKind::Adt32, "ADT", &["A22", "A53"]),
    ("ADT-41", DataKind::Adt41, "ADT", &["A15", "A26"]),
    ("ADT-42", DataKind::Adt42, "ADT", &["A02", "A12"]),
    ("ADT-51", DataKind::Adt51, "ADT", &["A16", "A25"]),
    ("ADT-52", DataKind::Adt52, "ADT", &["A03", "A13"]),
    ("ADT-61", DataKind::Adt61, "ADT", &["A60"]),
    ("PPR-01", DataKind::Ppr01, "PPR", &["ZD1"]),
    ("OMD", DataKind::Omd, "OMD", &["O03"]),
    ("OMP-01", DataKind::Omp01, "RDE", &["O11"]),
    ("OMP-02", DataKind::Omp02, "RDE", &["O11"]),
    ("OMP-11", DataKind::Omp11, "RAS", &["O17"]),
    ("OMP-12", DataKind::Omp12, "RAS", &["O17"]),
    ("OML-01", DataKind::Oml01, "OML", &["O33"]),
    ("OML-11", DataKind::Oml11, "OUL", &["R22"]),
    ("OMG-01", DataKind::Omg01, "OMG", &["O19"]),
    ("OMG-02", DataKind::Omg02, "OMG", &["O19"]),
    ("OMG-03", DataKind::Omg03, "OMG", &["O19"]),
    ("OMG-11", DataKind::Omg11, "OMI", &["Z23"]),
    ("OMG-12", DataKind::Omg12, "OMI", &["Z23"]),
    ("OMG-13", DataKind::Omg13, "ORU", &["R01"]),
];

/// The code is not a possible data kind (empty, or characters outside `[A-Z0-9-]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an SS-MIX2 data kind code")]
pub struct InvalidDataKind;

impl DataKind {
    /// Parse a code such as `ADT-00` or `OMD`; unknown but well-formed codes become
    /// [`DataKind::Other`].
    ///
    /// # Errors
    /// [`InvalidDataKind`] when the code is empty or has characters outside `[A-Z0-9-]`.
    pub fn parse(code: &str) -> Result<Self, InvalidDataKind> {
        if let Some((_, kind, _, _)) = TABLE.iter().find(|(c, ..)| *c == code) {
            return Ok(kind.clone());
        }
        let well_formed = !code.is_empty()
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if well_formed {
            Ok(Self::Other(code.to_owned()))
        } else {
            Err(InvalidDataKind)
        }
    }

    /// The code as written in folder and file names.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(code) => code,
            known => TABLE
                .iter()
                .find(|(_, k, ..)| k == known)
                .map_or("", |(code, ..)| code),
        }
    }

    /// The HL7 message code (MSH-9.1) this kind carries, `None` for [`DataKind::Other`].
    #[must_use]
    pub fn message_code(&self) -> Option<&'static str> {
        self.entry().map(|(_, _, code, _)| *code)
    }

    /// The trigger events (MSH-9.2) this kind may carry; empty for [`DataKind::Other`].
    #[must_use]
    pub fn triggers(&self) -> &'static [&'static str] {
        self.entry().map_or(&[], |(_, _, _, triggers)| triggers)
    }

    fn entry(
        &self,
    ) -> Option<&'static (
        &'static str,
        DataKind,
        &'static str,
        &'static [&'static str],
    )> {
        TABLE.iter().find(|(_, k, ..)| k == self)
    }
}

impl fmt::Display for DataKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DataKind {
    type Err = InvalidDataKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_round_trips() {
        for (code, kind, ..) in TABLE {
            let parsed = DataKind::parse(code).unwrap();
            assert_eq!(&parsed, kind);
            assert_eq!(parsed.as_str(), *code);
            assert!(!matches!(parsed, DataKind::Other(_)));
        }
    }

    #[test]
    fn unknown_codes_are_kept() {
        let kind = DataKind::parse("OMG-21").unwrap();
        assert_eq!(kind, DataKind::Other("OMG-21".into()));
        assert_eq!(kind.to_string(), "OMG-21");
        assert_eq!(kind.message_code(), None);
        assert!(kind.triggers().is_empty());
        assert_eq!(DataKind::parse(""), Err(InvalidDataKind));
        assert_eq!(DataKind::parse("adt-00"), Err(InvalidDataKind));
        assert_eq!(DataKind::parse("../x"), Err(InvalidDataKind));
    }

    #[test]
    fn kinds_name_their_message_types() {
        assert_eq!(DataKind::Oml11.message_code(), Some("OUL"));
        assert_eq!(DataKind::Omg13.message_code(), Some("ORU"));
        assert_eq!(DataKind::Adt00.triggers(), ["A08", "A23"]);
    }
}
