//! The input of linkage: [`LinkRecord`], its CSV form, and the errors of reading and writing it.

use renkei_domain::Sex;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// One local patient record as a facility sent it, for linkage.
///
/// Fields hold what the facility sent (trimmed); folding for comparison happens inside the
/// matcher and never rewrites these values. `sex` uses [`Sex`] from `renkei-domain`;
/// [`Sex::Unknown`] is treated as missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LinkRecord {
    /// Unique within one input (the CSV's `record_id`).
    pub record_id: String,
    /// The facility that sent the record.
    pub facility: String,
    /// The patient ID at that facility.
    pub local_id: String,
    pub name_kanji: Option<String>,
    pub name_kana: Option<String>,
    pub sex: Option<Sex>,
    /// (year, month, day), a valid calendar date.
    pub birth_date: Option<(i32, u8, u8)>,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    /// 保険者番号
    pub insurer_number: Option<String>,
    /// 被保険者証記号
    pub insured_symbol: Option<String>,
    /// 被保険者証番号
    pub insured_number: Option<String>,
    /// 枝番
    pub insured_branch: Option<String>,
}

/// The CSV columns of `renkei link`, in order.
pub const CSV_COLUMNS: [&str; 13] = [
    "record_id",
    "facility",
    "local_id",
    "name_kanji",
    "name_kana",
    "sex",
    "birth_date",
    "postal_code",
    "address",
    "insurer_number",
    "insured_symbol",
    "insured_number",
    "insured_branch",
];

/// Errors of reading records, writing clusters and loading models.
///
/// Messages name the row (the line number in the file; the header is line 1) and the column,
/// never the value: the values are personal data and errors end up in logs.
#[derive(Debug, thiserror::Error)]
pub enum MpiError {
    #[error("the CSV header has no column `{column}`")]
    MissingColumn { column: &'static str },
    #[error("row {row}: column `{column}`: {problem}")]
    BadField {
        row: u64,
        column: &'static str,
        problem: &'static str,
    },
    #[error("row {row}: record_id is used by an earlier row")]
    DuplicateRecordId { row: u64 },
    #[error("CSV row {row}: {problem}")]
    Csv { row: u64, problem: String },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("CSV could not be written")]
    CsvWrite,
    #[error("model: {0}")]
    Model(String),
}

impl LinkRecord {
    /// Parses one CSV row whose `fields` are in the order of [`CSV_COLUMNS`]; `row` is the
    /// line number used in errors.
    ///
    /// Every field is trimmed, and an empty field is `None`, except `record_id`, which must not
    /// be empty. `sex` is `1`/`M`/`m` (male), `2`/`F`/`f` (female), or `0`, `9`, `U` (unknown,
    /// read as missing). `birth_date` is `YYYYMMDD` or `YYYY-MM-DD` and must exist in the
    /// calendar. Postal codes, addresses and insurance numbers are free text here; what cannot
    /// be folded is simply not compared.
    pub fn from_csv_row(row: u64, fields: &[&str]) -> Result<LinkRecord, MpiError> {
        if fields.len() != CSV_COLUMNS.len() {
            return Err(MpiError::Csv {
                row,
                problem: format!(
                    "expected {} columns, found {}",
                    CSV_COLUMNS.len(),
                    fields.len()
                ),
            });
        }
        let get = |i: usize| -> Option<String> {
            fields
                .get(i)
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let record_id = get(0).ok_or(MpiError::BadField {
            row,
            column: "record_id",
            problem: "must not be empty",
        })?;
        let sex = match get(5).as_deref() {
            None => None,
            Some("1" | "M" | "m") => Some(Sex::Male),
            Some("2" | "F" | "f") => Some(Sex::Female),
            Some("0" | "9" | "U" | "u") => None,
            Some(_) => {
                return Err(MpiError::BadField {
                    row,
                    column: "sex",
                    problem: "expected 1, 2, M or F",
                });
            }
        };
        let birth_date = match get(6) {
            None => None,
            Some(s) => Some(parse_birth_date(&s).ok_or(MpiError::BadField {
                row,
                column: "birth_date",
                problem: "expected a calendar date as YYYYMMDD or YYYY-MM-DD",
            })?),
        };
        Ok(LinkRecord {
            record_id,
            facility: get(1).unwrap_or_default(),
            local_id: get(2).unwrap_or_default(),
            name_kanji: get(3),
            name_kana: get(4),
            sex,
            birth_date,
            postal_code: get(7),
            address: get(8),
            insurer_number: get(9),
            insured_symbol: get(10),
            insured_number: get(11),
            insured_branch: get(12),
        })
    }

    /// The record as CSV fields in the order of [`CSV_COLUMNS`] (sex as `1`/`2`, birth date
    /// as `YYYYMMDD`).
    pub fn to_csv_fields(&self) -> [String; 13] {
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        [
            self.record_id.clone(),
            self.facility.clone(),
            self.local_id.clone(),
            opt(&self.name_kanji),
            opt(&self.name_kana),
            match self.sex {
                Some(Sex::Male) => "1".to_owned(),
                Some(Sex::Female) => "2".to_owned(),
                _ => String::new(),
            },
            self.birth_date
                .map(|(y, m, d)| format!("{y:04}{m:02}{d:02}"))
                .unwrap_or_default(),
            opt(&self.postal_code),
            opt(&self.address),
            opt(&self.insurer_number),
            opt(&self.insured_symbol),
            opt(&self.insured_number),
            opt(&self.insured_branch),
        ]
    }
}

/// `YYYYMMDD` or `YYYY-MM-DD` (ASCII digits), validated against the calendar.
pub(crate) fn parse_birth_date(s: &str) -> Option<(i32, u8, u8)> {
    let digits: String = match s.len() {
        8 => s.to_owned(),
        10 => {
            let b = s.as_bytes();
            if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
                return None;
            }
            s.chars().filter(|&c| c != '-').collect()
        }
        _ => return None,
    };
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = digits.get(0..4)?.parse().ok()?;
    let month: u8 = digits.get(4..6)?.parse().ok()?;
    let day: u8 = digits.get(6..8)?.parse().ok()?;
    (valid_date(year, month, day) && year >= 1800).then_some((year, month, day))
}

pub(crate) fn valid_date(year: i32, month: u8, day: u8) -> bool {
    (1..=days_in_month(year, month)).contains(&day)
}

pub(crate) fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Reads records from CSV with a header naming the columns of [`CSV_COLUMNS`] (in any order;
/// other columns are ignored). UTF-8 (a BOM is skipped). `record_id` must be unique.
pub fn read_csv<R: std::io::Read>(r: R) -> Result<Vec<LinkRecord>, MpiError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(r);
    let headers = reader.byte_headers().map_err(|e| csv_error(&e, 1))?.clone();
    let mut positions = [0usize; 13];
    for (slot, column) in positions.iter_mut().zip(CSV_COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| trim_bom(h) == column.as_bytes())
            .ok_or(MpiError::MissingColumn { column })?;
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line_hint = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(&e, line_hint)),
        }
        let row = record.position().map_or(line_hint, csv::Position::line);
        if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue; // blank line
        }
        let mut fields = [""; 13];
        for (field, &pos) in fields.iter_mut().zip(&positions) {
            *field = record.get(pos).ok_or_else(|| MpiError::Csv {
                row,
                problem: format!(
                    "expected at least {} columns, found {}",
                    pos + 1,
                    record.len()
                ),
            })?;
        }
        let rec = LinkRecord::from_csv_row(row, &fields)?;
        if !seen.insert(rec.record_id.clone()) {
            return Err(MpiError::DuplicateRecordId { row });
        }
        out.push(rec);
    }
    Ok(out)
}

fn trim_bom(h: &[u8]) -> &[u8] {
    h.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(h)
}

/// Describes a CSV error without quoting any field.
fn csv_error(e: &csv::Error, line_hint: u64) -> MpiError {
    match e.kind() {
        csv::ErrorKind::Utf8 { pos, err } => MpiError::Csv {
            row: pos.as_ref().map_or(line_hint, csv::Position::line),
            problem: format!("field {} is not valid UTF-8", err.field() + 1),
        },
        csv::ErrorKind::UnequalLengths { pos, .. } => MpiError::Csv {
            row: pos.as_ref().map_or(line_hint, csv::Position::line),
            problem: "wrong number of columns".to_owned(),
        },
        csv::ErrorKind::Io(io) => MpiError::Csv {
            row: line_hint,
            problem: format!("I/O error: {}", io.kind()),
        },
        _ => MpiError::Csv {
            row: line_hint,
            problem: "malformed CSV".to_owned(),
        },
    }
}

fn write_error(e: csv::Error) -> MpiError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => MpiError::Io(io),
        _ => MpiError::CsvWrite,
    }
}

/// Writes `record_id,cluster_id` with a header.
pub fn write_clusters<W: std::io::Write>(
    w: W,
    clusters: &[(String, String)],
) -> Result<(), MpiError> {
    let mut writer = csv::Writer::from_writer(w);
    let wrap = write_error;
    writer
        .write_record(["record_id", "cluster_id"])
        .map_err(wrap)?;
    for (record_id, cluster_id) in clusters {
        writer
            .write_record([record_id.as_str(), cluster_id.as_str()])
            .map_err(wrap)?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes records as CSV with the header of [`CSV_COLUMNS`] (for `renkei link` input and
/// for running other tools on synthetic data).
pub fn write_csv<W: std::io::Write>(w: W, records: &[LinkRecord]) -> Result<(), MpiError> {
    let mut writer = csv::Writer::from_writer(w);
    let wrap = write_error;
    writer.write_record(CSV_COLUMNS).map_err(wrap)?;
    for r in records {
        writer.write_record(r.to_csv_fields()).map_err(wrap)?;
    }
    writer.flush()?;
    Ok(())
}
