//! The CSV interface of `renkei link` (issue 4 item 6).

use renkei_mpi::{CSV_COLUMNS, LinkRecord, MpiError, Sex, read_csv, write_clusters, write_csv};

const HEADER: &str = "record_id,facility,local_id,name_kanji,name_kana,sex,birth_date,postal_code,address,insurer_number,insured_symbol,insured_number,insured_branch";

#[test]
fn csv_rows_parse_both_date_forms_and_sex_codes() {
    let text = format!(
        "{HEADER}\n\
         r1,H1,001,山田　太郎,ヤマダ　タロウ,1,19800102,410-0801,沼津市大手町1-2-3,01220012,123,45,00\n\
         r2,Y1,9,,ﾔﾏﾀﾞ ﾀﾛｳ,M,1980-01-02,,,,,,\n\
         r3,C1,x,,,F,,,,,,,\n\
         r4,C1,y,,,2,,,,,,,\n\
         r5,C1,z,,,,,,,,,,\n"
    );
    let recs = read_csv(text.as_bytes()).unwrap();
    assert_eq!(recs.len(), 5);
    assert_eq!(recs[0].birth_date, Some((1980, 1, 2)));
    assert_eq!(recs[1].birth_date, Some((1980, 1, 2)));
    assert_eq!(recs[0].sex, Some(Sex::Male));
    assert_eq!(recs[1].sex, Some(Sex::Male));
    assert_eq!(recs[2].sex, Some(Sex::Female));
    assert_eq!(recs[3].sex, Some(Sex::Female));
    assert_eq!(recs[4].sex, None);
    assert_eq!(recs[1].name_kanji, None);
    assert_eq!(recs[0].insured_branch.as_deref(), Some("00"));
}

#[test]
fn csv_columns_may_come_in_any_order_with_extra_columns() {
    let mut cols: Vec<&str> = CSV_COLUMNS.to_vec();
    cols.reverse();
    cols.push("note");
    let header = cols.join(",");
    let text = format!("\u{FEFF}{header}\n,,,,,,1980-01-02,1,,,,X1,r1,memo\n");
    let recs = read_csv(text.as_bytes()).unwrap();
    assert_eq!(recs[0].record_id, "r1");
    assert_eq!(recs[0].facility, "X1");
    assert_eq!(recs[0].birth_date, Some((1980, 1, 2)));
    assert_eq!(recs[0].sex, Some(Sex::Male));
}

fn error_of(rows: &str) -> MpiError {
    read_csv(format!("{HEADER}\n{rows}").as_bytes()).unwrap_err()
}

#[test]
fn a_bad_birth_date_names_row_and_column_but_not_the_value() {
    let e = error_of("r1,H1,1,,,1,19800102,,,,,,\nr2,H1,2,,,1,19800231,,,,,,\n");
    match &e {
        MpiError::BadField { row, column, .. } => {
            assert_eq!(*row, 3);
            assert_eq!(*column, "birth_date");
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = e.to_string();
    assert!(msg.contains("row 3") && msg.contains("birth_date"), "{msg}");
    assert!(!msg.contains("19800231"), "{msg}");
    for bad in [
        "1980/01/02",
        "80-01-02",
        "19801302",
        "2024-02-30",
        "昭和55年1月2日",
    ] {
        let e = error_of(&format!("r1,H1,1,,,1,{bad},,,,,,\n"));
        assert!(
            matches!(
                e,
                MpiError::BadField {
                    column: "birth_date",
                    ..
                }
            ),
            "{bad}: {e:?}"
        );
        assert!(!e.to_string().contains(bad));
    }
}

#[test]
fn a_bad_sex_code_names_row_and_column_but_not_the_value() {
    let e = error_of("r1,H1,1,,,X7,,,,,,,\n");
    assert!(
        matches!(
            e,
            MpiError::BadField {
                row: 2,
                column: "sex",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!e.to_string().contains("X7"));
}

#[test]
fn an_empty_record_id_and_a_duplicate_record_id_are_errors() {
    let e = error_of(",H1,1,,,,,,,,,,\n");
    assert!(
        matches!(
            e,
            MpiError::BadField {
                row: 2,
                column: "record_id",
                ..
            }
        ),
        "{e:?}"
    );
    let e = error_of("r1,H1,1,,,,,,,,,,\nr1,H1,2,,,,,,,,,,\n");
    assert!(matches!(e, MpiError::DuplicateRecordId { row: 3 }), "{e:?}");
}

#[test]
fn a_missing_column_or_a_short_row_is_an_error() {
    let e = read_csv("record_id,facility\nr1,H1\n".as_bytes()).unwrap_err();
    assert!(
        matches!(e, MpiError::MissingColumn { column: "local_id" }),
        "{e:?}"
    );
    let e = error_of("r1,H1,1\n");
    assert!(matches!(e, MpiError::Csv { row: 2, .. }), "{e:?}");
}

#[test]
fn invalid_utf8_is_an_error_without_the_bytes() {
    let mut bytes = format!("{HEADER}\nr1,H1,1,").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe,,,,,,,,,\n");
    let e = read_csv(bytes.as_slice()).unwrap_err();
    assert!(matches!(e, MpiError::Csv { row: 2, .. }), "{e:?}");
}

#[test]
fn clusters_are_written_as_record_id_and_cluster_id() {
    let mut out = Vec::new();
    write_clusters(
        &mut out,
        &[("r1".into(), "c1".into()), ("r2".into(), "c1".into())],
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "record_id,cluster_id\nr1,c1\nr2,c1\n"
    );
}

#[test]
fn written_records_read_back_unchanged() {
    let (records, _) = renkei_mpi::synth::generate(30, 5);
    let mut out = Vec::new();
    write_csv(&mut out, &records).unwrap();
    let back: Vec<LinkRecord> = read_csv(out.as_slice()).unwrap();
    assert_eq!(back, records);
}
