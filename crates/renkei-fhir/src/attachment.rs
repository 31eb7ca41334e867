//! Files inside FHIR resources: `Attachment`s (DocumentReference.content, DiagnosticReport
//! .presentedForm, Media.content) and `Binary` resources — finding them in a stored record in a
//! stable order, telling what kind of file they hold, and removing photo metadata.
//!
//! A phone photo carries where it was taken (EXIF GPS), the device and the time. A wound photo
//! attached to a referral must not tell everyone who opens it where the patient lives, so
//! ingestion ([`sanitize`], run by `parse_submission`) rewrites every JPEG and PNG it finds
//! without its metadata before the record leaves this crate, and the viewer strips again when it
//! serves a file ([`without_metadata`]). Pixels are never re-encoded: `img-parts` drops whole
//! segments and chunks. What is kept is what a decoder needs to show the picture as taken: the
//! image data, colour (ICC profiles, the Adobe colour transform, PNG gamma and chromaticity) and
//! transparency.
//!
//! Undecodable base64, or a JPEG/PNG that cannot be read (so its metadata cannot be removed),
//! refuses the whole input ([`FhirError::AttachmentData`], [`FhirError::AttachmentImage`]).

use crate::error::FhirError;
use crate::json::{list, str_of};
use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use img_parts::Bytes;
use img_parts::jpeg::{Jpeg, JpegSegment, markers};
use img_parts::png::Png;
use serde_json::Value;
use sha1::{Digest, Sha1};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// FHIR `base64Binary` as senders write it: standard alphabet, padding optional (some
/// exporters drop it). Whitespace (line-wrapped base64) is removed before decoding.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What a file is, by its first bytes (or by a declared MIME type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    Jpeg,
    Png,
    Pdf,
    /// Anything else: never shown inline, only offered as a download.
    Other,
}

impl FileKind {
    /// The kind the bytes actually are.
    pub fn sniff(bytes: &[u8]) -> Self {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Self::Jpeg
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Self::Png
        } else if bytes.starts_with(b"%PDF-") {
            Self::Pdf
        } else {
            Self::Other
        }
    }

    /// The kind a `contentType` declares (parameters and case ignored).
    pub fn declared(content_type: &str) -> Self {
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match mime.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Self::Jpeg,
            "image/png" => Self::Png,
            "application/pdf" => Self::Pdf,
            _ => Self::Other,
        }
    }

    /// The MIME type to serve it as.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Pdf => "application/pdf",
            Self::Other => "application/octet-stream",
        }
    }

    /// A file name extension, with its dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => ".jpg",
            Self::Png => ".png",
            Self::Pdf => ".pdf",
            Self::Other => ".bin",
        }
    }

    pub fn is_image(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png)
    }
}

/// Decode FHIR `base64Binary`.
pub fn decode_base64(data: &str) -> Option<Vec<u8>> {
    let compact: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    LENIENT.decode(compact.as_bytes()).ok()
}

/// The first bytes of base64 content, enough to sniff its kind without decoding it all.
pub fn decode_prefix(data: &str) -> Vec<u8> {
    let head: String = data
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .take(16)
        .collect();
    LENIENT.decode(head.as_bytes()).unwrap_or_default()
}

/// Why an image's metadata could not be removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StripError {
    #[error("the JPEG cannot be read")]
    Jpeg,
    #[error("the PNG cannot be read")]
    Png,
}

/// The file without its metadata when it is a JPEG or PNG (by its bytes, whatever it was
/// labelled); anything else unchanged.
pub fn without_metadata(bytes: &[u8]) -> Result<Cow<'_, [u8]>, StripError> {
    match FileKind::sniff(bytes) {
        FileKind::Jpeg => strip_jpeg(bytes).map(Cow::Owned),
        FileKind::Png => strip_png(bytes).map(Cow::Owned),
        FileKind::Pdf | FileKind::Other => Ok(Cow::Borrowed(bytes)),
    }
}

/// Whether a JPEG marker segment is metadata: every APPn (EXIF and XMP are APP1, Photoshop IPTC
/// APP13, maker notes and MPF elsewhere) except the two a decoder needs — the ICC colour profile
/// (APP2 `ICC_PROFILE`) and Adobe's colour transform (APP14 `Adobe`) — and comments (COM).
fn is_jpeg_metadata(marker: u8, contents: &[u8]) -> bool {
    match marker {
        markers::APP2 => !contents.starts_with(b"ICC_PROFILE\0"),
        markers::APP14 => !contents.starts_with(b"Adobe"),
        markers::APP0..=markers::APP15 | markers::COM => true,
        _ => false,
    }
}

fn strip_jpeg(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    let mut jpeg = Jpeg::from_bytes(Bytes::copy_from_slice(bytes)).map_err(|_| StripError::Jpeg)?;
    let segments = jpeg.segments_mut();
    segments.retain(|s| !is_jpeg_metadata(s.marker(), s.contents()));
    // img-parts keeps everything after the first scan header as that scan's data: later scans,
    // segments between them, the end marker and whatever follows it (a second picture with its
    // own EXIF — MPF — or a vendor trailer). Clean that part too.
    if let Some(last) = segments.last_mut()
        && last.has_entropy()
    {
        let encoded = last.clone().encoder().bytes();
        let header = last.len();
        let entropy = encoded.get(header..).ok_or(StripError::Jpeg)?;
        *last = JpegSegment::new_with_entropy(
            last.marker(),
            last.contents().clone(),
            Bytes::from(clean_scans(entropy)),
        );
    }
    Ok(jpeg.encoder().bytes().to_vec())
}

/// The scan data of a JPEG from its first scan on, without metadata segments between scans and
/// without anything after the end-of-image marker.
fn clean_scans(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        if b != 0xFF {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&m) = data.get(i + 1) else {
            out.push(b);
            break;
        };
        match m {
            // A stuffed 0xFF data byte, a restart marker, or a fill byte before a marker.
            0x00 | markers::RST0..=markers::RST7 => {
                out.extend_from_slice(&[0xFF, m]);
                i += 2;
            }
            0xFF => {
                out.push(0xFF);
                i += 1;
            }
            markers::EOI => {
                out.extend_from_slice(&[0xFF, markers::EOI]);
                return out;
            }
            // Markers without a length.
            0x01 | markers::SOI => {
                out.extend_from_slice(&[0xFF, m]);
                i += 2;
            }
            // A segment between scans (tables, the next scan header, or metadata).
            _ => {
                let len = match (data.get(i + 2), data.get(i + 3)) {
                    (Some(&hi), Some(&lo)) => usize::from(u16::from_be_bytes([hi, lo])),
                    _ => {
                        out.extend_from_slice(data.get(i..).unwrap_or_default());
                        break;
                    }
                };
                let end = (i + 2 + len).min(data.len());
                let contents = data.get(i + 4..end).unwrap_or_default();
                if !is_jpeg_metadata(m, contents) {
                    out.extend_from_slice(data.get(i..end).unwrap_or_default());
                }
                i = end;
            }
        }
    }
    out
}

/// PNG chunks a decoder needs to show the picture as taken. Everything else goes: text
/// (`tEXt`, `zTXt`, `iTXt`), `eXIf`, `tIME`, and private or unknown chunks.
const PNG_KEPT: [&[u8; 4]; 13] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"bKGD", b"pHYs", b"cICP",
];

fn strip_png(bytes: &[u8]) -> Result<Vec<u8>, StripError> {
    let mut png = Png::from_bytes(Bytes::copy_from_slice(bytes)).map_err(|_| StripError::Png)?;
    png.chunks_mut()
        .retain(|c| PNG_KEPT.iter().any(|k| **k == c.kind()));
    Ok(png.encoder().bytes().to_vec())
}

/// Whether a JSON object is a file: an `Attachment` or a `Binary` (FHIR att-1: data comes with
/// a contentType). `SampledData.data` has no contentType and is never taken for one.
fn is_file(obj: &serde_json::Map<String, Value>) -> bool {
    obj.get("data").is_some_and(Value::is_string)
        && obj.get("contentType").is_some_and(Value::is_string)
}

/// A FHIR payload as quarantine may keep it: the same JSON with photo metadata removed, or
/// `None` when nothing had to change. Input held for another reason (an unregistered patient,
/// a broken rule, a file that cannot be read) must not keep the position of a patient's home
/// in a wound photo either: every readable file is cleaned even when another one is broken.
/// When the payload is not JSON it cannot be cleaned and is kept as it came (`None`).
pub fn scrub_payload(bytes: &[u8]) -> Option<Vec<u8>> {
    // The same UTF-8 byte order mark `parse` accepts.
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut root: Value = serde_json::from_slice(text).ok()?;
    let mut first_error = None;
    if !sanitize_at(&mut root, &mut String::new(), &mut first_error) {
        return None;
    }
    serde_json::to_vec(&root).ok()
}

/// Check every file in a payload and remove photo metadata, in place. `size` and `hash`
/// (SHA-1, base64, as FHIR defines it) are brought up to date when present and the file
/// changed. The first file that cannot be read is the error; the others are cleaned anyway.
pub(crate) fn sanitize(root: &mut Value) -> Result<(), FhirError> {
    let mut first_error = None;
    sanitize_at(root, &mut String::new(), &mut first_error);
    first_error.map_or(Ok(()), Err)
}

/// Walk `v`, cleaning every file; whether anything changed. The first failure is kept in
/// `first_error`.
fn sanitize_at(v: &mut Value, path: &mut String, first_error: &mut Option<FhirError>) -> bool {
    let mut changed = false;
    match v {
        Value::Object(obj) => {
            if is_file(obj) {
                match sanitize_file(obj, path) {
                    Ok(c) => changed |= c,
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            for (key, child) in obj.iter_mut() {
                if matches!(child, Value::Object(_) | Value::Array(_)) {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(element_name(key));
                    changed |= sanitize_at(child, path, first_error);
                    path.truncate(len);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                changed |= sanitize_at(item, path, first_error);
                path.truncate(len);
            }
        }
        _ => {}
    }
    changed
}

/// A key as it may appear in an error message: FHIR element names only, never free text.
fn element_name(key: &str) -> &str {
    if !key.is_empty()
        && key.len() <= 64
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        key
    } else {
        "(element)"
    }
}

/// Clean one file in place; whether it changed.
fn sanitize_file(obj: &mut serde_json::Map<String, Value>, path: &str) -> Result<bool, FhirError> {
    let here = || if path.is_empty() { "(root)" } else { path }.to_owned();
    let data = obj.get("data").and_then(Value::as_str).unwrap_or_default();
    let bytes = decode_base64(data).ok_or_else(|| FhirError::AttachmentData { path: here() })?;
    let declared = obj
        .get("contentType")
        .and_then(Value::as_str)
        .map(FileKind::declared)
        .unwrap_or(FileKind::Other);
    let sniffed = FileKind::sniff(&bytes);
    if declared.is_image() && !sniffed.is_image() {
        // Labelled a photo but not one this network can clean (HEIC, TIFF, or broken).
        return Err(FhirError::AttachmentImage { path: here() });
    }
    let clean =
        without_metadata(&bytes).map_err(|_| FhirError::AttachmentImage { path: here() })?;
    if clean.as_ref() == bytes.as_slice() {
        return Ok(false);
    }
    let clean = clean.into_owned();
    if obj.contains_key("size") {
        obj.insert("size".into(), Value::from(clean.len()));
    }
    if obj.contains_key("hash") {
        obj.insert(
            "hash".into(),
            Value::from(STANDARD.encode(Sha1::digest(&clean))),
        );
    }
    obj.insert("data".into(), Value::from(STANDARD.encode(&clean)));
    Ok(true)
}

/// One file of a stored record, in the order [`attachments`] numbers them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment<'a> {
    pub content_type: Option<&'a str>,
    pub title: Option<&'a str>,
    /// The base64 content, when the record carries it: in the attachment itself, or in a Binary
    /// of the same Bundle that the attachment's `url` names.
    pub data: Option<&'a str>,
    /// Where the file is kept outside the record, when it is not carried. The network never
    /// fetches it.
    pub url: Option<&'a str>,
    /// For a document Bundle, the Composition section that refers to the resource holding the
    /// file, as indices: `[2, 0]` is `section[2].section[0]`. `None` when no section does.
    pub section: Option<Vec<usize>>,
}

/// The files of a stored record (a resource, or a document Bundle). In a Bundle they come in
/// the order of the Composition's sections (depth first) and their entries, then those of
/// entries no section names, in entry order. A Binary that an attachment's `url` names is shown
/// as that attachment, not again on its own.
pub fn attachments(resource: &Value) -> Vec<Attachment<'_>> {
    if str_of(resource, "resourceType") != Some("Bundle") {
        let mut out = Vec::new();
        files_of(resource, None, &Entries::default(), &mut out);
        return out;
    }
    let bundle = Entries::of(resource);
    // Binaries reached through an attachment's url.
    let behind_urls: HashSet<usize> = bundle
        .resources()
        .flat_map(attachment_elements)
        .filter(|a| str_of(a, "data").is_none())
        .filter_map(|a| str_of(a, "url"))
        .filter_map(|u| bundle.binary(u).map(|(i, _)| i))
        .collect();
    let mut done: HashSet<usize> = behind_urls;
    let mut out = Vec::new();
    let mut sections: Vec<(Vec<usize>, &Value)> = Vec::new();
    if let Some(c) = bundle
        .resources()
        .find(|r| str_of(r, "resourceType") == Some("Composition"))
    {
        flatten_sections(c, &mut Vec::new(), &mut sections);
    }
    for (path, section) in &sections {
        for reference in list(section, "entry")
            .iter()
            .filter_map(|r| str_of(r, "reference"))
        {
            if let Some(i) = bundle.position(reference)
                && done.insert(i)
                && let Some(r) = bundle.resource(i)
            {
                files_of(r, Some(path), &bundle, &mut out);
            }
        }
    }
    for i in 0..bundle.len() {
        if done.insert(i)
            && let Some(r) = bundle.resource(i)
        {
            files_of(r, None, &bundle, &mut out);
        }
    }
    out
}

/// A Bundle's entries, found by `fullUrl` or `Type/id`.
#[derive(Default)]
struct Entries<'a> {
    entries: &'a [Value],
    by_reference: HashMap<String, usize>,
}

impl<'a> Entries<'a> {
    fn of(bundle: &'a Value) -> Self {
        let entries = list(bundle, "entry");
        let mut by_reference = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if let Some(url) = str_of(e, "fullUrl") {
                by_reference.entry(url.to_owned()).or_insert(i);
            }
            if let Some(r) = e.get("resource")
                && let (Some(rt), Some(id)) = (str_of(r, "resourceType"), str_of(r, "id"))
            {
                by_reference.entry(format!("{rt}/{id}")).or_insert(i);
            }
        }
        Self {
            entries,
            by_reference,
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn resource(&self, i: usize) -> Option<&'a Value> {
        self.entries.get(i).and_then(|e| e.get("resource"))
    }

    fn resources(&self) -> impl Iterator<Item = &'a Value> + '_ {
        self.entries.iter().filter_map(|e| e.get("resource"))
    }

    fn position(&self, reference: &str) -> Option<usize> {
        self.by_reference.get(reference).copied()
    }

    /// The Binary entry a reference names.
    fn binary(&self, reference: &str) -> Option<(usize, &'a Value)> {
        let i = self.position(reference)?;
        let r = self.resource(i)?;
        (str_of(r, "resourceType") == Some("Binary")).then_some((i, r))
    }
}

fn flatten_sections<'a>(
    parent: &'a Value,
    path: &mut Vec<usize>,
    out: &mut Vec<(Vec<usize>, &'a Value)>,
) {
    for (i, s) in list(parent, "section").iter().enumerate() {
        path.push(i);
        out.push((path.clone(), s));
        flatten_sections(s, path, out);
        path.pop();
    }
}

/// The `Attachment` elements of a resource.
fn attachment_elements(r: &Value) -> Vec<&Value> {
    match str_of(r, "resourceType") {
        Some("DocumentReference") => list(r, "content")
            .iter()
            .filter_map(|c| c.get("attachment"))
            .collect(),
        Some("DiagnosticReport") => list(r, "presentedForm").iter().collect(),
        Some("Media") => r.get("content").into_iter().collect(),
        _ => Vec::new(),
    }
}

/// The files one resource holds.
fn files_of<'a>(
    r: &'a Value,
    section: Option<&Vec<usize>>,
    bundle: &Entries<'a>,
    out: &mut Vec<Attachment<'a>>,
) {
    if str_of(r, "resourceType") == Some("Binary") {
        if str_of(r, "data").is_some() {
            out.push(Attachment {
                content_type: str_of(r, "contentType"),
                title: None,
                data: str_of(r, "data"),
                url: None,
                section: section.cloned(),
            });
        }
        return;
    }
    for a in attachment_elements(r) {
        let url = str_of(a, "url");
        let data = str_of(a, "data");
        let binary = match (data, url) {
            (None, Some(u)) => bundle.binary(u).map(|(_, b)| b),
            _ => None,
        };
        out.push(Attachment {
            content_type: str_of(a, "contentType")
                .or_else(|| binary.and_then(|b| str_of(b, "contentType"))),
            title: str_of(a, "title"),
            data: data.or_else(|| binary.and_then(|b| str_of(b, "data"))),
            url: if binary.is_some() { None } else { url },
            section: section.cloned(),
        });
    }
}
