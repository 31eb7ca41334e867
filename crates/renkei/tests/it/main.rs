//! Integration tests of the `renkei` binary: the command line as an operator uses it, and the
//! browser end-to-end tests. One test binary (every file in `tests/` would be its own slow link).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod browser;
mod cli;
mod ingest;
