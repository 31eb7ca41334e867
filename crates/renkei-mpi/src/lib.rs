//! 名寄せ: the master patient index's record linkage.
//!
//! Decides which local patient records (one per facility and local ID) are one resident,
//! using 氏名 (kanji and kana), 性別, 生年月日, 住所, 郵便番号 and 被保険者証. **Precision comes
//! first**: a false merge shows one person's records to another person's doctor, so the
//! matcher would rather leave a pair for review, or apart, than link it on doubtful evidence.
//!
//! ```no_run
//! use renkei_mpi::{TrainOptions, link_batch, read_csv, train, write_clusters, assignments};
//! # fn main() -> Result<(), renkei_mpi::MpiError> {
//! let records = read_csv(std::fs::File::open("records.csv")?)?;
//! let model = train(&records, &TrainOptions::default());
//! println!("{model}"); // m, u and weight of every level
//! let clusters = link_batch(&records, &model, 2, &|done, total| eprint!("\r{done}/{total}"));
//! write_clusters(std::fs::File::create("clusters.csv")?, &assignments(&records, &clusters))?;
//! # Ok(()) }
//! ```
//!
//! # Algorithm
//!
//! **Folding.** Every field is folded once with `renkei-text` (NFKC, kana width/script/small
//! kana/long vowels, itaiji, unknown-character markers, address numerals and 丁目/番地/号,
//! postal codes, insurance numbers). Names are split at the space; a name written without a
//! space is split at the longest start that the training data knows as a family name, or
//! against the other record's parts when comparing.
//!
//! **Blocking** (which pairs are compared): records sharing any of birth date; kana family
//! name + birth year; kanji family name + birth year; postal code + sex + given name (kana, and
//! separately kanji); insurer + symbol + number. Postal code + sex is refined by the given
//! name because alone it makes blocks of thousands of records at a million records; the given
//! name is kept because it survives marriage, which is what that key is for. Blocks of more
//! than [`Model::max_block_size`] records (placeholder dates such as 1900-01-01) are skipped.
//!
//! **Comparison levels** (best first; a field missing on either side weighs nothing):
//! - family and given name, each: `exact` (kanji and kana equal), `kanji_equal` (itaiji
//!   folded; kana missing or close), `kanji_unknown_char` (■/〓 on one side),
//!   `kanji_similar` (斎/斉, 竜/龍, 藤/籐), `kana_equal` (no kanji on one side),
//!   `kana_equal_kanji_differ` (博/浩 both ヒロシ), `kanji_equal_kana_differ`,
//!   `kana_jw_0.9` and `kana_jw_0.8` (Jaro–Winkler bands on folded kana, no kanji to
//!   compare), `different`;
//! - sex: `equal`, `different`;
//! - birth date: `exact`, `day_month_swap`, `one_digit_off` (day, month, or last digit of
//!   the year; or two adjacent digits of month/day transposed), `same_year_month`,
//!   `different`;
//! - address (building ignored): `exact`, `same_block`, `same_chome`, `same_town`,
//!   `same_city`, `different`;
//! - postal code: `exact`, `first_3_digits`, `different`;
//! - insurance: `exact` (insurer, symbol, number and 枝番), `exact_without_branch` (枝番
//!   missing on a side: before 2021 a whole family shared one card), `other_branch` (one card,
//!   two family members), `number_only` (symbol and number, insurer differs or missing),
//!   `different`;
//! - plus a fixed rule outside the model: same facility and same local ID weighs
//!   [`Model::same_local_id_weight`].
//!
//! **Weights** (Fellegi–Sunter): each level weighs log2(m/u). The score of a pair is
//! log2 of the prior odds λ/(1−λ) plus the weights: the log2 posterior odds that the two
//! records are one person, under the model's independence assumption. Names that agree on a
//! value get a term-frequency adjustment log2(Σf²/f_v) (within ±[`Model::tf_adjustment_limit`]
//! bits): agreeing on 佐藤 or ヒロシ is worth less than agreeing on a rare name.
//!
//! **Estimation** ([`train`]), in the manner of Splink:
//! - *u* from random record pairs (1M by default), each weighted by its posterior
//!   probability of being two persons, so the few true matches among them do not inflate u;
//! - *m* by EM, with u fixed, in one session per blocking rule; a session leaves out the
//!   fields its rule makes agree (or that agree through it: the address within a postal
//!   code, the family name and address on one insurance card), and each field's m is the
//!   average over the sessions that estimate it, weighted by their estimated matches;
//! - *λ*: matches in the birth-date session over m(birth date exact), divided by all pairs;
//! - three rounds of the above. Priors keep estimates sane: a Dirichlet prior (20 pseudo-pairs
//!   by default) on every m and u distribution, u at least half a random pair, weights within
//!   ±30 bits, and a field whose estimate says agreement is not evidence of a match falls back
//!   to its prior m; the m of insurance `other_branch` stays at its prior (by rule it is two
//!   people; EM would give it the m of the twins that share a card). [`Model::to_report`]
//!   prints all of it.
//!
//! **Conflicts** ([`Conflict`]). Hard (the pair is a new person whatever its score):
//! different sex; birth dates beyond the typo levels (including any change in the tens of the
//! year: a father and son with one name born 1950 and 1980 on the same day would otherwise be
//! one digit apart); same facility with other local IDs (two registrations at one facility are
//! two patients in practice); one insurance card with two 枝番 (two members of a family).
//! Soft (at most review, never an automatic link):
//! - *given names differ*: they share neither kanji nor reading (level `different`, or the
//!   lowest Jaro–Winkler band), which is how twins look: same family name, birth date, address
//!   and card. Kana are only "close" when they have the same length, so 翔 ショウ is not a typo
//!   of 翔太 ショウタ. Waived when the records share the card *and* its 枝番, which names one
//!   member of a family;
//! - *uncorroborated*: nothing but names, sex and birth date agree — no address in the same
//!   town or closer, postal code, insurance card or local ID. Strangers with one common name
//!   and birth date look like this, and so does someone who moved across municipalities and
//!   changed 国保 at the same time; a person tells them apart.
//!
//! **Outcomes** ([`classify`]): hard conflict → new person; soft conflict → review (if the
//! score reaches the review threshold) or new person; otherwise score ≥ link threshold → link,
//! ≥ review threshold → review, else new person.
//!
//! **Thresholds** ([`Thresholds`], default link ≥ +10, review ≥ −4, in log2 posterior odds).
//! The model's posterior is over-confident, because fields are correlated (address, postal
//! code and insurance move together; a household shares family name, address and card), so
//! the thresholds were set on the synthetic benchmark ([`evaluate`]), traps included, rather
//! than read off the posterior: sweeping the link threshold at 100,000 persons, pairwise
//! precision was flat from +12 down to +6 (the conflict and corroboration rules do the work)
//! and started to fall below +6; the default sits 4 bits (16×) above that. Recall gains below
//! +10 were under 0.1%. Review starts at posterior odds of 1 : 16.
//!
//! **Clustering** ([`link_batch`]): Link edges strongest first; an edge merges two clusters
//! only if no record of one conflicts with any record of the other, so two conflicting records
//! are never chained into one person through a third. At cluster level the conflicts are the
//! hard ones and given names whose *kanji* differ (a kana typo in one record must not split a
//! person whose other records carry the kanji). Then **ambiguous** records are taken out: a
//! record whose refused link was nearly as strong as its best accepted one (within 10 bits)
//! and which itself conflicts with nobody on the other side fits two clusters that cannot be
//! one person — a record without a birth date that matches a father and a son with one name,
//! or a record without a given name that matches both twins. It stays on its own and its
//! links go to review ([`LinkOutput::review`]).
//!
//! **Known limits.** A record without a birth date that matches a junior (a son with his
//! father's name, address and card) links to whichever of them has other records when the
//! other has none: nothing in the data tells them apart. Records of one person with two
//! different birth-date typos can conflict and stay apart. A move across municipalities
//! together with a new 国保 card, or a marriage together with a move and a new card, leaves
//! only name and birth date: review, not link.
//!
//! **Online** ([`Index`]): the blocking keys of every record in hash maps; a new record is
//! compared with the records sharing a key, candidates best first with their evidence.
//! Records are inserted and removed one at a time, so a network keeps one index and updates
//! it as residents are registered, merged and unmerged, instead of rebuilding it.

mod block;
mod compare;
pub mod eval;
mod link;
mod model;
mod prepare;
mod record;
pub mod synth;
mod synth_data;

pub use block::BLOCKING_KEYS;
pub use compare::{Comparison, Conflict, FieldEvidence, Outcome, classify, compare};
pub use eval::{
    ClusteringScores, EvalReport, clusters_from_assignments, evaluate, evaluate_keeping_population,
    score_clustering,
};
pub use link::{
    Cluster, Index, LinkOutput, LinkStats, ReviewPair, assignments, link_batch, link_batch_detailed,
};
pub use model::{
    FieldParams, LevelParams, Model, SessionSummary, Thresholds, TrainOptions, TrainingSummary,
    WEIGHT_LIMIT, train,
};
pub use prepare::TermFrequencies;
pub use record::{CSV_COLUMNS, LinkRecord, MpiError, read_csv, write_clusters, write_csv};
pub use renkei_domain::Sex;
