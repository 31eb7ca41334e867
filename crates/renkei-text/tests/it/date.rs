//! 生年月日.

use renkei_text::fold_date;

#[test]
fn gregorian_forms_and_widths() {
    for text in [
        "19800102",
        "1980-01-02",
        "1980/01/02",
        "1980/1/2",
        "1980.1.2",
        "１９８０－０１－０２",
        "１９８０／０１／０２",
        "1980年1月2日",
        " 1980-01-02 ",
    ] {
        assert_eq!(fold_date(text), Some((1980, 1, 2)), "{text}");
    }
}

#[test]
fn japanese_era_dates() {
    assert_eq!(fold_date("昭和15年3月2日"), Some((1940, 3, 2)));
    assert_eq!(fold_date("昭和十五年三月二日"), Some((1940, 3, 2)));
    assert_eq!(fold_date("S15.3.2"), Some((1940, 3, 2)));
    assert_eq!(fold_date("s15/3/2"), Some((1940, 3, 2)));
    assert_eq!(fold_date("Ｓ１５．３．２"), Some((1940, 3, 2)));
    assert_eq!(fold_date("H2.1.8"), Some((1990, 1, 8)));
    assert_eq!(fold_date("R1.5.1"), Some((2019, 5, 1)));
    assert_eq!(fold_date("令和元年5月1日"), Some((2019, 5, 1)));
    assert_eq!(fold_date("平成元年1月8日"), Some((1989, 1, 8)));
    assert_eq!(fold_date("明治45年7月29日"), Some((1912, 7, 29)));
    assert_eq!(fold_date("M45.7.29"), Some((1912, 7, 29)));
    assert_eq!(fold_date("大正15年12月24日"), Some((1926, 12, 24)));
    assert_eq!(fold_date("T1.7.30"), Some((1912, 7, 30)));
    assert_eq!(fold_date("昭64.1.7"), Some((1989, 1, 7)));
}

#[test]
fn era_dates_before_the_era_began_are_rejected() {
    assert_eq!(fold_date("令和1年4月30日"), None);
    assert_eq!(fold_date("平成1年1月7日"), None);
    assert_eq!(fold_date("T1.7.29"), None);
}

#[test]
fn era_dates_printed_after_the_era_ended_are_accepted() {
    assert_eq!(fold_date("平成31年5月1日"), Some((2019, 5, 1)));
    assert_eq!(fold_date("H32.1.1"), Some((2020, 1, 1)));
}

#[test]
fn a_year_alone_is_not_a_date() {
    assert_eq!(fold_date("平成元年"), None);
    assert_eq!(fold_date("1980"), None);
}

#[test]
fn impossible_calendar_dates_are_rejected() {
    for text in [
        "19800230",
        "1981-02-29",
        "1900-02-29",
        "1980-13-01",
        "1980-00-10",
        "1980-04-31",
        "00000000",
        "S15.2.30",
        "S0.1.1",
        "",
        "1980-01-02x",
        "1980-01/02",
        "X15.3.2",
        "80/01/02",
        "0980-01-02",
    ] {
        assert_eq!(fold_date(text), None, "{text}");
    }
    assert_eq!(fold_date("2000-02-29"), Some((2000, 2, 29)));
    assert_eq!(
        fold_date("1980年1月2"),
        Some((1980, 1, 2)),
        "日 may be left out"
    );
}
