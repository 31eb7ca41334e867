//! Japanese normalisation for record linkage (名寄せ).
//!
//! Each function here turns one field as a facility sent it into a **comparison key**: two
//! spellings of one value (ｻﾄｳ and さとう, 髙橋 and 高橋, 1丁目2番地3号 and 1-2-3) fold to one
//! key. Keys are for matching only. Stored originals are never rewritten, and a key is never
//! shown to a person as if it were the name or address on record.
//!
//! | field | function | module |
//! |---|---|---|
//! | カナ氏名 | [`fold_kana`], [`split_name`] | [`kana`] |
//! | 漢字氏名 | [`fold_kanji_name`], [`kanji_similar`], [`kanji_eq_with_unknown`], [`has_unknown_chars`] | [`kanji`] |
//! | 住所, 郵便番号 | [`fold_address`], [`address_prefix_level`], [`fold_postal_code`] | [`address`] |
//! | 保険者番号, 記号, 番号, 枝番 | [`fold_insurer_number`], [`fold_insured_symbol`], [`fold_insured_number`], [`fold_branch`] | [`insurance`] |
//! | 生年月日 | [`fold_date`] | [`date`] |
//!
//! ```
//! use renkei_text::{AddressMatch, address_prefix_level, fold_address, fold_kana, fold_kanji_name};
//!
//! assert_eq!(fold_kana("ｷｮｳｺ"), fold_kana("きょーこ"));
//! assert_eq!(fold_kanji_name("髙橋　恭子"), fold_kanji_name("高橋恭子"));
//! let a = fold_address("神奈川県横浜市中区山下町１丁目２番地３号");
//! let b = fold_address("横浜市中区山下町1-2-3 ハイツ桜201");
//! assert_eq!(address_prefix_level(&a, &b), AddressMatch::Exact);
//! ```
//!
//! Every fold is idempotent (`fold(fold(x)) == fold(x)`), never panics, and does no I/O.
//! Raw HL7 is never passed here: decode and unescape first, NFKC would break its delimiters.

pub mod address;
mod chars;
pub mod date;
pub mod insurance;
pub mod kana;
pub mod kanji;

pub use address::{
    AddressKey, AddressMatch, PREFECTURES, address_prefix_level, fold_address, fold_postal_code,
};
pub use date::fold_date;
pub use insurance::{fold_branch, fold_insured_number, fold_insured_symbol, fold_insurer_number};
pub use kana::{fold_kana, split_name};
pub use kanji::{
    ITAIJI_KYUJITAI, ITAIJI_SURNAME, UNKNOWN_CHAR, fold_kanji_name, has_unknown_chars,
    kanji_eq_with_unknown, kanji_name_similar, kanji_similar,
};
