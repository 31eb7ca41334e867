#!/usr/bin/env python3
"""Splink on Renkei's linkage CSV: the comparison of issue 4 (`renkei bench link --splink`).

    python3 splink_link.py records.csv clusters.csv [--threshold 0.99999] [--threads 2]

Reads the columns of `renkei link` (record_id, facility, local_id, name_kanji, name_kana, sex,
birth_date, postal_code, address, insurer_number, insured_symbol, insured_number,
insured_branch), deduplicates them with Splink (DuckDB backend) configured as a careful user
would for Japanese resident data, and writes `record_id,cluster_id` (every record, singletons
included). Progress goes to stderr; the last line on stdout is a JSON summary with the time of
each phase and the peak resident set of this process (`ru_maxrss`: Python and DuckDB together).
Standard library, splink and duckdb only. Written for Splink 5 (the current release); Splink 4
differs only in how the Linker is made (`make_linker`) and lacks the blocking count.

Normalisation (what a Splink user does before linking; `normalise()` below, in Python):
- NFKC on every field: full-width digits and letters to ASCII, half-width kana to full-width,
  the ideographic space to a space.
- Kana names: hiragana to katakana; small kana to large (old systems cannot store ャュョッ, so
  キョウコ also arrives as キヨウコ); spaces removed for the full name.
- Family and given name: split at the space. A quarter of the records write the kana without
  one; those are split after the longest start that is a family name written with a space
  (at least twice) elsewhere in the same file, or not at all. Kanji the same way.
- No itaiji folding (髙/高, 﨑/崎), no long-vowel or ヅ/ズ folding: that takes tables a Splink
  user would not have; the kana comparison and Jaro-Winkler absorb most of it.
- Birth date to ISO (YYYY-MM-DD) for DateOfBirthComparison; birth year for blocking.
- Postal code: digits only, 7 of them (leading zeros restored), else missing.
- Address: spaces removed; prefecture and 郡 dropped (some facilities write them, some do
  not); kanji numerals before 丁目 as digits; 丁目/番地/番/号 and dashes as hyphens; building
  and room cut off after the block number — so 三島市寿町三丁目23番地4 ヴィラ松原406号室 and
  静岡県三島市寿町3-23-4 agree. The town is the address up to its first digit.
- Insurance: hyphens and spaces removed, leading zeros of insurer and insured number dropped
  (spreadsheets drop them); the card is insurer + symbol + number, 枝番 apart.

Model (Fellegi-Sunter as Splink does it):
- Comparisons, one per piece of evidence (Splink assumes them independent, so correlated
  columns are combined rather than counted twice):
  family name and given name, each: kana and kanji equal; kana equal, kanji missing on a side
  (both term-frequency adjusted on the kana); kana equal, kanji differ; kanji equal, kana
  differ; kana Jaro-Winkler >= 0.88; other. Not Jaro-Winkler on the whole name: family name
  first means every household shares a long prefix, which Jaro-Winkler rewards;
  birth date: exact, Levenshtein 1, within 1 month, 1 year, 10 years, other
  (DateOfBirthComparison); sex: exact;
  residence (address and postal code together: one postal code per town): same address, same
  town or postal code, same first three postal digits, other;
  insurance card: card and 枝番, card with 枝番 missing on a side (before 2021 a family
  shared a card without 枝番), card with another 枝番 (a family member), other.
- Blocking for prediction: birth date; kana family name + birth year; kanji family name +
  birth year; postal code + sex + kana given name; insurance card. Postal code + sex alone
  gives about a billion pairs at a million records (a few hundred towns), so it is refined by
  the given name, which survives marriage.
- λ from deterministic rules (kana full name + birth date; card + birth date) at recall 0.7;
  u by random sampling (10 million pairs, seeded); m by EM in two sessions (blocked on birth
  date; on kana family + given name), which between them estimate every comparison.
- Threshold: match probability 0.99999 (match weight ≈ +16.6), clusters are the connected
  components of the pairs at or above it (cluster_pairwise_predictions_at_threshold). At 0.9
  or 0.99 Splink merges households: assuming independence, family name + address + card
  (about +34 bits) outweigh a different given name and birth date (about -10), and EM learns
  twins and same-named fathers and sons as matches. The threshold was chosen on a tuning
  population (20,000 persons, seed 2; the bench's default seed is 1) by sweeping 0.5 …
  0.99999999 against the truth: precision rose and recall fell, and F1 peaked at 0.99999
  (0.9: P 0.46 R 0.99; 0.99: P 0.59 R 0.98; 0.9999: P 0.93 R 0.97; 0.99999: P 0.965
  R 0.953; 0.999999: P 0.975 R 0.90). That is what a careful user's clerical review of
  sample clusters would push towards, and more: it tunes Splink with truth a real user would
  not have, which favours Splink in the comparison.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import re
import resource
import sys
import tempfile
import time
import unicodedata
import warnings

import duckdb
import splink
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

SPLINK_MAJOR = int(splink.__version__.split(".")[0])

HIRAGANA_TO_KATAKANA = {c: c + 0x60 for c in range(0x3041, 0x3097)}
SMALL_TO_LARGE_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
PREFECTURE = re.compile(r"^(北海道|東京都|京都府|大阪府|.{2,3}県)")
DISTRICT = re.compile(r"^[^市区町村郡]{1,4}郡")
KANJI_CHOME = re.compile(r"([〇一二三四五六七八九十]+)丁目")
BLOCK_WORDS = re.compile(r"(丁目|番地の|番地|番|号)")
KANJI_DIGITS = str.maketrans("〇一二三四五六七八九", "0123456789")

OUTPUT_COLUMNS = [
    "record_id",
    "kana_full",
    "kana_family",
    "kana_given",
    "kanji_full",
    "kanji_family",
    "kanji_given",
    "sex",
    "birth_date",
    "birth_year",
    "postal_code",
    "address",
    "town",
    "ins_card",
    "ins_branch",
]


def log(msg: str) -> None:
    print(f"[splink_link] {msg}", file=sys.stderr, flush=True)


def clean(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip()


def fold_name(s: str, kana: bool) -> list[str]:
    """NFKC (and for kana: katakana, large kana), split at whitespace."""
    s = clean(s)
    if kana:
        s = s.translate(HIRAGANA_TO_KATAKANA).translate(SMALL_TO_LARGE_KANA)
    return s.split()


def split_name(parts: list[str], families: set[str]) -> tuple[str, str, str]:
    """(full, family, given), spaces removed. A name written without a space is split after
    the longest start that is a family name seen (with a space) elsewhere in the data."""
    if not parts:
        return "", "", ""
    if len(parts) > 1:
        return "".join(parts), parts[0], "".join(parts[1:])
    full = parts[0]
    for k in range(len(full) - 1, 0, -1):
        if full[:k] in families:
            return full, full[:k], full[k:]
    return full, "", ""


def digits(s: str) -> str:
    return "".join(ch for ch in clean(s) if ch.isdigit())


def fold_address(s: str) -> str:
    """Municipality, town and block numbers: no prefecture or 郡, 丁目/番地/号 as hyphens,
    no building or room."""
    a = "".join(clean(s).split())
    a = PREFECTURE.sub("", a)
    a = DISTRICT.sub("", a)
    a = KANJI_CHOME.sub(lambda m: kanji_number(m.group(1)) + "丁目", a)
    a = BLOCK_WORDS.sub("-", a)
    a = re.sub(r"(?<=\d)[-ー−‐―－](?=\d)", "-", a)
    m = re.match(r"^(\D*\d+(?:-\d+)*)", a)
    return m.group(1) if m else a


def kanji_number(k: str) -> str:
    if k == "十":
        return "10"
    if k.startswith("十"):  # 十一 … 十九
        return "1" + k[1:].translate(KANJI_DIGITS)
    if k.endswith("十"):  # 二十 …
        return k[:-1].translate(KANJI_DIGITS) + "0"
    return k.replace("十", "").translate(KANJI_DIGITS)


def normalise(row: dict[str, str], kana_families: set[str], kanji_families: set[str]) -> list:
    kana_full, kana_family, kana_given = split_name(
        fold_name(row["name_kana"], True), kana_families
    )
    kanji_full, kanji_family, kanji_given = split_name(
        fold_name(row["name_kanji"], False), kanji_families
    )
    sex = row["sex"].strip()
    sex = sex if sex in ("1", "2") else ""
    bd = row["birth_date"].strip().replace("-", "")
    birth_date = f"{bd[0:4]}-{bd[4:6]}-{bd[6:8]}" if len(bd) == 8 and bd.isdigit() else ""
    postal = digits(row["postal_code"])
    postal = postal.zfill(7) if 5 <= len(postal) <= 7 else ""
    address = fold_address(row["address"])
    town = re.split(r"\d", address, maxsplit=1)[0] if address else ""
    insurer = digits(row["insurer_number"]).lstrip("0")
    symbol = "".join(clean(row["insured_symbol"]).replace("-", "").split())
    number = "".join(clean(row["insured_number"]).replace("-", "").split()).lstrip("0")
    branch = digits(row["insured_branch"])
    branch = branch.lstrip("0") or ("0" if branch else "")
    ins_card = f"{insurer}|{symbol}|{number}" if number else ""
    return [
        row["record_id"],
        kana_full,
        kana_family,
        kana_given,
        kanji_full,
        kanji_family,
        kanji_given,
        sex,
        birth_date,
        birth_date[:4],
        postal,
        address,
        town,
        ins_card,
        branch,
    ]


def known_families(path: str) -> tuple[set[str], set[str]]:
    """Family names (kana, kanji) that records written with a space show at least twice."""
    kana: dict[str, int] = {}
    kanji: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            for parts, seen in (
                (fold_name(row["name_kana"], True), kana),
                (fold_name(row["name_kanji"], False), kanji),
            ):
                if len(parts) > 1:
                    seen[parts[0]] = seen.get(parts[0], 0) + 1
    return ({k for k, n in kana.items() if n >= 2}, {k for k, n in kanji.items() if n >= 2})


def load(con: duckdb.DuckDBPyConnection, path: str, workdir: str) -> int:
    """Normalises the CSV into table `records` (empty strings as NULL)."""
    norm = os.path.join(workdir, "normalised.csv")
    kana_families, kanji_families = known_families(path)
    n = 0
    with open(path, newline="", encoding="utf-8-sig") as f, open(
        norm, "w", newline="", encoding="utf-8"
    ) as out:
        w = csv.writer(out)
        w.writerow(OUTPUT_COLUMNS)
        for row in csv.DictReader(f):
            w.writerow(normalise(row, kana_families, kanji_families))
            n += 1
    types = ", ".join(f"'{c}': 'VARCHAR'" for c in OUTPUT_COLUMNS)
    con.sql(
        f"""CREATE TABLE records AS
            SELECT * FROM read_csv('{norm}', header = true, columns = {{{types}}},
                                   nullstr = '', quote = '"')"""
    )
    os.remove(norm)
    return n


def insurance_comparison() -> cl.CustomComparison:
    card = "ins_card"
    return cl.CustomComparison(
        output_column_name="insurance",
        comparison_levels=[
            cll.NullLevel(card),
            cll.And(cll.ExactMatchLevel(card), cll.ExactMatchLevel("ins_branch")).configure(
                label_for_charts="same card and 枝番"
            ),
            cll.CustomLevel(
                '"ins_card_l" = "ins_card_r"'
                ' AND ("ins_branch_l" IS NULL OR "ins_branch_r" IS NULL)',
                label_for_charts="same card, 枝番 missing on a side",
            ),
            cll.ExactMatchLevel(card).configure(label_for_charts="same card, other 枝番"),
            cll.ElseLevel(),
        ],
    )


def name_comparison(part: str) -> cl.CustomComparison:
    """Family or given name, kana and kanji together (they are one piece of evidence; two
    comparisons would count it twice). Not Jaro-Winkler on the whole name: family name first
    means every household shares a long prefix, which Jaro-Winkler rewards."""
    kana, kanji = f"kana_{part}", f"kanji_{part}"
    kanji_missing = f'("{kanji}_l" IS NULL OR "{kanji}_r" IS NULL)'
    return cl.CustomComparison(
        output_column_name=f"{part}_name",
        comparison_levels=[
            cll.CustomLevel(
                f'("{kana}_l" IS NULL OR "{kana}_r" IS NULL) AND {kanji_missing}'
            ).configure(is_null_level=True),
            cll.And(cll.ExactMatchLevel(kana), cll.ExactMatchLevel(kanji)).configure(
                tf_adjustment_column=kana, label_for_charts="kana and kanji equal"
            ),
            cll.CustomLevel(
                f'"{kana}_l" = "{kana}_r" AND {kanji_missing}',
                label_for_charts="kana equal, kanji missing on a side",
            ).configure(tf_adjustment_column=kana),
            cll.ExactMatchLevel(kana).configure(label_for_charts="kana equal, kanji differ"),
            cll.ExactMatchLevel(kanji).configure(label_for_charts="kanji equal, kana differ"),
            cll.JaroWinklerLevel(kana, 0.88),
            cll.ElseLevel(),
        ],
    )


def residence_comparison() -> cl.CustomComparison:
    """Address and postal code together: one postal code per town, so agreeing on both is
    one piece of evidence, not two."""
    missing = '("{0}_l" IS NULL OR "{0}_r" IS NULL)'
    return cl.CustomComparison(
        output_column_name="residence",
        comparison_levels=[
            cll.CustomLevel(f"{missing.format('address')} AND {missing.format('postal_code')}")
            .configure(is_null_level=True),
            cll.ExactMatchLevel("address").configure(label_for_charts="same address"),
            cll.Or(cll.ExactMatchLevel("town"), cll.ExactMatchLevel("postal_code")).configure(
                label_for_charts="same town or postal code"
            ),
            cll.CustomLevel(
                'substr("postal_code_l", 1, 3) = substr("postal_code_r", 1, 3)',
                label_for_charts="postal code: same first three digits",
            ),
            cll.ElseLevel(),
        ],
    )


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            name_comparison("family"),
            name_comparison("given"),
            cl.DateOfBirthComparison(
                "birth_date", input_is_string=True, datetime_format="%Y-%m-%d"
            ),
            cl.ExactMatch("sex"),
            residence_comparison(),
            insurance_comparison(),
        ],
        blocking_rules_to_generate_predictions=BLOCKING_RULES,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


BLOCKING_RULES = [
    block_on("birth_date"),
    block_on("kana_family", "birth_year"),
    block_on("kanji_family", "birth_year"),
    block_on("postal_code", "sex", "kana_given"),
    block_on("ins_card"),
]


def make_linker(db_api: DuckDBAPI, s: SettingsCreator) -> Linker:
    if SPLINK_MAJOR >= 5:
        return Linker(db_api.register("records"), s)
    return Linker("records", s, db_api)  # Splink 4


def pairs_blocked(db_api: DuckDBAPI, n: int) -> int | None:
    """Pairs the prediction blocking rules generate (Splink 5's estimate from a 5% sample)."""
    try:
        from splink.blocking_analysis import count_comparisons_from_blocking_rules

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            counts = count_comparisons_from_blocking_rules(
                db_api.register("records", table_name="records_for_counting"),
                blocking_rules=BLOCKING_RULES,
                link_type="dedupe_only",
                unique_id_column_name="record_id",
                record_sample_proportion=min(1.0, max(0.05, 50_000 / n)),
            )
        for c in counts:
            log(f"  {c['blocking_rule']}: +{c['marginal_comparison_count']}")
        return int(counts[-1]["cumulative_comparison_count"])
    except Exception as e:  # Splink 4 has another API; the count is informative only
        log(f"no blocking count ({type(e).__name__})")
        return None


def train(linker: Linker, max_pairs: float, seed: int) -> None:
    linker.training.estimate_probability_two_random_records_match(
        [block_on("kana_full", "birth_date"), block_on("ins_card", "birth_date")],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("kana_family", "kana_given")
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--threshold", type=float, default=0.99999)
    p.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: all cores)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-pairs", type=float, default=1e7, help="pairs sampled for u")
    p.add_argument("--verbose", action="store_true", help="Splink's own progress log")
    args = p.parse_args()

    t_start = time.perf_counter()
    con = duckdb.connect(":memory:")
    if args.threads > 0:
        con.sql(f"SET threads TO {args.threads}")
    threads = con.sql("SELECT current_setting('threads')").fetchall()[0][0]

    with tempfile.TemporaryDirectory() as workdir:
        n = load(con, args.input, workdir)
    load_secs = time.perf_counter() - t_start
    log(f"{n} records loaded and normalised in {load_secs:.1f} s")

    db_api = DuckDBAPI(connection=con)
    linker = make_linker(db_api, settings())
    logging.getLogger("splink").setLevel(logging.INFO if args.verbose else logging.WARNING)
    blocked = pairs_blocked(db_api, n)
    if blocked is not None:
        log(f"blocking rules generate about {blocked} pairs")

    t = time.perf_counter()
    train(linker, args.max_pairs, args.seed)
    train_secs = time.perf_counter() - t
    log(f"trained in {train_secs:.1f} s")

    t = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=args.threshold)
    above = con.sql(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]
    predict_secs = time.perf_counter() - t
    log(f"{above} pairs at or above {args.threshold} in {predict_secs:.1f} s")

    t = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=args.threshold
    )
    cluster_secs = time.perf_counter() - t
    out = args.output.replace("'", "''")
    con.sql(
        f"""COPY (SELECT record_id, cluster_id FROM {clusters.physical_name}
                  ORDER BY record_id) TO '{out}' (HEADER, DELIMITER ',')"""
    )
    log(f"clustered in {cluster_secs:.1f} s")

    summary = {
        "splink_version": splink.__version__,
        "duckdb_version": duckdb.__version__,
        "threshold": args.threshold,
        "threads": int(threads),
        "load_secs": load_secs,
        "train_secs": train_secs,
        "predict_secs": predict_secs,
        "cluster_secs": cluster_secs,
        "elapsed_secs": time.perf_counter() - t_start,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "pairs_blocked": blocked,
        "pairs_above_threshold": int(above),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
