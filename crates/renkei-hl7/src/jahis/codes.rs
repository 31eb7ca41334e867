//! Code systems, profiles and extension URLs: the HL7 v2 coding-system names JAHIS messages use
//! (CWE-3, e.g. `JC10`, `HOT9`, `MR9P`) turned into the FHIR `system` URIs of JP Core v1.x.
//!
//! Rules:
//! - A name JP Core gives a URI for gets that URI (JLAC10, HOT, YJ, MEDIS 病名, ICD-10, MERIT-9,
//!   JAMI 用法, JAHIS tables JP Core defines, HL7 table 0162 routes).
//! - `HL7nnnn` (an HL7 table) becomes `http://terminology.hl7.org/CodeSystem/v2-nnnn`.
//! - Some names mean different tables depending on the field: MERIT-9 `MR9P` is a unit table in
//!   RXE-5, a dosage-form table in RXE-6 and a dispensing-category table in RXE-21; MEDIS
//!   `MDCDX2` holds 病名管理番号 (8 digits), 病名交換用コード (4 characters) and their modifier
//!   counterparts. The caller passes the field's [`CodeContext`].
//! - Every other name, in particular facility-local ones (`99XYZ`), is kept under
//!   [`LOCAL_SYSTEM_PREFIX`] + the name, so a local code is never dropped and never mistaken for
//!   a national one. These URIs are Renkei's own; the facility is known from the record's source.
//!
//! JLAC10 is written with JP Core v1.1+'s canonical URI
//! `http://medis.or.jp/CodeSystem/master-JLAC10-17digits` (the URL form of OID
//! `1.2.392.200119.4.504`), the same system `renkei-fhir` indexes every JLAC10 code under, so a
//! lab series from SS-MIX2 and from FHIR submissions lines up under one code.

use std::borrow::Cow;

/// JLAC10 17-digit lab codes (OID 1.2.392.200119.4.504).
pub const JLAC10: &str = "http://medis.or.jp/CodeSystem/master-JLAC10-17digits";
/// HOT9 medicine codes.
pub const HOT9: &str = "http://medis.or.jp/CodeSystem/master-HOT9";
/// HOT7 medicine codes.
pub const HOT7: &str = "http://medis.or.jp/CodeSystem/master-HOT7";
/// HOT13 medicine codes.
pub const HOT13: &str = "http://medis.or.jp/CodeSystem/master-HOT13";
/// YJ codes (薬価基準収載医薬品コード).
pub const YJ: &str = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code";
/// MEDIS 標準病名マスター 病名管理番号.
pub const DISEASE_KEY_NUMBER: &str = "http://medis.or.jp/CodeSystem/master-disease-keyNumber";
/// MEDIS 標準病名マスター 病名交換用コード.
pub const DISEASE_EXCHANGE: &str = "http://medis.or.jp/CodeSystem/master-disease-exCode";
/// MEDIS 修飾語管理番号.
pub const MODIFIER_KEY_NUMBER: &str = "http://medis.or.jp/CodeSystem/master-disease-modKeyNumber";
/// MEDIS 修飾語交換用コード.
pub const MODIFIER_EXCHANGE: &str = "http://medis.or.jp/CodeSystem/master-disease-modExCode";
/// ICD-10 (2013, as JP Core names it).
pub const ICD10: &str = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full";
/// MERIT-9 units (`MR9P` in quantity fields).
pub const MERIT9_UNIT: &str = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationUnitMERIT9Code";
/// MERIT-9 dosage forms (`MR9P` in RXE-6).
pub const MERIT9_FORM: &str = "http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationFormMERIT9_CS";
/// MERIT-9 dispensing categories (`MR9P` in RXE-21: 外来処方, 院内処方, ...).
pub const MERIT9_CATEGORY: &str =
    "http://jpfhir.jp/fhir/core/CodeSystem/JP_MedicationCategoryMERIT9_CS";
/// JAMI 処方・注射オーダ標準用法規格 (`JAMISDP01`).
pub const JAMI_USAGE: &str = "http://jami.jp/CodeSystem/MedicationUsage";
/// HL7 table 0162 routes as JP Core names them.
pub const ROUTE: &str = "http://jpfhir.jp/fhir/core/CodeSystem/route-codes";
/// JAHIS 転帰区分 (JHSD 0006).
pub const JHSD0006: &str = "http://jpfhir.jp/fhir/core/CodeSystem/JHSD0006";
/// HL7 table 0241 outcomes as JP Core names them.
pub const HL70241: &str = "http://jpfhir.jp/fhir/core/CodeSystem/HL70241";
/// SS-MIX2 診療科 (user table 0069), as JP Core names it.
pub const DEPARTMENT: &str = "http://jami.jp/SS-MIX2/CodeSystem/ClinicalDepartment";
/// DICOM modalities.
pub const DICOM: &str = "http://dicom.nema.org/resources/ontology/DCM";
/// UCUM.
pub const UCUM: &str = "http://unitsofmeasure.org";
/// LOINC.
pub const LOINC: &str = "http://loinc.org";
/// GS1 GTIN (JAN codes are GTIN-13).
pub const GTIN: &str = "https://www.gs1.org/gtin";
/// HL7 v3 ActCode (encounter class).
pub const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// HL7 v3 ParticipationType.
pub const PARTICIPATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
/// HL7 v3 observation interpretation.
pub const INTERPRETATION: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
/// HL7 v3 confidentiality.
pub const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
/// FHIR observation categories.
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// FHIR condition categories.
pub const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";
/// FHIR condition clinical status.
pub const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
/// FHIR condition verification status.
pub const CONDITION_VERIFICATION: &str =
    "http://terminology.hl7.org/CodeSystem/condition-ver-status";
/// FHIR allergy clinical status.
pub const ALLERGY_CLINICAL: &str =
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
/// FHIR allergy verification status.
pub const ALLERGY_VERIFICATION: &str =
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";
/// FHIR subscriber relationship (Coverage.relationship).
pub const SUBSCRIBER_RELATIONSHIP: &str =
    "http://terminology.hl7.org/CodeSystem/subscriber-relationship";
/// JP Core strength type (製剤量 / 原薬量).
pub const STRENGTH_TYPE: &str =
    "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationIngredientStrengthStrengthType";
/// JP Core insurer number identifier system (保険者番号).
pub const INSURER_NUMBER: &str = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber";
/// JP Core Rp number identifier system.
pub const RP_NUMBER: &str = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/Medication-RPGroupNumber";
/// JP Core order-in-Rp identifier system.
pub const ORDER_IN_RP: &str =
    "http://jpfhir.jp/fhir/core/mhlw/IdSystem/MedicationAdministrationIndex";
/// JP Core resource-instance identifier system.
pub const RESOURCE_INSTANCE: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";
/// DICOM UIDs as FHIR identifiers.
pub const DICOM_UID: &str = "urn:dicom:uid";

/// Coding systems without a FHIR URI (facility-local `99…` names, JAHIS tables JP Core does not
/// define) are kept under this prefix followed by the HL7 v2 name.
pub const LOCAL_SYSTEM_PREFIX: &str = "http://renkei.example/fhir/CodeSystem/hl7v2/";

/// The extension carrying a segment the mapping does not understand, as raw HL7 text.
pub const UNMAPPED_SEGMENT: &str =
    "http://renkei.example/fhir/StructureDefinition/hl7v2-unmapped-segment";
/// The extension carrying an HL7 v2 coded value that has no FHIR element, as a CodeableConcept:
/// the allergen type of AL1-2/IAM-2 when FHIR has no category for it (MA, MC, local codes).
pub const SOURCE_VALUE: &str = "http://renkei.example/fhir/StructureDefinition/hl7v2-source-value";

/// JP Core profiles.
pub mod profile {
    macro_rules! profiles {
        ($($name:ident),* $(,)?) => {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                #[allow(non_upper_case_globals)]
                pub const $name: &str = concat!(
                    "http://jpfhir.jp/fhir/core/StructureDefinition/",
                    stringify!($name)
                );
            )*
        };
    }
    profiles!(
        JP_AllergyIntolerance,
        JP_Condition,
        JP_Coverage,
        JP_DiagnosticReport_Common,
        JP_DiagnosticReport_Endoscopy,
        JP_DiagnosticReport_Radiology,
        JP_Encounter,
        JP_ImagingStudy_Endoscopy,
        JP_ImagingStudy_Radiology,
        JP_MedicationAdministration,
        JP_MedicationAdministration_Injection,
        JP_MedicationRequest,
        JP_MedicationRequest_Injection,
        JP_Observation_Common,
        JP_Observation_LabResult,
        JP_ServiceRequest_Common,
        JP_Specimen_Common,
        JP_Medication,
    );
}

/// JP Core extensions.
pub mod extension {
    macro_rules! extensions {
        ($($name:ident),* $(,)?) => {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                #[allow(non_upper_case_globals)]
                pub const $name: &str = concat!(
                    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/",
                    stringify!($name)
                );
            )*
        };
    }
    extensions!(
        JP_Condition_DiseaseOutcome,
        JP_Condition_DiseasePrefixModifier,
        JP_Condition_DiseasePostfixModifier,
        JP_Coverage_InsuredPersonSymbol,
        JP_Coverage_InsuredPersonNumber,
        JP_MedicationDosage_PeriodOfUse,
        JP_MedicationDosage_UsageDuration,
        JP_MedicationDosage_Device,
        JP_MedicationAdministration_Location,
        JP_MedicationAdministration_RequestAuthoredOn,
        JP_MedicationAdministration_RequestDepartment,
        JP_MedicationAdministration_Requester,
        JP_Medication_Ingredient_DrugNo,
    );
}

/// Which table a coded field draws from, where a coding-system name alone is ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeContext {
    /// No special meaning.
    General,
    /// A unit (RXE-5, RXE-11, RXA-7, RXC-4, OBX-6).
    Unit,
    /// A dosage form (RXE-6, RXA-8).
    DoseForm,
    /// A dispensing category (RXE-21).
    DispenseCategory,
    /// A specimen (SPM-4): JLAC10's 3-digit material codes are not 17-digit lab codes.
    Specimen,
    /// PRB-3: a MEDIS disease code, 病名管理番号 (8 digits) or 病名交換用コード.
    Disease,
    /// ZPR-2: 病名管理番号.
    DiseaseKeyNumber,
    /// ZPR-5: 病名交換用コード.
    DiseaseExchange,
    /// ZPR-1/ZPR-3: 修飾語管理番号.
    ModifierKeyNumber,
    /// ZPR-4/ZPR-6: 修飾語交換用コード.
    ModifierExchange,
}

/// The FHIR `system` for an HL7 v2 coding-system name in a field of the given context, or
/// `None` when the name is empty.
pub(crate) fn system_uri(
    name: &str,
    code: &str,
    context: CodeContext,
) -> Option<Cow<'static, str>> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let upper = name.to_ascii_uppercase();
    let fixed: Option<&'static str> = match (upper.as_str(), context) {
        ("JC10", CodeContext::Specimen) => None,
        ("JC10" | "JLAC10", _) => Some(JLAC10),
        ("HOT9", _) => Some(HOT9),
        ("HOT7", _) => Some(HOT7),
        ("HOT13", _) => Some(HOT13),
        ("YJ", _) => Some(YJ),
        ("MDCDX2" | "MDCDX", CodeContext::DiseaseKeyNumber) => Some(DISEASE_KEY_NUMBER),
        ("MDCDX2" | "MDCDX", CodeContext::DiseaseExchange) => Some(DISEASE_EXCHANGE),
        ("MDCDX2" | "MDCDX", CodeContext::ModifierKeyNumber) => Some(MODIFIER_KEY_NUMBER),
        ("MDCDX2" | "MDCDX", CodeContext::ModifierExchange) => Some(MODIFIER_EXCHANGE),
        ("MDCDX2" | "MDCDX", _) => {
            let code = code.trim();
            if code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()) {
                Some(DISEASE_KEY_NUMBER)
            } else {
                Some(DISEASE_EXCHANGE)
            }
        }
        ("I10" | "ICD10" | "I10P" | "ICD-10", _) => Some(ICD10),
        ("MR9P", CodeContext::Unit) => Some(MERIT9_UNIT),
        ("MR9P", CodeContext::DoseForm) => Some(MERIT9_FORM),
        ("MR9P", CodeContext::DispenseCategory) => Some(MERIT9_CATEGORY),
        ("JAMISDP01", _) => Some(JAMI_USAGE),
        ("HL70162", _) => Some(ROUTE),
        ("HL70241", _) => Some(HL70241),
        ("JHSD0006", _) => Some(JHSD0006),
        ("JHSI0001", _) => Some("http://jpfhir.jp/fhir/core/CodeSystem/JHSI0001"),
        ("JHSI0003", _) => Some("http://jpfhir.jp/fhir/core/CodeSystem/JHSI0003"),
        ("JHSP0002", _) => Some("http://jpfhir.jp/fhir/core/CodeSystem/JHSP0002"),
        ("JHSP0007", _) => Some("http://jpfhir.jp/fhir/core/CodeSystem/JHSP0007"),
        ("DCM", _) => Some(DICOM),
        ("UCUM", _) => Some(UCUM),
        ("LN" | "LOINC", _) => Some(LOINC),
        ("JAN", _) => Some(GTIN),
        _ => None,
    };
    if let Some(uri) = fixed {
        return Some(Cow::Borrowed(uri));
    }
    if context == CodeContext::Specimen && upper == "JC10" {
        return Some(Cow::Owned(format!("{LOCAL_SYSTEM_PREFIX}JC10-material")));
    }
    if let Some(table) = upper.strip_prefix("HL7")
        && table.len() == 4
        && table.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(Cow::Owned(format!(
            "http://terminology.hl7.org/CodeSystem/v2-{table}"
        )));
    }
    Some(Cow::Owned(format!("{LOCAL_SYSTEM_PREFIX}{}", encode(name))))
}

/// Percent-encode everything but unreserved URI characters, so that any name makes a valid URI.
fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a system URI is under Renkei's local prefix (a facility-local or unknown table).
#[must_use]
pub fn is_local(system: &str) -> bool {
    system.starts_with(LOCAL_SYSTEM_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(name: &str, code: &str, context: CodeContext) -> String {
        system_uri(name, code, context)
            .map(Cow::into_owned)
            .unwrap_or_default()
    }

    #[test]
    fn national_names_get_jp_core_uris() {
        assert_eq!(
            uri("JC10", "3A010000002327101", CodeContext::General),
            JLAC10
        );
        assert_eq!(uri("HOT9", "108665201", CodeContext::General), HOT9);
        assert_eq!(uri("I10", "K297", CodeContext::General), ICD10);
        assert_eq!(
            uri("JAMISDP01", "1013044400000000", CodeContext::General),
            JAMI_USAGE
        );
        assert_eq!(uri("HL70162", "PO", CodeContext::General), ROUTE);
        assert_eq!(
            uri("HL70127", "DA", CodeContext::General),
            "http://terminology.hl7.org/CodeSystem/v2-0127"
        );
    }

    #[test]
    fn ambiguous_names_follow_the_field() {
        assert_eq!(uri("MR9P", "TAB", CodeContext::Unit), MERIT9_UNIT);
        assert_eq!(uri("MR9P", "PWD", CodeContext::DoseForm), MERIT9_FORM);
        assert_eq!(
            uri("MR9P", "OHP", CodeContext::DispenseCategory),
            MERIT9_CATEGORY
        );
        assert_eq!(
            uri("MDCDX2", "20054174", CodeContext::Disease),
            DISEASE_KEY_NUMBER
        );
        assert_eq!(
            uri("MDCDX2", "TSQF", CodeContext::Disease),
            DISEASE_EXCHANGE
        );
        assert_eq!(
            uri("MDCDX2", "8002", CodeContext::ModifierKeyNumber),
            MODIFIER_KEY_NUMBER
        );
        assert_eq!(
            uri("JC10", "023", CodeContext::Specimen),
            format!("{LOCAL_SYSTEM_PREFIX}JC10-material")
        );
    }

    #[test]
    fn local_names_are_kept_under_the_local_prefix() {
        assert_eq!(
            uri("99XYZ", "1", CodeContext::General),
            format!("{LOCAL_SYSTEM_PREFIX}99XYZ")
        );
        assert_eq!(
            uri("ISO+", "kg", CodeContext::Unit),
            format!("{LOCAL_SYSTEM_PREFIX}ISO+")
        );
        assert_eq!(
            uri("a b/c", "1", CodeContext::General),
            format!("{LOCAL_SYSTEM_PREFIX}a%20b%2Fc")
        );
        assert!(is_local(&uri("99XYZ", "1", CodeContext::General)));
        assert_eq!(system_uri(" ", "1", CodeContext::General), None);
    }
}
