//! Files in documents: photos lose their metadata before any record is made, unreadable files
//! refuse the input, and the viewer finds every file of a stored document in section order.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failure fails the calling test"
)]

use crate::FACILITY;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use renkei_fhir::attachment::{self, FileKind};
use renkei_fhir::parse_submission;
use renkei_testkit::attachments::{FAKE_GPS_TEXT, grey_jpeg, photo_with_gps_jpeg, wound_photo_png};
use serde_json::{Value, json};

/// A referral (plain FHIR document, not CLINS) whose 身体所見 section names a DocumentReference
/// with `files` as its attachments.
fn referral_with(files: Vec<Value>) -> Value {
    json!({
        "resourceType": "Bundle",
        "type": "document",
        "identifier": { "system": "urn:ietf:rfc:3986", "value": "urn:uuid:0b6a3c1e-0000-4000-8000-000000000001" },
        "entry": [
            { "fullUrl": "urn:uuid:c", "resource": {
                "resourceType": "Composition", "status": "final",
                "type": { "coding": [{ "system": "http://loinc.org", "code": "57133-1" }] },
                "subject": { "reference": "urn:uuid:p" },
                "date": "2025-04-01", "title": "診療情報提供書",
                "section": [
                    { "title": "紹介目的", "text": { "div": "<div>精査依頼</div>" } },
                    { "title": "身体所見", "text": { "div": "<div>写真を添付</div>" },
                      "entry": [{ "reference": "urn:uuid:d" }] }
                ]
            } },
            { "fullUrl": "urn:uuid:p", "resource": {
                "resourceType": "Patient",
                "identifier": [{ "system": format!("urn:oid:1.2.392.100495.20.3.51.1{FACILITY}"), "value": "00123" }]
            } },
            { "fullUrl": "urn:uuid:d", "resource": {
                "resourceType": "DocumentReference", "status": "current",
                "subject": { "reference": "urn:uuid:p" },
                "content": files.into_iter().map(|a| json!({ "attachment": a })).collect::<Vec<_>>()
            } }
        ]
    })
}

fn parse(bundle: &Value) -> Result<renkei_fhir::Submission, renkei_fhir::FhirError> {
    parse_submission(&serde_json::to_vec(bundle).unwrap(), FACILITY)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The first stored file of the document record, decoded, with its attachment element.
fn stored_file(sub: &renkei_fhir::Submission) -> (Vec<u8>, Value) {
    let doc = &sub.records[0].resource;
    let a = doc["entry"][2]["resource"]["content"][0]["attachment"].clone();
    let bytes = STANDARD.decode(a["data"].as_str().unwrap()).unwrap();
    (bytes, a)
}

#[test]
fn photos_in_documents_lose_their_metadata_and_keep_their_picture() {
    let photo = photo_with_gps_jpeg();
    assert!(contains(&photo, FAKE_GPS_TEXT.as_bytes()));
    let sub = parse(&referral_with(vec![json!({
        "contentType": "image/jpeg", "title": "創部写真",
        "data": STANDARD.encode(&photo),
    })]))
    .unwrap();
    let (stored, _) = stored_file(&sub);
    assert!(!contains(&stored, FAKE_GPS_TEXT.as_bytes()), "no GPS text");
    assert!(!contains(&stored, b"Exif"), "no EXIF segment");
    assert!(!contains(&stored, b"xmpmeta"), "no XMP packet");
    assert_eq!(
        stored,
        grey_jpeg(),
        "exactly the picture: tables, frame and scan unchanged, nothing after its end"
    );
}

#[test]
fn png_text_and_exif_chunks_are_removed() {
    let clean = wound_photo_png(1);
    // Put a tEXt chunk with a position and an eXIf chunk after IHDR (8 + 25 bytes).
    let mut tagged = clean[..33].to_vec();
    tagged.extend(img_chunk(
        b"tEXt",
        format!("Comment\0{FAKE_GPS_TEXT}").as_bytes(),
    ));
    tagged.extend(img_chunk(b"eXIf", b"MM\0\x2a\0\0\0\x08\0\0"));
    tagged.extend_from_slice(&clean[33..]);
    let sub = parse(&referral_with(vec![json!({
        "contentType": "image/png", "data": STANDARD.encode(&tagged),
    })]))
    .unwrap();
    let (stored, _) = stored_file(&sub);
    assert_eq!(stored, clean);
}

/// A PNG chunk with its CRC.
fn img_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    img_parts::png::PngChunk::new(*kind, img_parts::Bytes::copy_from_slice(data))
        .encoder()
        .bytes()
        .to_vec()
}

#[test]
fn size_and_hash_describe_the_file_as_stored() {
    let photo = photo_with_gps_jpeg();
    let sub = parse(&referral_with(vec![json!({
        "contentType": "image/jpeg", "data": STANDARD.encode(&photo),
        "size": photo.len(), "hash": "AAAA",
    })]))
    .unwrap();
    let (stored, a) = stored_file(&sub);
    assert_eq!(a["size"], json!(stored.len()));
    use sha1::Digest;
    assert_eq!(
        a["hash"],
        json!(STANDARD.encode(sha1::Sha1::digest(&stored)))
    );
}

#[test]
fn a_file_that_is_not_base64_refuses_the_input_with_its_path() {
    let e = parse(&referral_with(vec![json!({
        "contentType": "application/pdf", "data": "JVBERi0x!!not base64",
    })]))
    .unwrap_err();
    assert_eq!(e.rule(), "attachment-data-not-base64");
    assert!(
        e.to_string()
            .contains("entry[2].resource.content[0].attachment"),
        "{e}"
    );
    assert!(e.message_ja().contains("Base64"));
}

#[test]
fn quarantine_cleans_every_readable_photo_even_beside_a_broken_file_or_after_a_byte_order_mark() {
    let bundle = referral_with(vec![
        json!({ "contentType": "application/pdf", "data": "JVBERi0x!!not base64" }),
        json!({ "contentType": "image/jpeg", "data": STANDARD.encode(photo_with_gps_jpeg()) }),
    ]);
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(serde_json::to_vec(&bundle).unwrap());
    assert!(
        parse_submission(&bytes, FACILITY).is_err(),
        "the input is refused"
    );
    let kept = attachment::scrub_payload(&bytes).expect("cleaned");
    let kept: Value = serde_json::from_slice(&kept).unwrap();
    let photo = kept["entry"][2]["resource"]["content"][1]["attachment"]["data"]
        .as_str()
        .unwrap();
    let photo = STANDARD.decode(photo).unwrap();
    assert!(!contains(&photo, FAKE_GPS_TEXT.as_bytes()), "no GPS kept");
    assert_eq!(photo, grey_jpeg());
    assert_eq!(
        kept["entry"][2]["resource"]["content"][0]["attachment"]["data"], "JVBERi0x!!not base64",
        "the broken file is kept as it came"
    );
}

#[test]
fn a_photo_that_cannot_be_read_refuses_the_input() {
    // Labelled JPEG, but truncated inside its first segment: its metadata cannot be removed.
    let photo = photo_with_gps_jpeg();
    let e = parse(&referral_with(vec![json!({
        "contentType": "image/jpeg", "data": STANDARD.encode(&photo[..30]),
    })]))
    .unwrap_err();
    assert_eq!(e.rule(), "attachment-image-unreadable");
    // Labelled JPEG, but some other format (HEIC, TIFF...) this network cannot clean.
    let e = parse(&referral_with(vec![json!({
        "contentType": "image/jpeg", "data": STANDARD.encode(b"II*\0not a jpeg"),
    })]))
    .unwrap_err();
    assert_eq!(e.rule(), "attachment-image-unreadable");
    assert!(!e.to_string().contains("not a jpeg"), "no content echoed");
}

#[test]
fn a_photo_labelled_as_something_else_is_cleaned_all_the_same() {
    let sub = parse(&referral_with(vec![json!({
        "contentType": "application/octet-stream",
        "data": STANDARD.encode(photo_with_gps_jpeg()),
    })]))
    .unwrap();
    let (stored, _) = stored_file(&sub);
    assert_eq!(stored, grey_jpeg());
}

#[test]
fn sampled_data_is_not_taken_for_a_file() {
    let obs = json!({
        "resourceType": "Observation", "status": "final",
        "code": { "text": "心電図" },
        "subject": { "identifier": { "system": format!("urn:oid:1.2.392.100495.20.3.51.1{FACILITY}"), "value": "00123" } },
        "valueSampledData": { "origin": { "value": 0 }, "period": 1, "dimensions": 1, "data": "1 2 3 E" }
    });
    assert!(parse(&obs).is_ok());
}

#[test]
fn the_files_of_a_document_come_in_section_order_with_their_binaries() {
    let png = STANDARD.encode(wound_photo_png(2));
    let mut bundle = referral_with(vec![
        json!({ "contentType": "image/png", "data": png, "title": "創部" }),
        json!({ "contentType": "application/pdf", "url": "https://example.org/report.pdf" }),
        json!({ "contentType": "application/pdf", "url": "urn:uuid:b" }),
    ]);
    let entries = bundle["entry"].as_array_mut().unwrap();
    entries.push(json!({ "fullUrl": "urn:uuid:b", "resource": {
        "resourceType": "Binary", "contentType": "application/pdf", "data": "JVBERi0xLjQK"
    } }));
    entries.push(json!({ "fullUrl": "urn:uuid:r", "resource": {
        "resourceType": "DiagnosticReport", "status": "final", "code": { "text": "CT" },
        "subject": { "reference": "urn:uuid:p" },
        "presentedForm": [{ "contentType": "application/pdf", "data": "JVBERi0xLjQK", "title": "読影レポート" }]
    } }));
    let files = attachment::attachments(&bundle);
    type Seen<'a> = (Option<&'a str>, bool, Option<&'a str>, Option<Vec<usize>>);
    let summary: Vec<Seen<'_>> = files
        .iter()
        .map(|a| (a.content_type, a.data.is_some(), a.url, a.section.clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Some("image/png"), true, None, Some(vec![1])),
            (
                Some("application/pdf"),
                false,
                Some("https://example.org/report.pdf"),
                Some(vec![1])
            ),
            // The Binary the url names is the attachment's content, not a file of its own.
            (Some("application/pdf"), true, None, Some(vec![1])),
            (Some("application/pdf"), true, None, None),
        ]
    );
    assert_eq!(files[0].title, Some("創部"));
    assert_eq!(files[3].title, Some("読影レポート"));
}

#[test]
fn file_kinds_are_told_by_their_bytes_and_their_labels() {
    assert_eq!(FileKind::sniff(&grey_jpeg()), FileKind::Jpeg);
    assert_eq!(FileKind::sniff(&wound_photo_png(0)), FileKind::Png);
    assert_eq!(FileKind::sniff(b"%PDF-1.7"), FileKind::Pdf);
    assert_eq!(FileKind::sniff(b"<html>"), FileKind::Other);
    assert_eq!(FileKind::declared("Image/JPEG; q=1"), FileKind::Jpeg);
    assert_eq!(FileKind::declared("text/html"), FileKind::Other);
}
