//! The JP-CLINS rules this crate enforces, each with where it is written, and the system URLs
//! they use.
//!
//! Source: JAMI NeXEHRS FHIR JP WG, "JP-CLINS 電子カルテ情報共有サービス 2文書5情報+患者サマリー"
//! implementation guide v1.5.3 (repository `jami-fhir-jp-wg/clinical-core`, commit ad5ab68b):
//! `input/fsh/invariants/InvariantsRules.fsh` (the numbered invariants R0211, R2152, …), the
//! profiles under `input/fsh/profiles/`, and the guide's text in `input/intro-notes/` and
//! `input/pagecontent/core6spec.md`.
//!
//! When the rules apply: to everything in a JP-CLINS collection Bundle or JP-CLINS document
//! Bundle, and to a single resource that claims one of the eCS profiles in `meta.profile`. A plain
//! JP Core resource claims no CLINS conformance and is not held to these rules (only to the
//! patient and facility checks, which apply to everything).
//!
//! Rules of the guide deliberately not enforced (they concern completeness, not safety, and a
//! refusal would lose the whole report for the region): R0212 (the Patient's profile claim),
//! R1012/R1013 (insurance identifier presence and format), R9013–R9019 (contained Encounter,
//! department extension, onset/abatement, performer), R2011–R2013 (allergy code systems: the
//! guide's own medication-allergy example uses a different JFAGY system URL than R2013 names),
//! R5020/R5021 (usage codes), and the "shared JLAC code required when the item is in the set"
//! half of the lab coding rule.

use crate::error::{FhirError, IdentifierProblem, InstitutionProblem};
use crate::json::{self, Coding, claims_profile, codings, list, safe_token, str_of};
use crate::lab_codes::{self, LabSet};
use crate::terminology::Terminology;
use serde_json::Value;

/// `Bundle.identifier.system` of every CLINS Bundle (JP_Bundle_CLINS, JP_Bundle_eReferral,
/// JP_Bundle_eDischargeSummary).
pub const BUNDLE_IDENTIFIER_SYSTEM: &str = "http://jpfhir.jp/fhir/clins/bundle-identifier";
/// `meta.tag` system naming the one resource type a 5情報 Bundle carries.
pub const BUNDLE_RESOURCE_TYPE_CS: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS";
/// The 5情報 collection Bundle profile.
pub const JP_BUNDLE_CLINS: &str = "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS";
/// Prefix of the CLINS Bundle profiles (5情報 and 2文書).
pub const CLINS_PROFILE_PREFIX: &str = "http://jpfhir.jp/fhir/clins/StructureDefinition/";
/// Prefix of the eCS resource profiles (JP_Condition_eCS, JP_Observation_LabResult_eCS, …).
pub const ECS_PROFILE_PREFIX: &str = "http://jpfhir.jp/fhir/eCS/StructureDefinition/";
pub const PROFILE_CONDITION: &str =
    "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Condition_eCS";
pub const PROFILE_OBSERVATION_LAB: &str =
    "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Observation_LabResult_eCS";
pub const PROFILE_MEDICATION_REQUEST: &str =
    "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_MedicationRequest_eCS";

/// The extension holding the 医療機関番号 of the facility that made the resource.
pub const INSTITUTION_NUMBER_EXTENSION: &str =
    "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber";
/// A facility's local patient ID system is this prefix + `1` + the 10-digit 医療機関番号 (R1010).
pub const LOCAL_PATIENT_ID_OID_PREFIX: &str = "urn:oid:1.2.392.100495.20.3.51.";
/// 被保険者個人識別子.
pub const INSURANCE_MEMBER_ID_SYSTEM: &str =
    "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
/// `meta.tag` system of the CLINS handling flags: LTS 長期保存, UNINFORMED 未告知, UNDELIVERED 未提供.
pub const EHRSHRS_INDICATION_CS: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication";
/// The guide's リソース一意識別ID system: the identifier preferred for source keys.
pub const RESOURCE_INSTANCE_IDENTIFIER: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";

/// Lab item coding systems (JP-CLINS "検体検査結果情報における検査項目のコーディング方法").
pub const LAB_LOCAL_CODE_CS: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS";
pub const LAB_CORE_JLAC10_CS: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
pub const LAB_CORE_JLAC11_CS: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_CoreLabo_CS";
pub const LAB_INFECTION_JLAC10_CS: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS";
pub const LAB_INFECTION_JLAC11_CS: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC11/JP_CLINS_ObsLabResult_InfectionLabo_CS";
/// 一般項目JLACコード (JLAC10, 17 digits). Also the system this crate indexes every JLAC10 code
/// under, whichever CLINS subset system it was sent with.
pub const JLAC10_CS: &str = "http://medis.or.jp/CodeSystem/master-JLAC10-17digits";
/// 未標準化コード: the lab item could not be coded; its only code is [`LAB_UNCODED_CODE`].
pub const LAB_UNCODED_CS: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_Uncoded_CS";
pub const LAB_UNCODED_CODE: &str = "99999999999999999";

/// MEDIS 標準病名マスター 病名管理番号 (8 digits): required on every CLINS diagnosis.
pub const DISEASE_KEY_NUMBER_CS: &str = "http://medis.or.jp/CodeSystem/master-disease-keyNumber";
/// 病名管理番号 of a diagnosis that could not be coded: all nines, as many as a real number has.
pub const DISEASE_UNCODED: &str = "99999999";
/// MEDIS 病名交換用コード (4 characters).
pub const DISEASE_EXCHANGE_CS: &str = "http://medis.or.jp/CodeSystem/master-disease-exCode";
pub const ICD10_CS: &str = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full";
/// レセプト電算処理用傷病名コード.
pub const DISEASE_CLAIM_CS: &str = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/masterB-disease";

/// YJ code (薬価基準収載医薬品コード 12 characters), by URL and by its OIDs.
pub const YJ_SYSTEMS: [&str; 3] = [
    "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code",
    "urn:oid:1.2.392.100495.20.2.73",
    "urn:oid:1.2.392.100495.20.1.73",
];
/// MHLW 一般名処方マスタ code, by URL and by its OIDs.
pub const GENERAL_NAME_SYSTEMS: [&str; 3] = [
    "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationGeneralOrderCode",
    "urn:oid:1.2.392.100495.20.1.81",
    "urn:oid:1.2.392.100495.20.2.81",
];
/// "No standard code" marker for a medicine (code `NOCODED`).
pub const MEDICATION_NOCODED_CS: &str =
    "http://jpfhir.jp/fhir/eCS/CodeSystem/MedicationCodeNocoded_CS";
pub const HOT9_CS: &str = "http://medis.or.jp/CodeSystem/master-HOT9";

/// The document type code systems accepted in `Composition.type`.
pub const DOC_TYPE_CS: &str = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";
pub const LOINC: &str = "http://loinc.org";

/// Whether a 10-character string is a 医療機関番号 as CLINS writes it: prefecture `[0-4][0-9]`,
/// fee table `[1-3]` (医科・歯科; CLINS is for medical institutions), 7 digits (R1021, R9012).
pub fn is_institution_number(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().all(u8::is_ascii_digit)
        && matches!(b.first(), Some(b'0'..=b'4'))
        && matches!(b.get(2), Some(b'1'..=b'3'))
}

/// R02151 + R2152: `Bundle.identifier` is system `http://jpfhir.jp/fhir/clins/bundle-identifier`
/// with value `^[0-4][0-9][1-3][0-9]{7}\^20[2-3][0-9]\^[A-Za-z0-9\-]{1,36}$` (保険医療機関番号10桁
/// ^発行年4桁^施設内ID). Returns the 医療機関番号 part.
pub(crate) fn check_bundle_identifier<'a>(
    system: Option<&str>,
    value: &'a str,
) -> Result<&'a str, FhirError> {
    if system != Some(BUNDLE_IDENTIFIER_SYSTEM) {
        return Err(FhirError::ClinsBundleIdentifier {
            problem: IdentifierProblem::WrongSystem,
        });
    }
    let bad = || FhirError::ClinsBundleIdentifier {
        problem: IdentifierProblem::BadFormat,
    };
    let mut parts = value.split('^');
    let (Some(institution), Some(year), Some(local), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let year_ok = year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && year.starts_with("20")
        && matches!(year.as_bytes().get(2), Some(b'2'..=b'3'));
    let local_ok = (1..=36).contains(&local.len())
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if is_institution_number(institution) && year_ok && local_ok {
        Ok(institution)
    } else {
        Err(bad())
    }
}

/// The `JP_eCS_InstitutionNumber` extension's value, if the extension is present (`Some(None)`
/// when present without a readable value).
pub(crate) fn institution_number(resource: &Value) -> Option<Option<&str>> {
    list(resource, "extension")
        .iter()
        .find(|e| str_of(e, "url") == Some(INSTITUTION_NUMBER_EXTENSION))
        .map(|e| e.get("valueIdentifier").and_then(|id| str_of(id, "value")))
}

/// R9011/R9012 (every non-Patient entry of a 5情報 Bundle has the extension, 10 digits) when
/// `required`, and in every case: a present number must be the submitting facility's.
pub(crate) fn check_institution_number(
    resource: &Value,
    path: &str,
    facility: &str,
    required: bool,
) -> Result<(), FhirError> {
    let ext_path = || format!("{path}.extension(JP_eCS_InstitutionNumber)");
    match institution_number(resource) {
        None if required => Err(FhirError::ClinsInstitutionNumber {
            path: ext_path(),
            problem: InstitutionProblem::Missing,
            found: None,
        }),
        None => Ok(()),
        Some(None) => Err(FhirError::ClinsInstitutionNumber {
            path: ext_path(),
            problem: InstitutionProblem::Missing,
            found: None,
        }),
        Some(Some(number)) => {
            let well_formed = number.len() == 10 && number.bytes().all(|b| b.is_ascii_digit());
            if !well_formed || (required && !is_institution_number(number)) {
                Err(FhirError::ClinsInstitutionNumber {
                    path: ext_path(),
                    problem: InstitutionProblem::BadFormat,
                    found: None,
                })
            } else if number != facility {
                Err(FhirError::ClinsInstitutionNumber {
                    path: ext_path(),
                    problem: InstitutionProblem::OtherFacility,
                    // Echoed only when it reads as a 医療機関番号 (never an arbitrary value).
                    found: is_institution_number(number).then(|| number.to_owned()),
                })
            } else {
                Ok(())
            }
        }
    }
}

/// Whether the resource carries `meta.tag` `JP_ehrshrs_indication#<code>`.
pub(crate) fn has_indication(resource: &Value, code: &str) -> bool {
    json::meta_codings(resource, "tag")
        .iter()
        .any(|c| c.system == Some(EHRSHRS_INDICATION_CS) && c.code == Some(code))
}

/// Lab rules for an Observation of a lab result (JP_Observation_LabResult_eCS and the guide's
/// "「FHIR検査項目情報」の設定パターン適用規則"):
/// 1. R6021: a coding in the facility-code system `JP_CLINS_ObsLabResult_LocalCode_CS` is required.
/// 2. A coding in one of the four CLINS set systems (指定検査43項目 / 指定感染症5項目, JLAC10 or
///    JLAC11) must have a code of that set (the profile's required bindings); the uncoded system
///    allows only `99999999999999999`.
/// 3. Besides the local code, a shared JLAC code, a general JLAC10 code or the uncoded marker is
///    required ("(3)か(4)のどちらかの設定パターンを適用したcode.coding[n]を記述することになる").
pub(crate) fn check_lab(resource: &Value, path: &str) -> Result<(), FhirError> {
    let code_path = format!("{path}.code");
    let all = resource.get("code").map(codings).unwrap_or_default();
    if !all.iter().any(|c| c.system == Some(LAB_LOCAL_CODE_CS)) {
        return Err(FhirError::ClinsLabLocalCode { path: code_path });
    }
    let mut standard = false;
    for (i, c) in all.iter().enumerate() {
        let coding_path = || format!("{code_path}.coding[{i}]");
        // The JLAC11 systems are checked against the same table: in IG v1.5.3 their CodeSystems
        // list exactly the JLAC10 codes (see data/clins-lab-codes.tsv). A release with real
        // JLAC11 codes needs its own table here.
        let set = match c.system {
            Some(LAB_CORE_JLAC10_CS | LAB_CORE_JLAC11_CS) => Some(LabSet::Core),
            Some(LAB_INFECTION_JLAC10_CS | LAB_INFECTION_JLAC11_CS) => Some(LabSet::Infection),
            _ => None,
        };
        if let Some(set) = set {
            let code = c.code.unwrap_or_default();
            if lab_codes::lookup(code).is_none_or(|entry| entry.set != set) {
                return Err(FhirError::ClinsLabCodeSet {
                    path: coding_path(),
                    code: safe_token(code),
                });
            }
            standard = true;
        } else if c.system == Some(LAB_UNCODED_CS) {
            if c.code != Some(LAB_UNCODED_CODE) {
                return Err(FhirError::ClinsLabCodeSet {
                    path: coding_path(),
                    code: c.code.and_then(safe_token),
                });
            }
            standard = true;
        } else if c.system == Some(JLAC10_CS) && c.code.is_some_and(|s| !s.trim().is_empty()) {
            standard = true;
        }
    }
    if standard {
        Ok(())
    } else {
        Err(FhirError::ClinsLabStandardCode { path: code_path })
    }
}

/// JP_Condition_eCS `code.coding[medisRecordNo]` (1..*): "MEDIS 病名管理番号を必ず使用する。なお、
/// 病名のコード化ができない場合には、病名管理番号と同じ桁数の全桁9の文字列を設定する" — a coding in
/// [`DISEASE_KEY_NUMBER_CS`] with an 8-digit code, [`DISEASE_UNCODED`] for an uncoded name.
/// (The 病名交換用コード and ICD-10 may be added but do not replace it.)
pub(crate) fn check_condition(resource: &Value, path: &str) -> Result<(), FhirError> {
    let ok = resource
        .get("code")
        .map(codings)
        .unwrap_or_default()
        .iter()
        .any(|c| {
            c.system == Some(DISEASE_KEY_NUMBER_CS)
                && c.code
                    .is_some_and(|code| code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit()))
        });
    if ok {
        Ok(())
    } else {
        Err(FhirError::ClinsConditionCode {
            path: format!("{path}.code"),
        })
    }
}

/// R3010: `medicationCodeableConcept` carries a YJ code, an MHLW 一般名処方 code, or the NOCODED
/// marker (other systems may be added). With an 一般名処方マスタ loaded into `terminology`, an
/// 一般名処方 code must also be in it (the profile's binding; the guide's error example
/// ErrorExample-JP-MedReq-PO-SID-28days breaks exactly this).
pub(crate) fn check_medication(
    resource: &Value,
    path: &str,
    terminology: &Terminology,
) -> Result<(), FhirError> {
    let concept_path = format!("{path}.medicationCodeableConcept");
    let Some(concept) = resource.get("medicationCodeableConcept") else {
        // A medicationReference names a Medication resource; CLINS always sends the concept.
        return Err(FhirError::ClinsMedicationCode { path: concept_path });
    };
    let all: Vec<Coding<'_>> = codings(concept);
    let has = |systems: &[&str]| {
        all.iter()
            .any(|c| c.system.is_some_and(|s| systems.contains(&s)) && c.code.is_some())
    };
    if !(has(&YJ_SYSTEMS) || has(&GENERAL_NAME_SYSTEMS) || has(&[MEDICATION_NOCODED_CS])) {
        return Err(FhirError::ClinsMedicationCode { path: concept_path });
    }
    for (i, c) in all.iter().enumerate() {
        let (Some(system), Some(code)) = (c.system, c.code) else {
            continue;
        };
        if GENERAL_NAME_SYSTEMS.contains(&system)
            && terminology.general_name_code_known(code) == Some(false)
        {
            return Err(FhirError::ClinsMedicationCodeUnknown {
                path: format!("{concept_path}.coding[{i}]"),
                code: safe_token(code),
            });
        }
    }
    Ok(())
}

/// Whether an Observation is a lab result: category `laboratory` (any system), the lab profile,
/// or a coding from one of the CLINS lab systems.
pub(crate) fn is_lab_observation(resource: &Value) -> bool {
    let category_lab = list(resource, "category")
        .iter()
        .flat_map(codings)
        .any(|c| c.code == Some("laboratory"));
    let clins_coding = resource
        .get("code")
        .map(codings)
        .unwrap_or_default()
        .iter()
        .any(|c| {
            matches!(
                c.system,
                Some(
                    LAB_LOCAL_CODE_CS
                        | LAB_CORE_JLAC10_CS
                        | LAB_CORE_JLAC11_CS
                        | LAB_INFECTION_JLAC10_CS
                        | LAB_INFECTION_JLAC11_CS
                        | LAB_UNCODED_CS
                )
            )
        });
    category_lab || claims_profile(resource, PROFILE_OBSERVATION_LAB) || clins_coding
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_bundle_id_is_institution_year_and_local_id() {
        let ok = check_bundle_identifier(
            Some(BUNDLE_IDENTIFIER_SYSTEM),
            "1318814790^2024^0123-IDa-203949583949",
        );
        assert_eq!(ok, Ok("1318814790"));
        for bad in [
            "1318814790^2024",
            "1318814790^2024^a^b",
            "131881479^2024^X",
            "1348814790^2024^X", // fee table 4 is not a medical institution
            "5318814790^2024^X", // prefecture starts 0-4
            "1318814790^1999^X", // 20[2-3]x
            "1318814790^2040^X",
            "1318814790^2024^",
            "1318814790^2024^has_underscore",
            "1318814790^2024^0123456789012345678901234567890123456", // 37 characters
        ] {
            assert_eq!(
                check_bundle_identifier(Some(BUNDLE_IDENTIFIER_SYSTEM), bad),
                Err(FhirError::ClinsBundleIdentifier {
                    problem: IdentifierProblem::BadFormat
                }),
                "{bad}"
            );
        }
        assert_eq!(
            check_bundle_identifier(Some("urn:other"), "1318814790^2024^X").map_err(|e| e.rule()),
            Err("clins-bundle-identifier")
        );
    }

    #[test]
    fn an_uncoded_diagnosis_uses_eight_nines_under_the_key_number_system() {
        let with = |system: &str, code: &str| json!({"code": {"coding": [{"system": system, "code": code}], "text": "x"}});
        assert!(check_condition(&with(DISEASE_KEY_NUMBER_CS, "20064049"), "").is_ok());
        assert!(check_condition(&with(DISEASE_KEY_NUMBER_CS, DISEASE_UNCODED), "").is_ok());
        // The exchange code alone does not satisfy the rule, nor does a 9-digit placeholder.
        assert!(check_condition(&with(DISEASE_EXCHANGE_CS, "L3RF"), "").is_err());
        assert!(check_condition(&with(DISEASE_KEY_NUMBER_CS, "999999999"), "").is_err());
        assert!(check_condition(&json!({"code": {"text": "腹痛"}}), "").is_err());
    }

    #[test]
    fn a_lab_needs_a_local_code_and_a_standard_or_uncoded_code() {
        let obs = |codings: Value| json!({"code": {"coding": codings}});
        let local = json!({"system": LAB_LOCAL_CODE_CS, "code": "0180500_023"});
        let uncoded = json!({"system": LAB_UNCODED_CS, "code": LAB_UNCODED_CODE});
        let core = json!({"system": LAB_CORE_JLAC10_CS, "code": "3H015000002326101"});
        let general = json!({"system": JLAC10_CS, "code": "8A065000002391901"});
        assert!(check_lab(&obs(json!([local.clone(), uncoded])), "").is_ok());
        assert!(check_lab(&obs(json!([local.clone(), core.clone()])), "").is_ok());
        assert!(check_lab(&obs(json!([local.clone(), general.clone()])), "").is_ok());
        assert_eq!(
            check_lab(&obs(json!([general])), "").map_err(|e| e.rule()),
            Err("clins-lab-local-code")
        );
        assert_eq!(
            check_lab(&obs(json!([local.clone()])), "").map_err(|e| e.rule()),
            Err("clins-lab-standard-code")
        );
        // eGFR's JLAC10 code is not one of the 43 items.
        let not_in_set = json!({"system": LAB_CORE_JLAC10_CS, "code": "8A065000002391901"});
        assert_eq!(
            check_lab(&obs(json!([local.clone(), not_in_set])), "x").map_err(|e| e.rule()),
            Err("clins-lab-code-set")
        );
        // A core code sent under the infection system is not in that set.
        let wrong_set = json!({"system": LAB_INFECTION_JLAC10_CS, "code": "3H015000002326101"});
        assert!(check_lab(&obs(json!([local.clone(), wrong_set])), "").is_err());
        let bad_uncoded = json!({"system": LAB_UNCODED_CS, "code": "9999"});
        assert!(check_lab(&obs(json!([local, bad_uncoded])), "").is_err());
    }

    #[test]
    fn a_medicine_needs_yj_general_name_or_nocoded() {
        let t = Terminology::new();
        let med = |system: &str, code: &str| json!({"medicationCodeableConcept": {"coding": [{"system": system, "code": code}]}});
        assert!(check_medication(&med(YJ_SYSTEMS[0], "2171022F6276"), "", &t).is_ok());
        assert!(check_medication(&med(GENERAL_NAME_SYSTEMS[0], "1124030F2ZZZ"), "", &t).is_ok());
        assert!(check_medication(&med(MEDICATION_NOCODED_CS, "NOCODED"), "", &t).is_ok());
        assert_eq!(
            check_medication(&med(HOT9_CS, "118185202"), "", &t).map_err(|e| e.rule()),
            Err("clins-medication-code")
        );
        let master = Terminology::new().with_general_name_codes(["1124030F2ZZZ"]);
        assert_eq!(
            check_medication(&med(GENERAL_NAME_SYSTEMS[0], "2124030F2ZZZ"), "", &master)
                .map_err(|e| e.rule()),
            Err("clins-medication-code-unknown")
        );
    }

    #[test]
    fn an_institution_number_must_be_the_submitting_facilitys() {
        let with = |n: &str| {
            json!({"extension": [{"url": INSTITUTION_NUMBER_EXTENSION,
                "valueIdentifier": {"system": "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no", "value": n}}]})
        };
        assert!(check_institution_number(&with("1318814790"), "", "1318814790", true).is_ok());
        let other = check_institution_number(&with("1311234567"), "r", "1318814790", false);
        assert!(matches!(
            other,
            Err(FhirError::ClinsInstitutionNumber {
                problem: InstitutionProblem::OtherFacility,
                ..
            })
        ));
        assert!(check_institution_number(&json!({}), "", "1318814790", false).is_ok());
        assert!(check_institution_number(&json!({}), "", "1318814790", true).is_err());
        assert!(check_institution_number(&with("13188147"), "", "1318814790", false).is_err());
    }
}
