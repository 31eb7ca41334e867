//! Requirements of renkei-text, one module per field. One test binary for the crate: every
//! file under `tests/` would be linked on its own (do not add more top-level test files).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod address;
mod date;
mod insurance;
mod kana;
mod kanji;
mod properties;
