//! The CLINS lab code set as data: the JLAC10 codes of 臨床検査項目 指定検査43項目 ("core") and
//! 指定感染症5項目 ("infection"), each with its FHIR識別名 (item). The table is
//! `data/clins-lab-codes.tsv`, whose header names its source (JP-CLINS IG v1.5.3 CodeSystems
//! `JP_CLINS_ObsLabResult_CoreLabo_CS` / `_InfectionLabo_CS`, version 1.5.0).

use std::sync::OnceLock;

static TABLE_TSV: &str = include_str!("../data/clins-lab-codes.tsv");

/// Which CLINS list a code belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LabSet {
    /// 臨床検査項目 指定検査43項目 (the guide's CoreLabo CodeSystem; 55 FHIR識別名).
    Core,
    /// 指定感染症5項目 (HBV, HCV, HIV, syphilis STS/TP; the InfectionLabo CodeSystem).
    Infection,
}

/// One code of the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabCode {
    pub set: LabSet,
    /// FHIR識別名, e.g. `ALB`, `HbA1c-NGSP`, `HIV-1P2-AB-RESULT`.
    pub item: &'static str,
    /// JLAC10 17-digit code.
    pub code: &'static str,
    pub display: &'static str,
}

/// Every code of the set, sorted by code.
pub fn lab_code_set() -> &'static [LabCode] {
    static TABLE: OnceLock<Vec<LabCode>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows: Vec<LabCode> = TABLE_TSV
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .filter_map(|line| {
                let mut cols = line.split('\t');
                let set = match cols.next()? {
                    "core" => LabSet::Core,
                    "infection" => LabSet::Infection,
                    _ => return None,
                };
                Some(LabCode {
                    set,
                    item: cols.next()?,
                    code: cols.next()?,
                    display: cols.next()?,
                })
            })
            .collect();
        rows.sort_by(|a, b| a.code.cmp(b.code));
        rows
    })
}

/// The entry for a JLAC10 code, if it is in the CLINS set.
pub fn lookup(code: &str) -> Option<&'static LabCode> {
    let table = lab_code_set();
    table
        .binary_search_by(|row| row.code.cmp(code))
        .ok()
        .and_then(|i| table.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_table_has_every_row_of_the_published_code_systems() {
        let table = lab_code_set();
        let count = |set| table.iter().filter(|r| r.set == set).count();
        // JP_CLINS_CodeSystem_JLAC10_CoreLabo.fsh: 437 codes; _InfectionLabo.fsh: 255 codes.
        assert_eq!(count(LabSet::Core), 437);
        assert_eq!(count(LabSet::Infection), 255);
        let items = |set| {
            table
                .iter()
                .filter(|r| r.set == set)
                .map(|r| r.item)
                .collect::<BTreeSet<_>>()
                .len()
        };
        assert_eq!(items(LabSet::Core), 55);
        assert_eq!(items(LabSet::Infection), 53);
        let codes: BTreeSet<_> = table.iter().map(|r| r.code).collect();
        assert_eq!(
            codes.len(),
            table.len(),
            "codes are unique across both sets"
        );
        assert!(
            table
                .iter()
                .all(|r| r.code.len() == 17 && r.code.bytes().all(|b| b.is_ascii_alphanumeric()))
        );
    }

    #[test]
    fn lookup_finds_the_items_of_the_guides_examples() {
        assert_eq!(lookup("3A015000001827101").map(|r| r.item), Some("ALB"));
        assert_eq!(lookup("3H015000002326101").map(|r| r.item), Some("K"));
        assert_eq!(lookup("1A990000000190153").map(|r| r.item), Some("U-TP"));
        // eGFR is not one of the 43 items: it is sent as a general JLAC10 code.
        assert_eq!(lookup("8A065000002391901"), None);
        let hiv = lab_code_set().iter().find(|r| r.item.starts_with("HIV"));
        assert_eq!(hiv.map(|r| r.set), Some(LabSet::Infection));
    }
}
