//! zh_CN vocabulary for demo data: person names weighted like the census, ethnic groups of
//! Karamay, mobile numbers, and the names of streets, communities, compounds and organisations.

use rand::Rng;

use super::random::{one_of, pick, SeedRng};

/// Common surnames with their approximate share of the population, in hundredths of a percent.
const SURNAMES: &[(&str, u32)] = &[
    ("王", 712),
    ("李", 700),
    ("张", 674),
    ("刘", 538),
    ("陈", 453),
    ("杨", 308),
    ("黄", 223),
    ("赵", 216),
    ("吴", 205),
    ("周", 200),
    ("徐", 167),
    ("孙", 154),
    ("马", 144),
    ("朱", 126),
    ("胡", 116),
    ("郭", 115),
    ("何", 112),
    ("林", 101),
    ("高", 100),
    ("罗", 95),
    ("郑", 89),
    ("梁", 85),
    ("谢", 76),
    ("宋", 70),
    ("唐", 68),
    ("许", 66),
    ("韩", 64),
    ("冯", 62),
    ("邓", 60),
    ("曹", 59),
    ("彭", 56),
    ("曾", 54),
    ("肖", 52),
    ("田", 50),
    ("董", 49),
    ("袁", 48),
    ("潘", 46),
    ("于", 45),
    ("蒋", 44),
    ("蔡", 43),
    ("余", 42),
    ("杜", 41),
    ("叶", 40),
    ("程", 39),
    ("苏", 38),
    ("魏", 37),
    ("吕", 36),
    ("丁", 35),
    ("任", 34),
    ("沈", 33),
    ("姚", 32),
    ("卢", 31),
    ("姜", 30),
    ("崔", 29),
    ("钟", 28),
    ("谭", 27),
    ("陆", 26),
    ("汪", 25),
    ("范", 24),
    ("金", 23),
    ("石", 22),
    ("廖", 21),
    ("贾", 20),
    ("夏", 19),
    ("韦", 18),
    ("欧阳", 5),
    ("司马", 1),
];

/// Characters of men's given names.
const MALE_GIVEN: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "洋", "峰", "建",
    "国", "新", "志", "文", "博", "晨", "阳", "子", "轩", "睿", "泽", "宏", "成", "天", "德", "海",
];

/// Characters of women's given names.
const FEMALE_GIVEN: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "燕", "红", "梅", "琳", "婷", "雪",
    "慧", "莹", "倩", "颖", "佳", "欣", "怡", "雨", "萱", "涵", "梓", "琪", "璐", "晶", "兰", "英",
    "桂", "凤", "春", "月", "思", "悦", "诗", "瑶", "彤", "洁", "蕾", "薇", "妍", "晓", "文", "华",
];

/// Uyghur and Kazakh men's names in their usual Chinese transliteration.
const TURKIC_MALE: &[&str] = &[
    "买买提",
    "艾力",
    "阿不都",
    "吐尔逊",
    "努尔兰",
    "阿迪力",
    "艾山",
    "热合曼",
    "亚森",
    "肉孜",
    "叶尔兰",
    "别克",
    "达吾列提",
    "哈力木",
    "库尔班",
    "依明",
    "塔依尔",
    "阿里木",
];

/// Uyghur and Kazakh women's names in their usual Chinese transliteration.
const TURKIC_FEMALE: &[&str] = &[
    "古丽",
    "阿依古丽",
    "热依拉",
    "帕提古丽",
    "迪丽娜尔",
    "努尔古丽",
    "阿依努尔",
    "米娜瓦尔",
    "祖丽胡玛尔",
    "阿依达娜",
    "古丽娜尔",
    "热娜",
    "阿娜尔",
    "萨拉",
];

/// Ethnic groups of Karamay with weights (Han majority; 38 groups live in the city).
const ETHNICITIES: &[(&str, u32)] = &[
    ("汉族", 7800),
    ("维吾尔族", 1350),
    ("哈萨克族", 450),
    ("回族", 280),
    ("蒙古族", 60),
    ("锡伯族", 15),
    ("满族", 15),
    ("柯尔克孜族", 10),
    ("土家族", 10),
    ("东乡族", 10),
];

/// Whether names of `ethnicity` are transliterated Turkic names ("given·father").
fn is_turkic(ethnicity: &str) -> bool {
    matches!(ethnicity, "维吾尔族" | "哈萨克族" | "柯尔克孜族")
}

/// An ethnic group, weighted like Karamay's population.
pub fn ethnicity(rng: &mut SeedRng) -> &'static str {
    pick(rng, ETHNICITIES)
}

/// A surname, weighted by frequency.
pub fn surname(rng: &mut SeedRng) -> &'static str {
    pick(rng, SURNAMES)
}

/// A full name for a person of `ethnicity`: a Han-style surname plus one or two given-name
/// characters, or a transliterated Turkic name followed by the father's name.
pub fn full_name(rng: &mut SeedRng, surname: &str, male: bool, ethnicity: &str) -> String {
    if is_turkic(ethnicity) {
        let own = one_of(rng, if male { TURKIC_MALE } else { TURKIC_FEMALE });
        return format!("{own}·{}", one_of(rng, TURKIC_MALE));
    }
    let characters = if male { MALE_GIVEN } else { FEMALE_GIVEN };
    let mut name = String::with_capacity(12);
    name.push_str(surname);
    name.push_str(one_of(rng, characters));
    if rng.random_bool(0.72) {
        name.push_str(one_of(rng, characters));
    }
    name
}

/// Mobile prefixes of the three carriers (13x-19x).
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178",
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "193", "195",
    "198", "199",
];

/// An 11-digit mobile number.
pub fn mobile(rng: &mut SeedRng) -> String {
    format!(
        "{}{:08}",
        one_of(rng, MOBILE_PREFIXES),
        rng.random_range(0..100_000_000u32)
    )
}

/// Street names of Karamay (街道 are named after roads).
const STREETS: &[&str] = &[
    "昆仑路",
    "银河路",
    "天山路",
    "胜利路",
    "迎宾路",
    "五五新镇",
    "准噶尔路",
    "友谊路",
];

/// Community names.
const COMMUNITIES: &[&str] = &[
    "银河",
    "友谊",
    "朝阳",
    "幸福",
    "和平",
    "光明",
    "向阳",
    "团结",
    "建设",
    "长征",
    "石油",
    "南湖",
    "北苑",
    "白碱滩",
    "金龙",
    "新城",
    "绿苑",
    "春晖",
    "兴盛",
    "康乐",
    "安泰",
    "丰华",
    "锦绣",
    "明珠",
    "龙湖",
    "黑油山",
    "九龙潭",
    "世纪",
    "瑞祥",
    "永安",
];

/// Roads used in addresses.
pub const ROADS: &[&str] = &[
    "准噶尔路",
    "昆仑路",
    "天山路",
    "友谊路",
    "迎宾大道",
    "世纪大道",
    "塔河路",
    "长征路",
    "南新路",
    "油建路",
    "阿山路",
    "跃进路",
    "北新路",
    "杭州路",
    "上海路",
    "广场路",
    "胜利路",
    "银河路",
    "和平路",
    "民主路",
];

/// Compound name stems.
const COMPOUNDS: &[&str] = &[
    "石化", "油建", "百花", "南湖", "碧水", "金桥", "阳光", "和谐", "康城", "花园", "锦园", "龙园",
    "昆仑", "天润", "恒大", "新华", "安居", "紫荆", "福苑", "雅居",
];

/// Business building names.
const BUSINESS_BUILDINGS: &[&str] = &[
    "石油大厦",
    "金融大厦",
    "友谊商厦",
    "世纪广场",
    "万达广场",
    "时代中心",
    "国际大厦",
    "科技大厦",
    "百货大楼",
    "商务中心",
];

/// Ordinal numerals used to tell apart things that share a name.
const ORDINALS: &[&str] = &["", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

/// `stem` with an ordinal after the first full round of a list of `len` names (银河, 银河二 …).
fn numbered(stem: &str, index: usize, len: usize) -> String {
    let round = index / len;
    match ORDINALS.get(round) {
        Some(ordinal) => format!("{stem}{ordinal}"),
        None => format!("{stem}{}", round + 1),
    }
}

/// Name of the `index`th street, e.g. 昆仑路街道.
pub fn street(index: usize) -> String {
    let stem = STREETS[index % STREETS.len()];
    format!("{}街道", numbered(stem, index, STREETS.len()))
}

/// Name of the `index`th community, e.g. 银河社区.
pub fn community(index: usize) -> String {
    let stem = COMMUNITIES[index % COMMUNITIES.len()];
    format!("{}社区", numbered(stem, index, COMMUNITIES.len()))
}

/// Name of the `index`th residential compound, e.g. 石化小区 or 碧水花园.
pub fn compound(index: usize) -> String {
    let stem = numbered(COMPOUNDS[index % COMPOUNDS.len()], index, COMPOUNDS.len());
    let suffix = ["小区", "花园", "家园", "小区", "苑"][index % 5];
    format!("{stem}{suffix}")
}

/// Name of the `index`th business building.
pub fn business_building(index: usize) -> String {
    let stem = BUSINESS_BUILDINGS[index % BUSINESS_BUILDINGS.len()];
    numbered(stem, index, BUSINESS_BUILDINGS.len())
}

/// Trade names (字号) of companies and shops.
const TRADE_NAMES: &[&str] = &[
    "昆仑", "金盾", "天泽", "鑫源", "华油", "博达", "恒信", "瑞丰", "新锐", "宏远", "诚信", "友邦",
    "德润", "嘉禾", "佳和", "众合", "腾达", "安顺", "泰和", "汇通",
];

/// A company or shop trade name.
pub fn trade_name(rng: &mut SeedRng) -> &'static str {
    one_of(rng, TRADE_NAMES)
}

/// Lines of business of private enterprises.
pub const INDUSTRIES: &[&str] = &[
    "石油技术服务",
    "油田化工",
    "建筑工程",
    "物流",
    "餐饮管理",
    "信息技术",
    "商贸",
    "汽车服务",
    "环保科技",
    "装饰工程",
];

/// Resident units 驻区单位 (offices and institutions).
pub const RESIDENT_UNITS: &[&str] = &[
    "新疆油田公司采油一厂",
    "克拉玛依市第二中学",
    "克拉玛依区人民医院",
    "克拉玛依供电公司",
    "克拉玛依市自来水公司",
    "国家税务总局克拉玛依区税务局",
    "克拉玛依区人民法院",
    "克拉玛依市图书馆",
    "克拉玛依区市场监督管理局",
    "中国石油克拉玛依石化公司",
    "克拉玛依职业技术学院",
    "克拉玛依区疾病预防控制中心",
];

/// Social organisations 社会组织 run in a community.
pub const SOCIAL_ORGANIZATIONS: &[&str] = &[
    "老年协会",
    "志愿者协会",
    "社区服务中心",
    "调解协会",
    "书画协会",
    "慈善工作站",
    "青少年服务中心",
    "残疾人互助会",
];

/// Shops along streets 沿街商铺.
pub const SHOPS: &[&str] = &[
    "超市",
    "便利店",
    "五金店",
    "药店",
    "水果店",
    "理发店",
    "手机店",
    "服装店",
    "烟酒店",
    "干洗店",
];

/// Small restaurants 小餐饮.
pub const RESTAURANTS: &[&str] = &[
    "拉面馆",
    "大盘鸡",
    "烤肉店",
    "抓饭馆",
    "火锅店",
    "饺子馆",
    "川菜馆",
    "早餐店",
];

/// Small hotels 小旅馆.
pub const HOTELS: &[&str] = &["宾馆", "快捷酒店", "招待所"];

/// Small entertainment venues 小娱乐场所.
pub const ENTERTAINMENT: &[&str] = &["KTV", "网吧", "台球厅", "棋牌室"];

/// Public spaces.
pub const PUBLIC_SPACES: &[&str] = &["广场", "公园", "健身广场", "游园"];

/// Where floating residents come from: region code and its registered-address prefix.
pub const ORIGIN_REGIONS: &[(&str, &str)] = &[
    ("510104", "四川省成都市锦江区"),
    ("410102", "河南省郑州市中原区"),
    ("620102", "甘肃省兰州市城关区"),
    ("500103", "重庆市渝中区"),
    ("610113", "陕西省西安市雁塔区"),
    ("130104", "河北省石家庄市桥西区"),
    ("230102", "黑龙江省哈尔滨市道里区"),
    ("370102", "山东省济南市历下区"),
    ("650102", "新疆维吾尔自治区乌鲁木齐市天山区"),
    ("652301", "新疆维吾尔自治区昌吉市"),
];

/// Villages and roads for registered addresses elsewhere.
const ORIGIN_PLACES: &[&str] = &[
    "建设路",
    "人民路",
    "解放路",
    "新华街",
    "光明村",
    "红星村",
    "文化路",
    "工农街",
];

/// A registered address in `prefix` (a province, city and district).
pub fn origin_address(rng: &mut SeedRng, prefix: &str) -> String {
    format!(
        "{prefix}{}{}号",
        one_of(rng, ORIGIN_PLACES),
        rng.random_range(1..300)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::random::phase_rng;

    #[test]
    fn han_names_have_two_or_three_characters() {
        let mut rng = phase_rng(1, 1);
        for _ in 0..1_000 {
            let name = full_name(&mut rng, "王", true, "汉族");
            let count = name.chars().count();
            assert!((2..=3).contains(&count), "{name}");
            assert!(name.starts_with('王'));
        }
    }

    #[test]
    fn turkic_names_carry_the_fathers_name() {
        let mut rng = phase_rng(1, 2);
        let name = full_name(&mut rng, "王", false, "维吾尔族");
        assert!(name.contains('·'), "{name}");
        assert!(!name.starts_with('王'));
    }

    #[test]
    fn common_surnames_dominate() {
        let total: u32 = SURNAMES.iter().map(|(_, w)| w).sum();
        let expected = 20_000 * 712 / total as usize;
        let mut rng = phase_rng(1, 3);
        let wang = (0..20_000).filter(|_| surname(&mut rng) == "王").count();
        assert!(
            wang.abs_diff(expected) < expected / 10,
            "{wang} vs {expected}"
        );
    }

    #[test]
    fn mobiles_have_eleven_digits() {
        let mut rng = phase_rng(1, 4);
        for _ in 0..1_000 {
            let number = mobile(&mut rng);
            assert_eq!(number.len(), 11);
            assert!(number.bytes().all(|b| b.is_ascii_digit()));
            assert!(("13".."2").contains(&&number[..2]), "{number}");
        }
    }

    #[test]
    fn names_repeat_with_ordinals() {
        assert_eq!(street(0), "昆仑路街道");
        assert_eq!(community(0), "银河社区");
        assert_eq!(community(COMMUNITIES.len()), "银河二社区");
        assert_ne!(compound(0), compound(COMPOUNDS.len()));
    }
}
