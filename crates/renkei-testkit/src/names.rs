//! Word lists for the synthetic region: common surnames and given names with their katakana
//! readings, the invented town's districts, buildings and the relationships of proxies.
//!
//! Every person the generator makes is a random combination of these words; none is meant to be
//! a real person. The town, なぎさ市, does not exist (there is a real さくら市 in Tochigi, so the
//! demo region avoids that name).

/// A name part written in kanji (or, for some older women, katakana) with its reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Name {
    pub kanji: &'static str,
    pub kana: &'static str,
}

const fn n(kanji: &'static str, kana: &'static str) -> Name {
    Name { kanji, kana }
}

/// A surname with the romanisation used for staff login names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Surname {
    pub name: Name,
    pub romaji: &'static str,
}

const fn s(kanji: &'static str, kana: &'static str, romaji: &'static str) -> Surname {
    Surname {
        name: Name { kanji, kana },
        romaji,
    }
}

/// The invented town every facility and resident is in.
pub(crate) const TOWN: &str = "なぎさ市";
pub(crate) const PREFECTURE: &str = "神奈川県";

/// The separator between family and given name: a full-width space (U+3000).
pub(crate) const NAME_SEPARATOR: char = '\u{3000}';

/// Common Japanese surnames. The last few are variant spellings with the same reading
/// (斉藤/斎藤, 渡部/渡辺 read alike), which exercises 名寄せ.
pub(crate) const SURNAMES: [Surname; 42] = [
    s("佐藤", "サトウ", "sato"),
    s("鈴木", "スズキ", "suzuki"),
    s("高橋", "タカハシ", "takahashi"),
    s("田中", "タナカ", "tanaka"),
    s("伊藤", "イトウ", "ito"),
    s("渡辺", "ワタナベ", "watanabe"),
    s("山本", "ヤマモト", "yamamoto"),
    s("中村", "ナカムラ", "nakamura"),
    s("小林", "コバヤシ", "kobayashi"),
    s("加藤", "カトウ", "kato"),
    s("吉田", "ヨシダ", "yoshida"),
    s("山田", "ヤマダ", "yamada"),
    s("佐々木", "ササキ", "sasaki"),
    s("山口", "ヤマグチ", "yamaguchi"),
    s("松本", "マツモト", "matsumoto"),
    s("井上", "イノウエ", "inoue"),
    s("木村", "キムラ", "kimura"),
    s("林", "ハヤシ", "hayashi"),
    s("斎藤", "サイトウ", "saito"),
    s("清水", "シミズ", "shimizu"),
    s("山崎", "ヤマザキ", "yamazaki"),
    s("森", "モリ", "mori"),
    s("池田", "イケダ", "ikeda"),
    s("橋本", "ハシモト", "hashimoto"),
    s("阿部", "アベ", "abe"),
    s("石川", "イシカワ", "ishikawa"),
    s("山下", "ヤマシタ", "yamashita"),
    s("中島", "ナカジマ", "nakajima"),
    s("石井", "イシイ", "ishii"),
    s("小川", "オガワ", "ogawa"),
    s("前田", "マエダ", "maeda"),
    s("岡田", "オカダ", "okada"),
    s("長谷川", "ハセガワ", "hasegawa"),
    s("藤田", "フジタ", "fujita"),
    s("後藤", "ゴトウ", "goto"),
    s("近藤", "コンドウ", "kondo"),
    s("村上", "ムラカミ", "murakami"),
    s("遠藤", "エンドウ", "endo"),
    s("青木", "アオキ", "aoki"),
    s("坂本", "サカモト", "sakamoto"),
    s("斉藤", "サイトウ", "saito"),
    s("渡部", "ワタナベ", "watanabe"),
];

/// Women's given names common among people born before about 1960.
pub(crate) const FEMALE_OLDER: [Name; 18] = [
    n("花子", "ハナコ"),
    n("幸子", "サチコ"),
    n("和子", "カズコ"),
    n("節子", "セツコ"),
    n("洋子", "ヨウコ"),
    n("恵子", "ケイコ"),
    n("京子", "キョウコ"),
    n("久子", "ヒサコ"),
    n("文子", "フミコ"),
    n("千代子", "チヨコ"),
    n("美代子", "ミヨコ"),
    n("静子", "シズコ"),
    n("信子", "ノブコ"),
    n("昭子", "アキコ"),
    n("トメ", "トメ"),
    n("キヨ", "キヨ"),
    n("ハル", "ハル"),
    n("とし子", "トシコ"),
];

/// Women's given names common among people born from about 1960.
pub(crate) const FEMALE_YOUNGER: [Name; 16] = [
    n("由美", "ユミ"),
    n("直美", "ナオミ"),
    n("智子", "トモコ"),
    n("裕子", "ユウコ"),
    n("真由美", "マユミ"),
    n("明美", "アケミ"),
    n("陽子", "ヨウコ"),
    n("美穂", "ミホ"),
    n("愛", "アイ"),
    n("彩", "アヤ"),
    n("美咲", "ミサキ"),
    n("陽菜", "ヒナ"),
    n("結衣", "ユイ"),
    n("さくら", "サクラ"),
    n("葵", "アオイ"),
    n("芽依", "メイ"),
];

/// Men's given names common among people born before about 1960.
pub(crate) const MALE_OLDER: [Name; 16] = [
    n("一郎", "イチロウ"),
    n("清", "キヨシ"),
    n("茂", "シゲル"),
    n("勇", "イサム"),
    n("実", "ミノル"),
    n("進", "ススム"),
    n("博", "ヒロシ"),
    n("正", "タダシ"),
    n("武", "タケシ"),
    n("勝", "マサル"),
    n("弘", "ヒロシ"),
    n("三郎", "サブロウ"),
    n("正雄", "マサオ"),
    n("和夫", "カズオ"),
    n("昭", "アキラ"),
    n("修", "オサム"),
];

/// Men's given names common among people born from about 1960.
pub(crate) const MALE_YOUNGER: [Name; 15] = [
    n("誠", "マコト"),
    n("健一", "ケンイチ"),
    n("隆", "タカシ"),
    n("浩", "ヒロシ"),
    n("大輔", "ダイスケ"),
    n("直樹", "ナオキ"),
    n("翔太", "ショウタ"),
    n("拓也", "タクヤ"),
    n("健太", "ケンタ"),
    n("大翔", "ヒロト"),
    n("蓮", "レン"),
    n("悠真", "ユウマ"),
    n("陽翔", "ハルト"),
    n("湊", "ミナト"),
    n("亮", "リョウ"),
];

/// The districts (町) of なぎさ市 with their synthetic postal codes.
pub(crate) const DISTRICTS: [(&str, &str); 16] = [
    ("港町", "240-0001"),
    ("桜町", "240-0002"),
    ("緑町", "240-0003"),
    ("旭町", "240-0004"),
    ("本町", "240-0005"),
    ("栄町", "240-0006"),
    ("寿町", "240-0011"),
    ("若葉町", "240-0012"),
    ("松風町", "240-0013"),
    ("汐見台", "240-0014"),
    ("かもめ台", "240-0021"),
    ("ひばりが丘", "240-0022"),
    ("浜見町", "240-0023"),
    ("青葉台", "240-0031"),
    ("東町", "240-0032"),
    ("西町", "240-0033"),
];

/// Apartment buildings some residents live in.
pub(crate) const BUILDINGS: [&str; 6] = [
    "なぎさハイツ",
    "コーポみなと",
    "グリーンヒル汐見",
    "メゾン桜",
    "サンライズ若葉",
    "シーサイドコート",
];

/// Which way a proxy's given name goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kin {
    /// A son, nephew: a man of the resident's family.
    Male,
    /// A daughter, niece: a woman of the resident's family.
    Female,
    /// The husband or wife.
    Spouse,
    /// Not family (成年後見人): another surname.
    Guardian,
}

/// Relationships of adult residents' proxies (代理人の続柄), with relative weights.
pub(crate) const ADULT_PROXY_RELATIONSHIPS: [(&str, Kin, u32); 8] = [
    ("長男", Kin::Male, 25),
    ("長女", Kin::Female, 25),
    ("次男", Kin::Male, 8),
    ("次女", Kin::Female, 8),
    ("配偶者", Kin::Spouse, 20),
    ("成年後見人", Kin::Guardian, 8),
    ("甥", Kin::Male, 3),
    ("姪", Kin::Female, 3),
];
