//! 添付ファイル: the files a document carries (PDFs, photos), listed on the document page and
//! served one at a time through the same authorization and single audit entry as the page.
//!
//! Only files the record itself carries (`data`) are served; a file kept elsewhere (`url`) is
//! named but never fetched, so the network makes no request on a source's behalf. Photos were
//! stripped of their metadata at ingestion and are stripped again here, in case a record stored
//! before that rule (or by another path) still has some.

use super::Opened;
use super::read::concept;
use crate::{Actor, App, AppError};
use renkei_domain::audit::AuditAction;
use renkei_domain::{AccessCategory, PersonId, Record};
use renkei_fhir::attachment::{self, Attachment, FileKind};
use serde::Serialize;
use time::OffsetDateTime;

/// The categories whose records may carry files shown on a document page: documents, and
/// reports that come with their printed form (DiagnosticReport.presentedForm: 画像・生理検査,
/// 検査結果) or a picture (Media). A record is shown only under its own category.
pub(crate) const DOCUMENT_CATEGORIES: [AccessCategory; 3] = [
    AccessCategory::Documents,
    AccessCategory::Imaging,
    AccessCategory::Labs,
];

/// How the document page shows a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Presentation {
    /// A JPEG or PNG, labelled and made as one: shown in the page.
    Image,
    /// A PDF, labelled and made as one: shown in a frame.
    Pdf,
    /// Anything else, or a file whose bytes are not what its label says: offered for download.
    Download,
    /// Kept outside the record (`url`): named, not fetched.
    External,
    /// Neither data nor a url.
    Unavailable,
}

/// One file, for the document page.
#[derive(Clone, Debug, Serialize)]
pub struct AttachmentInfo {
    /// Its number in the record (the `{n}` of its address).
    pub index: usize,
    pub title: Option<String>,
    /// As the source labelled it.
    pub content_type: Option<String>,
    pub presentation: Presentation,
    /// Bytes, approximately (from the base64 length).
    pub size: Option<usize>,
    /// Where a file kept outside the record is, shown as text.
    pub url: Option<String>,
    /// The Composition section that names it (see [`attachment::Attachment::section`]).
    pub section: Option<Vec<usize>>,
}

/// One file, to serve.
#[derive(Clone, Debug)]
pub struct AttachmentFile {
    pub bytes: Vec<u8>,
    /// What to show it as in the browser; `None`: offer it as a download only.
    pub inline: Option<FileKind>,
    /// A file name made by the network (`attachment-2.pdf`), never one the source wrote.
    pub file_name: String,
}

fn presentation(a: &Attachment<'_>) -> Presentation {
    let Some(data) = a.data else {
        return if a.url.is_some() {
            Presentation::External
        } else {
            Presentation::Unavailable
        };
    };
    let declared = a
        .content_type
        .map(FileKind::declared)
        .unwrap_or(FileKind::Other);
    match (declared, FileKind::sniff(&attachment::decode_prefix(data))) {
        (FileKind::Jpeg, FileKind::Jpeg) | (FileKind::Png, FileKind::Png) => Presentation::Image,
        (FileKind::Pdf, FileKind::Pdf) => Presentation::Pdf,
        _ => Presentation::Download,
    }
}

/// The files of a record, for its page.
pub(crate) fn list(resource: &serde_json::Value) -> Vec<AttachmentInfo> {
    attachment::attachments(resource)
        .into_iter()
        .enumerate()
        .map(|(index, a)| AttachmentInfo {
            index,
            title: a.title.map(str::to_owned),
            content_type: a.content_type.map(str::to_owned),
            presentation: presentation(&a),
            size: a.data.map(|d| {
                let chars = d.bytes().filter(|b| !b.is_ascii_whitespace()).count();
                let padding = d
                    .trim_end()
                    .bytes()
                    .rev()
                    .take_while(|b| *b == b'=')
                    .count();
                (chars * 3 / 4).saturating_sub(padding)
            }),
            url: a.url.filter(|_| a.data.is_none()).map(str::to_owned),
            section: a.section,
        })
        .collect()
}

/// How many files a record carries (0 for most), for the timeline's links.
pub(crate) fn count(r: &Record) -> usize {
    match r.input.resource_type.as_str() {
        "Bundle" | "DocumentReference" | "DiagnosticReport" | "Media" => {
            attachment::attachments(&r.input.resource).len()
        }
        _ => 0,
    }
}

/// Whether a record opens as a document page: a document, or a report or picture with files.
pub(crate) fn opens_as_document(r: &Record) -> bool {
    opens_with(r, count(r))
}

/// [`opens_as_document`] for a record whose files are already counted (the timeline shows the
/// count too, and counting decodes the resource's attachments).
pub(crate) fn opens_with(r: &Record, files: usize) -> bool {
    r.input.category == AccessCategory::Documents || files > 0
}

impl App {
    /// The record a document page or file address names, among those `opened` may show.
    pub(crate) async fn find_record(
        &self,
        opened: &Opened,
        person: PersonId,
        record_id: uuid::Uuid,
    ) -> Result<Option<Record>, AppError> {
        let head = opened.records().filter(|r| r.id == record_id);
        Ok(self
            .load(opened, person, head)
            .await?
            .into_iter()
            .find(opens_as_document))
    }
}

/// A title for a record without a Composition: its display, else its code's name.
pub(crate) fn record_title(r: &Record) -> Option<String> {
    r.input
        .display
        .clone()
        .or_else(|| concept(r.input.resource.get("code")))
        .or_else(|| concept(r.input.resource.get("type")))
}

impl App {
    /// 添付ファイル: file `n` of a document (or of a report with its printed form), for the
    /// browser. One audit entry, naming the record and the file, whether it is served or not.
    pub async fn attachment(
        &self,
        actor: &Actor,
        person: PersonId,
        record_id: uuid::Uuid,
        n: usize,
    ) -> Result<AttachmentFile, AppError> {
        let now = OffsetDateTime::now_utc();
        let record_item = format!("record:{record_id}");
        let file_item = format!("attachment:{n}");
        let opened = self
            .open_for_view(
                actor,
                person,
                &DOCUMENT_CATEGORIES,
                AuditAction::View,
                &[&record_item, &file_item],
                now,
            )
            .await?;
        let file = self
            .find_record(&opened, person, record_id)
            .await?
            .and_then(|r| serve(&r, n));
        self.audit_view(
            actor,
            person,
            &opened,
            AuditAction::View,
            vec![record_item, file_item],
            now,
        )
        .await?;
        file.ok_or(AppError::NotFound("attachment"))
    }
}

/// File `n` of a record as it will be served, or `None` when there is no such file the
/// network can serve (kept elsewhere, undecodable, or a photo whose metadata cannot be removed).
fn serve(r: &Record, n: usize) -> Option<AttachmentFile> {
    let files = attachment::attachments(&r.input.resource);
    let a = files.get(n)?;
    let how = presentation(a);
    let bytes = attachment::decode_base64(a.data?)?;
    // Whatever it is labelled, a picture leaves without metadata.
    let bytes = attachment::without_metadata(&bytes).ok()?.into_owned();
    let inline = match how {
        Presentation::Image | Presentation::Pdf => Some(FileKind::sniff(&bytes)),
        Presentation::Download => None,
        Presentation::External | Presentation::Unavailable => return None,
    };
    let extension = inline.unwrap_or(FileKind::Other).extension();
    Some(AttachmentFile {
        bytes,
        inline,
        file_name: format!("attachment-{}{extension}", n + 1),
    })
}
