//! SS-MIX2 file names: `患者ID_診療日_データ種別_オーダNo_発生日時_診療科_コンディションフラグ`.

use std::fmt;
use std::str::FromStr;

use ::time::{Date, Month};

use super::kind::DataKind;
use crate::time::{Dtm, DtmError};

/// コンディションフラグ: the last field of a file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConditionFlag {
    /// `0`: the record was deleted at the source. The file is valid and must be applied (the
    /// record leaves what clinicians see; its history is kept).
    Deleted,
    /// `1`: the current version.
    Current,
    /// `2`: superseded by a later update of the same logical key.
    Superseded,
}

impl ConditionFlag {
    /// The digit used in file names.
    #[must_use]
    pub fn code(self) -> char {
        match self {
            Self::Deleted => '0',
            Self::Current => '1',
            Self::Superseded => '2',
        }
    }
}

/// The identity of a record across its versions: files with the same key are versions of one
/// record, ordered by 発生日時 and told apart by [`ConditionFlag`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogicalKey {
    /// 患者ID at the facility.
    pub patient_id: String,
    /// 診療日; `None` for `-` (patient-level kinds such as ADT-00, ADT-61, PPR-01).
    pub date: Option<Date>,
    /// データ種別.
    pub kind: DataKind,
    /// オーダNo.
    pub order_no: String,
}

/// Which part of a file name is wrong. Carries no part of the name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileNameError {
    /// Not seven `_`-separated fields.
    #[error("SS-MIX2 file name has {found} fields separated by '_', expected 7")]
    FieldCount {
        /// How many fields were found.
        found: usize,
    },
    /// Field 1 (patient ID) is empty or not ASCII letters and digits.
    #[error("SS-MIX2 file name field 1 (patient ID) must be ASCII letters and digits")]
    PatientId,
    /// Field 2 (date of care) is not `-` or a valid `YYYYMMDD`.
    #[error("SS-MIX2 file name field 2 (date of care) must be '-' or a valid YYYYMMDD date")]
    Date,
    /// Field 3 (data kind) is not a data kind code.
    #[error("SS-MIX2 file name field 3 (data kind) is not a data kind code")]
    DataKind,
    /// Field 4 (order number) is empty or not ASCII letters and digits.
    #[error("SS-MIX2 file name field 4 (order number) must be ASCII letters and digits")]
    OrderNumber,
    /// Field 5 (timestamp) is not a timestamp.
    #[error("SS-MIX2 file name field 5 (timestamp) is invalid: {0}")]
    Timestamp(#[source] DtmError),
    /// Field 6 (department) is not `-` or ASCII letters and digits.
    #[error("SS-MIX2 file name field 6 (department) must be '-' or ASCII letters and digits")]
    Department,
    /// Field 7 (condition flag) is not `0`, `1` or `2`.
    #[error("SS-MIX2 file name field 7 (condition flag) must be 0, 1 or 2")]
    Flag,
}

/// A parsed and validated SS-MIX2 file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileName {
    raw: String,
    patient_id: String,
    date: Option<Date>,
    kind: DataKind,
    order_no: String,
    timestamp: Dtm,
    department: Option<String>,
    flag: ConditionFlag,
}

fn is_code(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl FileName {
    /// Parse `患者ID_診療日_データ種別_オーダNo_発生日時_診療科_フラグ`.
    ///
    /// Lenient where real storages differ from the guideline: the order number may have any
    /// length (one sample has 13 digits instead of 15) and the timestamp may be any HL7 DTM
    /// (17 digits per the guideline, 15 seen in practice).
    ///
    /// # Errors
    /// [`FileNameError`] naming the first field that is wrong.
    pub fn parse(name: &str) -> Result<Self, FileNameError> {
        let parts: Vec<&str> = name.split('_').collect();
        let [
            patient_id,
            date,
            kind,
            order_no,
            timestamp,
            department,
            flag,
        ] = parts.as_slice()
        else {
            return Err(FileNameError::FieldCount { found: parts.len() });
        };
        if !is_code(patient_id) {
            return Err(FileNameError::PatientId);
        }
        let date = match *date {
            "-" => None,
            d => Some(parse_yyyymmdd(d).ok_or(FileNameError::Date)?),
        };
        let kind = DataKind::parse(kind).map_err(|_| FileNameError::DataKind)?;
        if !is_code(order_no) {
            return Err(FileNameError::OrderNumber);
        }
        let timestamp = Dtm::parse(timestamp).map_err(FileNameError::Timestamp)?;
        let department = match *department {
            "-" => None,
            d if is_code(d) => Some((*d).to_owned()),
            _ => return Err(FileNameError::Department),
        };
        let flag = match *flag {
            "0" => ConditionFlag::Deleted,
            "1" => ConditionFlag::Current,
            "2" => ConditionFlag::Superseded,
            _ => return Err(FileNameError::Flag),
        };
        Ok(Self {
            raw: name.to_owned(),
            patient_id: (*patient_id).to_owned(),
            date,
            kind,
            order_no: (*order_no).to_owned(),
            timestamp,
            department,
            flag,
        })
    }

    /// The name as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// 患者ID.
    #[must_use]
    pub fn patient_id(&self) -> &str {
        &self.patient_id
    }

    /// 診療日, `None` for `-`.
    #[must_use]
    pub fn date(&self) -> Option<Date> {
        self.date
    }

    /// The date field as written in the date folder: `YYYYMMDD` or `-`.
    #[must_use]
    pub fn date_folder(&self) -> String {
        self.raw.split('_').nth(1).unwrap_or("-").to_owned()
    }

    /// データ種別.
    #[must_use]
    pub fn kind(&self) -> &DataKind {
        &self.kind
    }

    /// オーダNo.
    #[must_use]
    pub fn order_no(&self) -> &str {
        &self.order_no
    }

    /// 発生日時: when this version was produced; orders versions of one logical key.
    #[must_use]
    pub fn timestamp(&self) -> Dtm {
        self.timestamp
    }

    /// 診療科 code, `None` for `-`.
    #[must_use]
    pub fn department(&self) -> Option<&str> {
        self.department.as_deref()
    }

    /// コンディションフラグ.
    #[must_use]
    pub fn flag(&self) -> ConditionFlag {
        self.flag
    }

    /// The logical key (患者ID, 診療日, データ種別, オーダNo).
    #[must_use]
    pub fn logical_key(&self) -> LogicalKey {
        LogicalKey {
            patient_id: self.patient_id.clone(),
            date: self.date,
            kind: self.kind.clone(),
            order_no: self.order_no.clone(),
        }
    }
}

fn parse_yyyymmdd(text: &str) -> Option<Date> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = text.get(0..4)?.parse().ok()?;
    let month = Month::try_from(text.get(4..6)?.parse::<u8>().ok()?).ok()?;
    let day: u8 = text.get(6..8)?.parse().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl FromStr for FileName {
    type Err = FileNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Precision;

    #[test]
    fn every_file_name_field_is_parsed() {
        let name =
            FileName::parse("9999013_20110701_OMP-01_000000011000185_20110701224603984_01_1")
                .unwrap();
        assert_eq!(name.patient_id(), "9999013");
        assert_eq!(
            name.date().map(|d| d.to_string()),
            Some("2011-07-01".into())
        );
        assert_eq!(name.date_folder(), "20110701");
        assert_eq!(name.kind(), &DataKind::Omp01);
        assert_eq!(name.order_no(), "000000011000185");
        assert_eq!(name.timestamp().precision(), Precision::Fraction(3));
        assert_eq!(name.department(), Some("01"));
        assert_eq!(name.flag(), ConditionFlag::Current);
    }

    #[test]
    fn dashes_mean_no_date_and_no_department() {
        let name =
            FileName::parse("9999013_-_ADT-00_999999999999999_20111220224447339_-_1").unwrap();
        assert_eq!(name.date(), None);
        assert_eq!(name.date_folder(), "-");
        assert_eq!(name.department(), None);
        assert_eq!(name.logical_key().date, None);
    }

    #[test]
    fn short_order_numbers_and_15_digit_timestamps_are_accepted() {
        let name =
            FileName::parse("9999013_20111220_OMG-11_2011122000300_201112202244473_24_0").unwrap();
        assert_eq!(name.order_no(), "2011122000300");
        assert_eq!(name.flag(), ConditionFlag::Deleted);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            ("a_b", FileNameError::FieldCount { found: 2 }),
            ("_-_OMD_1_20110101_-_1", FileNameError::PatientId),
            ("9999013_20110231_OMD_1_20110101_-_1", FileNameError::Date),
            ("9999013_-_omd_1_20110101_-_1", FileNameError::DataKind),
            ("9999013_-_OMD__20110101_-_1", FileNameError::OrderNumber),
            (
                "9999013_-_OMD_1_2011x_-_1",
                FileNameError::Timestamp(DtmError::UnexpectedCharacter { position: 4 }),
            ),
            ("9999013_-_OMD_1_20110101_0.1_1", FileNameError::Department),
            ("9999013_-_OMD_1_20110101_-_3", FileNameError::Flag),
        ];
        for (name, expected) in cases {
            assert_eq!(FileName::parse(name), Err(expected), "{name}");
        }
    }

    #[test]
    fn error_messages_do_not_contain_the_name() {
        let err = FileName::parse("1234567_99999999_OMD_1_20110101_-_1").unwrap_err();
        assert!(!err.to_string().contains("1234567"));
    }
}
