//! Writing JAHIS HL7 v2.5 messages as SS-MIX2 stores them: segments from numbered fields, HL7
//! escapes for free text, CR segment ends, and ISO-2022-JP bytes with MSH-18 `~ISO IR87`.
//!
//! The layout of MSH, PID, PV1 and ORC follows the JAHIS sample storage in
//! `../shared/testdata/ssmix2/nho-sample`, so what the mapper accepts from real senders it
//! accepts from the demo too.

use encoding_rs::ISO_2022_JP;
use time::{Date, PrimitiveDateTime};

use super::person::{Doctor, Person};
use renkei_domain::Sex;

/// HL7 escapes for text placed in a field: the delimiters `| ^ ~ \ &` become `\F\ \S\ \R\ \E\
/// \T\`. (Escaping is done on Unicode text, before encoding: in JIS X 0208 bytes such as 剤's
/// `0x5E` are not delimiters.)
pub(crate) fn esc(text: &str) -> String {
    if !text.contains(['|', '^', '~', '\\', '&']) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\F\\"),
            '^' => out.push_str("\\S\\"),
            '~' => out.push_str("\\R\\"),
            '\\' => out.push_str("\\E\\"),
            '&' => out.push_str("\\T\\"),
            c => out.push(c),
        }
    }
    out
}

/// One segment built from numbered fields (1-based; values are written as given, so callers
/// escape free text with [`esc`] and join components with `^` themselves).
pub(crate) struct Seg {
    name: &'static str,
    fields: Vec<String>,
}

impl Seg {
    pub(crate) fn new(name: &'static str) -> Self {
        Self {
            name,
            fields: Vec::new(),
        }
    }

    /// Set field `n`.
    pub(crate) fn f(mut self, n: usize, value: impl Into<String>) -> Self {
        if n == 0 {
            return self;
        }
        if self.fields.len() < n {
            self.fields.resize(n, String::new());
        }
        if let Some(slot) = self.fields.get_mut(n - 1) {
            *slot = value.into();
        }
        self
    }

    fn render(&self, out: &mut String) {
        out.push_str(self.name);
        let used = self
            .fields
            .iter()
            .rposition(|f| !f.is_empty())
            .map_or(0, |i| i + 1);
        for f in self.fields.iter().take(used) {
            out.push('|');
            out.push_str(f);
        }
        out.push('\r');
    }
}

/// The MSH segment as JAHIS senders write it: sending application and facility (MSH-3/4; the
/// facility code identifies the network participant), MSH-9 type, MSH-18 `~ISO IR87`,
/// MSH-20 `ISO 2022-1994` and the SS-MIX2 message profile.
pub(crate) fn msh(
    facility_code: &str,
    at: PrimitiveDateTime,
    message_type: &str,
    control_id: &str,
) -> String {
    format!(
        "MSH|^~\\&|HIS|{facility_code}|RENKEI|RENKEI|{}||{message_type}|{control_id}|P|2.5||||||~ISO IR87||ISO 2022-1994|SS-MIX2_1.20^SS-MIX2^1.2.392.200250.2.1.100.1.2.120^ISO\r",
        ts14(at)
    )
}

/// Render MSH and the segments after it into one message text with CR segment ends.
pub(crate) fn message(msh: String, segments: &[Seg]) -> String {
    let mut out = msh;
    for s in segments {
        s.render(&mut out);
    }
    out
}

/// The geta mark 〓, which Japanese systems print for a character their code set lacks.
const GETA: char = '〓';

/// ISO-2022-JP bytes of `text`. A character JIS X 0208 cannot represent (none of the word lists
/// has one; the check is for names a caller adds) becomes 〓, as Japanese EMRs do, instead of the
/// numeric character reference the WHATWG encoder would write (its `&` is an HL7 delimiter).
pub(crate) fn iso_2022_jp(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = ISO_2022_JP.encode(text);
    if !unmappable {
        return bytes.into_owned();
    }
    let cleaned: String = text
        .chars()
        .map(|c| {
            let mut buf = [0u8; 4];
            let (_, _, bad) = ISO_2022_JP.encode(c.encode_utf8(&mut buf));
            if bad { GETA } else { c }
        })
        .collect();
    ISO_2022_JP.encode(&cleaned).0.into_owned()
}

/// `YYYYMMDD`.
pub(crate) fn ymd(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `YYYYMMDDHHMM`.
pub(crate) fn ts12(t: PrimitiveDateTime) -> String {
    format!("{}{:02}{:02}", ymd(t.date()), t.hour(), t.minute())
}

/// `YYYYMMDDHHMMSS`.
pub(crate) fn ts14(t: PrimitiveDateTime) -> String {
    format!(
        "{}{:02}{:02}{:02}",
        ymd(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `YYYYMMDDHHMMSSfff`: the 17-digit 発生日時 of SS-MIX2 file names.
pub(crate) fn ts17(t: PrimitiveDateTime) -> String {
    format!("{}{:03}", ts14(t), t.millisecond())
}

/// PID-5: the kanji name (representation `I`) and the kana name (`P`), family and given name
/// in their own components.
pub(crate) fn xpn(p: &Person) -> String {
    let mut reps = Vec::with_capacity(2);
    if let Some((family, given)) = &p.kanji {
        reps.push(format!("{}^{}^^^^^L^I", esc(family), esc(given)));
    }
    reps.push(format!("{}^{}^^^^^L^P", esc(&p.kana.0), esc(&p.kana.1)));
    reps.join("~")
}

/// PID-8 (HL7 table 0001).
pub(crate) fn sex_code(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "M",
        Sex::Female => "F",
        Sex::Unknown => "U",
    }
}

/// A doctor as XCN: local staff ID, family and given name, representation `I`.
pub(crate) fn xcn(d: &Doctor) -> String {
    format!(
        "{}^{}^{}^^^^^^^L^^^^^I",
        esc(&d.id),
        esc(&d.family),
        esc(&d.given)
    )
}

/// The PID segment: PID-3 the facility's patient ID (`PI`), names, birth date and sex, and with
/// `full` the home address and phone as ADT-00 carries them.
pub(crate) fn pid(patient_id: &str, p: &Person, full: bool) -> Seg {
    let mut s = Seg::new("PID")
        .f(1, "0001")
        .f(3, format!("{}^^^^PI", esc(patient_id)))
        .f(5, xpn(p))
        .f(7, ymd(p.birth_date))
        .f(8, sex_code(p.sex));
    if full {
        if p.address.is_some() || p.postal_code.is_some() {
            s = s.f(
                11,
                format!(
                    "^^^^{}^JPN^H^{}",
                    esc(p.postal_code.as_deref().unwrap_or_default()),
                    esc(p.address.as_deref().unwrap_or_default())
                ),
            );
        }
        if let Some(phone) = &p.phone {
            s = s.f(13, format!("^PRN^PH^^^^^^^^^{}", esc(phone)));
        }
    }
    s
}
