//! Why a submission was refused. Every variant names the rule it breaks ([`FhirError::rule`]),
//! where the rule comes from ([`FhirError::source_rule`]), and has an English `Display` (logs,
//! CLI) and a Japanese message for the facility admin screen ([`FhirError::message_ja`]).
//!
//! Messages carry paths (`entry[3].resource.code`), resource type names, facility numbers and
//! codes from code systems, never patient data: values are echoed only when they look like a
//! code (see `json::safe_token`).

/// What is wrong with `Bundle.identifier`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentifierProblem {
    Missing,
    /// `system` is not `http://jpfhir.jp/fhir/clins/bundle-identifier`.
    WrongSystem,
    /// `value` is not `医療機関番号(10桁)^年(4桁)^施設内ID(英数字とハイフン36文字以内)`.
    BadFormat,
}

/// What is wrong with the Bundle's resource-type tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceTypeTagProblem {
    Missing,
    Unknown,
    /// An entry other than the first Patient is not of the tagged type.
    MixedEntries,
}

/// What is wrong with a 医療機関番号.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstitutionProblem {
    /// The `JP_eCS_InstitutionNumber` extension is absent where CLINS requires it.
    Missing,
    /// Not 2-digit prefecture + fee table 1-3 + 7 digits.
    BadFormat,
    /// Names another facility than the one submitting.
    OtherFacility,
}

/// Why the patient of a submission or of one of its resources is not the patient of the
/// submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatientProblem {
    /// A local patient ID in another facility's namespace.
    OtherFacility,
    /// Two different local patient IDs for this facility.
    Ambiguous,
    /// More than one Patient resource in one Bundle.
    MultiplePatients,
    /// A subject reference that does not point at the submission's patient.
    UnresolvedReference,
    /// A subject identifier that differs from the submission patient's.
    DifferentPatient,
}

/// Why a submission was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FhirError {
    #[error("the submitting facility code is not 10 digits")]
    InvalidFacilityCode,
    #[error("the input is not valid JSON (UTF-8) at line {line}, column {column}")]
    InvalidJson { line: usize, column: usize },
    #[error("the input is not a FHIR resource: {}", what.en())]
    NotFhir { what: NotFhirReason },
    #[error("{path}: resource type {} is not supported", resource_type.as_deref().unwrap_or("(unreadable)"))]
    UnsupportedResource {
        path: String,
        resource_type: Option<String>,
    },
    #[error("Bundle.type {} is not supported (collection and document are)", bundle_type.as_deref().unwrap_or("(missing)"))]
    UnsupportedBundleType { bundle_type: Option<String> },
    #[error("entry[0].resource.type: document type {} is not one of 57133-1, 18842-5, 53576-5", code.as_deref().unwrap_or("(missing)"))]
    UnsupportedDocumentType { code: Option<String> },
    #[error("entry[0]: the first entry of a document Bundle must be a Composition")]
    DocumentCompositionFirst,
    #[error("{path}: the patient cannot be identified")]
    MissingPatient { path: String },
    #[error("{path}: {}", problem_en(*problem))]
    PatientMismatch {
        path: String,
        problem: PatientProblem,
    },
    #[error("{path}: required element is missing")]
    MissingField { path: String },
    #[error("identifier: {}", identifier_en(*problem))]
    ClinsBundleIdentifier { problem: IdentifierProblem },
    #[error("entry[0]: the first entry of a JP-CLINS Bundle must be the Patient")]
    ClinsPatientFirst,
    #[error("{path}: {}", tag_en(*problem))]
    ClinsBundleResourceType {
        path: String,
        problem: ResourceTypeTagProblem,
    },
    #[error("{path}: {}", institution_en(*problem, found.as_deref()))]
    ClinsInstitutionNumber {
        path: String,
        problem: InstitutionProblem,
        /// The number found, when it is a well-formed 10-digit number.
        found: Option<String>,
    },
    #[error(
        "{path}: a lab result must carry the facility's own code (JP_CLINS_ObsLabResult_LocalCode_CS)"
    )]
    ClinsLabLocalCode { path: String },
    #[error("{path}: code {} is not in the CLINS lab code set of its system", code.as_deref().unwrap_or("(unreadable)"))]
    ClinsLabCodeSet { path: String, code: Option<String> },
    #[error(
        "{path}: a lab result must carry a JLAC code (CLINS set or general JLAC10) or the uncoded marker 99999999999999999"
    )]
    ClinsLabStandardCode { path: String },
    #[error(
        "{path}: a diagnosis must carry an 8-digit MEDIS 病名管理番号 (or 99999999 when the name is not coded)"
    )]
    ClinsConditionCode { path: String },
    #[error(
        "{path}: a prescribed medicine must carry a YJ code, a 一般名処方 code or the NOCODED marker"
    )]
    ClinsMedicationCode { path: String },
    #[error("{path}: 一般名処方 code {} is not in the loaded MHLW 一般名処方マスタ", code.as_deref().unwrap_or("(unreadable)"))]
    ClinsMedicationCodeUnknown { path: String, code: Option<String> },
    #[error("{path}.data: the attached file is not valid base64")]
    AttachmentData { path: String },
    #[error(
        "{path}: the attached image is labelled or looks like a JPEG or PNG but cannot be read, so its metadata (EXIF, GPS) cannot be removed"
    )]
    AttachmentImage { path: String },
}

/// Why JSON is not FHIR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotFhirReason {
    NotAnObject,
    NoResourceType,
}

impl NotFhirReason {
    fn en(self) -> &'static str {
        match self {
            Self::NotAnObject => "the top level is not a JSON object",
            Self::NoResourceType => "resourceType is missing or malformed",
        }
    }
    fn ja(self) -> &'static str {
        match self {
            Self::NotAnObject => "最上位がJSONオブジェクトではありません",
            Self::NoResourceType => "resourceType がないか不正です",
        }
    }
}

fn problem_en(p: PatientProblem) -> &'static str {
    match p {
        PatientProblem::OtherFacility => "the local patient ID belongs to another facility",
        PatientProblem::Ambiguous => "two different local patient IDs for this facility",
        PatientProblem::MultiplePatients => "more than one Patient in one Bundle",
        PatientProblem::UnresolvedReference => {
            "the reference does not point at the Bundle's Patient"
        }
        PatientProblem::DifferentPatient => {
            "the patient identifier differs from the Bundle's Patient"
        }
    }
}

fn problem_ja(p: PatientProblem) -> &'static str {
    match p {
        PatientProblem::OtherFacility => "患者IDが他の医療機関のものです",
        PatientProblem::Ambiguous => "この医療機関の患者IDが2つ以上あり一致しません",
        PatientProblem::MultiplePatients => "1つのBundleに複数のPatientリソースがあります",
        PatientProblem::UnresolvedReference => "患者への参照がBundle内の患者を指していません",
        PatientProblem::DifferentPatient => "患者識別子がBundle内の患者と一致しません",
    }
}

fn identifier_en(p: IdentifierProblem) -> &'static str {
    match p {
        IdentifierProblem::Missing => "Bundle.identifier is missing",
        IdentifierProblem::WrongSystem => {
            "Bundle.identifier.system must be http://jpfhir.jp/fhir/clins/bundle-identifier"
        }
        IdentifierProblem::BadFormat => {
            "Bundle.identifier.value must be 医療機関番号(10 digits)^year(4 digits)^ID (up to 36 of A-Z a-z 0-9 -)"
        }
    }
}

fn identifier_ja(p: IdentifierProblem) -> &'static str {
    match p {
        IdentifierProblem::Missing => "Bundle.identifier がありません",
        IdentifierProblem::WrongSystem => {
            "Bundle.identifier.system は http://jpfhir.jp/fhir/clins/bundle-identifier でなければなりません"
        }
        IdentifierProblem::BadFormat => {
            "Bundle.identifier.value は「医療機関番号10桁^発行年4桁^施設内ID(半角英数字とハイフン36文字以内)」でなければなりません"
        }
    }
}

fn tag_en(p: ResourceTypeTagProblem) -> &'static str {
    match p {
        ResourceTypeTagProblem::Missing => {
            "meta.tag must name the resource type carried (BundleResourceType_CS)"
        }
        ResourceTypeTagProblem::Unknown => {
            "the BundleResourceType_CS tag must be AllergyIntolerance, Condition, Observation or MedicationRequest"
        }
        ResourceTypeTagProblem::MixedEntries => {
            "the entry is not of the resource type named in meta.tag (one type per Bundle)"
        }
    }
}

fn tag_ja(p: ResourceTypeTagProblem) -> &'static str {
    match p {
        ResourceTypeTagProblem::Missing => {
            "meta.tag に格納するリソースタイプ（BundleResourceType_CS）がありません"
        }
        ResourceTypeTagProblem::Unknown => {
            "meta.tag のリソースタイプは AllergyIntolerance・Condition・Observation・MedicationRequest のいずれかです"
        }
        ResourceTypeTagProblem::MixedEntries => {
            "meta.tag で指定したリソースタイプ以外のリソースが含まれています（1つのBundleには1種類のみ）"
        }
    }
}

fn institution_en(p: InstitutionProblem, found: Option<&str>) -> String {
    match p {
        InstitutionProblem::Missing => {
            "the JP_eCS_InstitutionNumber extension (医療機関番号) is required".to_owned()
        }
        InstitutionProblem::BadFormat => {
            "the 医療機関番号 must be 10 digits: prefecture 2, fee table 1-3, number 7".to_owned()
        }
        InstitutionProblem::OtherFacility => format!(
            "the 医療機関番号 {} is not the submitting facility's",
            found.unwrap_or("(unreadable)")
        ),
    }
}

fn institution_ja(p: InstitutionProblem, found: Option<&str>) -> String {
    match p {
        InstitutionProblem::Missing => {
            "医療機関番号の拡張（JP_eCS_InstitutionNumber）がありません".to_owned()
        }
        InstitutionProblem::BadFormat => {
            "医療機関番号は都道府県番号2桁・点数表番号(1〜3)1桁・医療機関コード7桁の10桁です"
                .to_owned()
        }
        InstitutionProblem::OtherFacility => format!(
            "医療機関番号 {} が送信元の医療機関と一致しません",
            found.unwrap_or("(読み取れません)")
        ),
    }
}

impl FhirError {
    /// A stable code for the rule this input breaks (for logs, quarantine rows and tests).
    pub fn rule(&self) -> &'static str {
        match self {
            Self::InvalidFacilityCode => "invalid-facility-code",
            Self::InvalidJson { .. } => "invalid-json",
            Self::NotFhir { .. } => "not-fhir",
            Self::UnsupportedResource { .. } => "unsupported-resource",
            Self::UnsupportedBundleType { .. } => "unsupported-bundle-type",
            Self::UnsupportedDocumentType { .. } => "unsupported-document-type",
            Self::DocumentCompositionFirst => "fhir-document-composition-first",
            Self::MissingPatient { .. } => "missing-patient",
            Self::PatientMismatch { .. } => "patient-mismatch",
            Self::MissingField { .. } => "missing-field",
            Self::ClinsBundleIdentifier { .. } => "clins-bundle-identifier",
            Self::ClinsPatientFirst => "clins-patient-first",
            Self::ClinsBundleResourceType { .. } => "clins-bundle-resource-type",
            Self::ClinsInstitutionNumber { .. } => "clins-institution-number",
            Self::ClinsLabLocalCode { .. } => "clins-lab-local-code",
            Self::ClinsLabCodeSet { .. } => "clins-lab-code-set",
            Self::ClinsLabStandardCode { .. } => "clins-lab-standard-code",
            Self::ClinsConditionCode { .. } => "clins-condition-code",
            Self::ClinsMedicationCode { .. } => "clins-medication-code",
            Self::ClinsMedicationCodeUnknown { .. } => "clins-medication-code-unknown",
            Self::AttachmentData { .. } => "attachment-data-not-base64",
            Self::AttachmentImage { .. } => "attachment-image-unreadable",
        }
    }

    /// Where the rule is written down: the JP-CLINS implementation guide (v1.5.3) invariant or
    /// text, FHIR R4, or this network's own policy.
    pub fn source_rule(&self) -> &'static str {
        match self {
            Self::InvalidFacilityCode => "Renkei: facility codes are 10 digits",
            Self::InvalidJson { .. } | Self::NotFhir { .. } => "FHIR R4 JSON format",
            Self::UnsupportedResource { .. } => "Renkei: stored resource types",
            Self::UnsupportedBundleType { .. } => "Renkei: accepted Bundle types",
            Self::UnsupportedDocumentType { .. } => "Renkei: accepted document types",
            Self::DocumentCompositionFirst => "FHIR R4 Bundle invariant bdl-11",
            Self::MissingPatient { .. } => "Renkei: every record is filed under one patient",
            Self::PatientMismatch { .. } => {
                "JP-CLINS R1010/R1011 and JP_Bundle_CLINS (one patient per Bundle)"
            }
            Self::MissingField { .. } => "FHIR R4 / JP-CLINS cardinality",
            Self::ClinsBundleIdentifier { .. } => "JP-CLINS R02151, R2152 (Bundle-ID)",
            Self::ClinsPatientFirst => "JP-CLINS R0211",
            Self::ClinsBundleResourceType { .. } => {
                "JP-CLINS R02141, R02142 and JP_Bundle_CLINS entry slicing (closed)"
            }
            Self::ClinsInstitutionNumber { .. } => "JP-CLINS R9011, R9012, R1021",
            Self::ClinsLabLocalCode { .. } => "JP-CLINS R6021",
            Self::ClinsLabCodeSet { .. } => {
                "JP-CLINS JP_Observation_LabResult_eCS code.coding slices (required bindings)"
            }
            Self::ClinsLabStandardCode { .. } => {
                "JP-CLINS 検体検査結果のコーディング方法 (設定パターン適用規則)"
            }
            Self::ClinsConditionCode { .. } => {
                "JP-CLINS JP_Condition_eCS code.coding[medisRecordNo]"
            }
            Self::ClinsMedicationCode { .. } => "JP-CLINS R3010",
            Self::ClinsMedicationCodeUnknown { .. } => {
                "JP-CLINS JP_MedicationRequest_eCS binding to the MHLW 一般名処方マスタ"
            }
            Self::AttachmentData { .. } => "FHIR R4 base64Binary (Attachment.data, Binary.data)",
            Self::AttachmentImage { .. } => {
                "Renkei: photo metadata (EXIF, GPS) is removed before storage"
            }
        }
    }

    /// The message for the facility admin screen.
    pub fn message_ja(&self) -> String {
        match self {
            Self::InvalidFacilityCode => {
                "送信元の施設コードが10桁の数字ではありません。".to_owned()
            }
            Self::InvalidJson { line, column } => {
                format!(
                    "JSONとして読み取れません（{line}行{column}列）。UTF-8のJSONで送信してください。"
                )
            }
            Self::NotFhir { what } => format!("FHIRリソースではありません：{}。", what.ja()),
            Self::UnsupportedResource {
                path,
                resource_type,
            } => format!(
                "{path}: リソースタイプ {} はこのネットワークでは受け付けていません。",
                resource_type.as_deref().unwrap_or("(読み取れません)")
            ),
            Self::UnsupportedBundleType { bundle_type } => format!(
                "Bundle.type {} は受け付けていません（collection と document のみ）。",
                bundle_type.as_deref().unwrap_or("(なし)")
            ),
            Self::UnsupportedDocumentType { code } => format!(
                "文書種別 {} は受け付けていません（診療情報提供書 57133-1、退院時サマリー 18842-5、健診結果報告書 53576-5 のみ）。",
                code.as_deref().unwrap_or("(なし)")
            ),
            Self::DocumentCompositionFirst => {
                "文書Bundleの最初のentryはCompositionリソースでなければなりません。".to_owned()
            }
            Self::MissingPatient { path } => {
                format!(
                    "{path}: 患者を特定できません（患者ID・被保険者個人識別子・Patientリソースへの参照のいずれもありません）。"
                )
            }
            Self::PatientMismatch { path, problem } => {
                format!(
                    "{path}: {}。取り違え防止のため受け付けません。",
                    problem_ja(*problem)
                )
            }
            Self::MissingField { path } => format!("{path}: 必須の要素がありません。"),
            Self::ClinsBundleIdentifier { problem } => {
                format!("identifier: {}。", identifier_ja(*problem))
            }
            Self::ClinsPatientFirst => {
                "JP-CLINSのBundleでは最初のentryが患者（Patientリソース）でなければなりません。"
                    .to_owned()
            }
            Self::ClinsBundleResourceType { path, problem } => {
                format!("{path}: {}。", tag_ja(*problem))
            }
            Self::ClinsInstitutionNumber {
                path,
                problem,
                found,
            } => format!("{path}: {}。", institution_ja(*problem, found.as_deref())),
            Self::ClinsLabLocalCode { path } => format!(
                "{path}: 検査結果には施設固有の検査項目コード（JP_CLINS_ObsLabResult_LocalCode_CS）が必須です。"
            ),
            Self::ClinsLabCodeSet { path, code } => format!(
                "{path}: 検査項目コード {} はCLINSの検査項目セットにありません。",
                code.as_deref().unwrap_or("(読み取れません)")
            ),
            Self::ClinsLabStandardCode { path } => format!(
                "{path}: 検査結果にはJLACコード（共有項目または一般項目）か未標準化コード 99999999999999999 が必須です。"
            ),
            Self::ClinsConditionCode { path } => format!(
                "{path}: 病名にはMEDIS病名管理番号（8桁、コード化できない病名は 99999999）が必須です。"
            ),
            Self::ClinsMedicationCode { path } => format!(
                "{path}: 処方薬にはYJコード、一般名処方コード、またはコードなし（NOCODED）のいずれかが必須です。"
            ),
            Self::ClinsMedicationCodeUnknown { path, code } => format!(
                "{path}: 一般名処方コード {} は一般名処方マスタにありません。",
                code.as_deref().unwrap_or("(読み取れません)")
            ),
            Self::AttachmentData { path } => {
                format!("{path}: 添付ファイルのデータ（data）がBase64として読み取れません。")
            }
            Self::AttachmentImage { path } => format!(
                "{path}: 添付画像（JPEG・PNG）を読み取れないため、撮影位置などのメタデータを除去できません。JPEGまたはPNGとして保存し直して送信してください。"
            ),
        }
    }
}
