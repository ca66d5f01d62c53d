#!/usr/bin/env python3
"""Police person rows for the import benchmark.

Writes N rows of the police `persons` kind (src/ingest/mappings/police.toml) with its Chinese
header names, as CSV (default) or NDJSON, streaming in constant memory:

    python3 bench/ingest_data.py --rows 1000000 --out /tmp/persons.csv --grids grids.txt
    python3 bench/ingest_data.py --rows 1000000 --out /tmp/persons.csv --hub gridhub.db
    python3 bench/ingest_data.py --rows 200000 --out /tmp/persons.ndjson --format ndjson --hub gridhub.db

Grid codes come from `--grids` (one existing leaf grid code per line) or, without it, from the
SQLite hub given with `--hub` (`SELECT code FROM grids WHERE level IN ('grid','micro_grid')`).

The data is deterministic (`random.Random(2026)`): the same arguments give the same file.
ID numbers are valid 18-character GB 11643 numbers, unique within the file, and issued by region
codes that `gridhub seed` never uses, so no row collides with a seeded person: every valid row
is a new person on the first import. About 0.5% of the rows carry a wrong check character and
must be rejected. About 35% are floating population, 1% key persons.

Standard library only. Prints the number of rows written (and how many are dirty).
"""

import argparse
import csv
import datetime
import json
import math
import random
import sqlite3
import sys

# --- GB 11643 resident ID numbers -------------------------------------------------------------

#: Weights of the first 17 digits in the check sum.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: Check character for each value of the weighted sum mod 11.
ID_CHECK_CHARS = "10X98765432"


def id_check_char(first17):
    """The mod-11 check character of 17 ASCII digits."""
    total = 0
    for digit, weight in zip(first17, ID_WEIGHTS):
        total += (ord(digit) - 48) * weight
    return ID_CHECK_CHARS[total % 11]


def make_id(region, birth, sequence):
    """A valid 18-character number: `region` (6 digits), `birth` (a date or 'YYYYMMDD'),
    `sequence` (0-999; an odd last digit is a man, even a woman)."""
    if not isinstance(birth, str):
        birth = birth.strftime("%Y%m%d")
    first17 = "%s%s%03d" % (region, birth, sequence)
    return first17 + id_check_char(first17)


def wrong_check(id_number):
    """The same number with a check character that is not the right one."""
    right = id_number[-1]
    wrong = ID_CHECK_CHARS[(ID_CHECK_CHARS.index(right) + 1) % 11]
    return id_number[:-1] + wrong


def upgrade15(old):
    """The 18-character form of an old 15-digit number (born in the 1900s)."""
    first17 = old[:6] + "19" + old[6:]
    return first17 + id_check_char(first17)


# --- Benchmark population ---------------------------------------------------------------------

#: Police `persons` header names (Chinese), in file order.
HEADER = [
    "人员编号", "公民身份号码", "姓名", "民族", "联系电话", "户籍地址",
    "户籍类型", "人口类型", "网格编码", "重点人员",
]

SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN_MALE = (
    "伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 鑫 波 宇 浩 建国 建华 志强 志明 海涛 "
    "俊杰 文博 子轩 浩然 宇航 国庆 晓东 振华 永刚 德胜 立新 新民 卫东 红军 天佑"
).split()
GIVEN_FEMALE = (
    "芳 娜 敏 静 丽 艳 娟 霞 燕 玲 婷 雪 慧 颖 琳 欣 洁 倩 萍 莉 秀英 桂英 玉兰 秀兰 "
    "丽娟 海燕 晓燕 雅婷 欣怡 梓涵 思雨 佳琪 淑珍 凤英 春梅 红梅 金凤 美玲 雨萱 诗涵"
).split()
UYGHUR_MALE = "买买提 艾力 阿不都 吐尔逊 麦麦提 艾合买提 努尔 亚森".split()
UYGHUR_FEMALE = "古丽 阿依古丽 帕提古丽 热依拉 米娜瓦尔 阿依努尔 再娜甫 努尔古丽".split()
KAZAKH_MALE = "叶尔兰 努尔兰 别克 达吾列提 哈那提 叶尔波拉提".split()
KAZAKH_FEMALE = "阿依达娜 古丽娜尔 阿克玛拉 加依娜尔 沙吾列".split()
HUI_SURNAMES = "马 白 杨 穆 哈".split()
MONGOL_MALE = "巴特尔 宝音 额尔敦 孟和 朝鲁".split()
MONGOL_FEMALE = "其其格 萨仁 乌兰 格日勒 娜仁".split()

#: Ethnicity and its cumulative share.
ETHNICITIES = (("汉族", 0.80), ("维吾尔族", 0.89), ("哈萨克族", 0.94), ("回族", 0.98), ("蒙古族", 1.0))

#: Issuing regions, none used by `gridhub seed`: Karamay city and elsewhere.
REGIONS = (
    ("650202", "新疆维吾尔自治区克拉玛依市独山子区"),
    ("320102", "江苏省南京市玄武区"),
    ("420102", "湖北省武汉市江岸区"),
    ("330102", "浙江省杭州市上城区"),
    ("430102", "湖南省长沙市芙蓉区"),
    ("210102", "辽宁省沈阳市和平区"),
    ("650104", "新疆维吾尔自治区乌鲁木齐市新市区"),
    ("652201", "新疆维吾尔自治区哈密市"),
    ("654002", "新疆维吾尔自治区伊宁市"),
)
ROADS = "准噶尔路 天山路 迎宾路 大庆路 石化大道 友谊路 胜利路 建设路 幸福路 解放路 人民路 和平路".split()
VILLAGES = "红星村 新建村 光明村 东风村 幸福村 前进村".split()
MOBILE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 177 180 181 182 183 186 187 188 189 191 198 199"
).split()

#: Birth dates: from 1935-01-01 over 26,000 days (to 2006-03), ages 20 to 91 in 2026.
FIRST_BIRTH = datetime.date(1935, 1, 1)
BIRTH_DAYS = 26000
#: Slots of unique ID numbers: region × birth day × sequence.
SLOTS = len(REGIONS) * BIRTH_DAYS * 1000
#: Multiplier of the slot permutation (prime, coprime with SLOTS).
STRIDE = 2_654_435_761 % SLOTS
while math.gcd(STRIDE, SLOTS) != 1:
    STRIDE += 1

DIRTY_SHARE = 0.005
FLOATING_SHARE = 0.35
KEY_PERSON_SHARE = 0.01


def slot(i):
    """Region index, birth date and sequence of row `i`: a permutation of 0..SLOTS, so that the
    ID numbers of the first SLOTS rows are all different without remembering them."""
    j = (i * STRIDE + 12345) % SLOTS
    sequence = j % 1000
    j //= 1000
    day = j % BIRTH_DAYS
    region = j // BIRTH_DAYS
    return region, FIRST_BIRTH + datetime.timedelta(days=day), sequence


def person_name(rng, ethnicity, male):
    if ethnicity == "汉族":
        return rng.choice(SURNAMES) + rng.choice(GIVEN_MALE if male else GIVEN_FEMALE)
    if ethnicity == "维吾尔族":
        return rng.choice(UYGHUR_FEMALE if not male else UYGHUR_MALE) + "·" + rng.choice(UYGHUR_MALE)
    if ethnicity == "哈萨克族":
        return rng.choice(KAZAKH_FEMALE if not male else KAZAKH_MALE) + "·" + rng.choice(KAZAKH_MALE)
    if ethnicity == "回族":
        return rng.choice(HUI_SURNAMES) + rng.choice(GIVEN_MALE if male else GIVEN_FEMALE)
    return rng.choice(MONGOL_MALE if male else MONGOL_FEMALE)


def rows(n, grids, seed=2026):
    """Yields (row, dirty) for n rows."""
    rng = random.Random(seed)
    random_ = rng.random
    randrange = rng.randrange
    choice = rng.choice
    for i in range(n):
        region_index, birth, sequence = slot(i)
        region, region_name = REGIONS[region_index]
        id_number = make_id(region, birth, sequence)
        male = sequence % 2 == 1
        r = random_()
        ethnicity = next(name for name, cumulative in ETHNICITIES if r < cumulative)
        # Registered residents hold a local household registration (户籍) in the district,
        # wherever their number was issued (Karamay is a city of migrants); floating residents
        # keep theirs where the number was issued.
        floating = random_() < FLOATING_SHARE
        if not floating:
            address = "克拉玛依区%s%d号" % (choice(ROADS), randrange(1, 400))
        elif randrange(3) == 0:
            address = "%s%s%d号" % (region_name, choice(VILLAGES), randrange(1, 300))
        else:
            address = "%s%s%d号" % (region_name, choice(ROADS), randrange(1, 400))
        dirty = random_() < DIRTY_SHARE
        if dirty:
            id_number = wrong_check(id_number)
        phone = choice(MOBILE_PREFIXES) + "%08d" % randrange(100_000_000)
        yield [
            "RY%010d" % (i + 1),
            id_number,
            person_name(rng, ethnicity, male),
            ethnicity,
            phone,
            address,
            "外地" if floating else "本地",
            "流动人口" if floating else "户籍人口",
            choice(grids),
            "是" if random_() < KEY_PERSON_SHARE else "否",
        ], dirty


def load_grids(args):
    if args.grids:
        with open(args.grids, encoding="utf-8") as f:
            codes = [line.strip() for line in f if line.strip()]
    elif args.hub:
        db = sqlite3.connect("file:%s?mode=ro" % args.hub, uri=True)
        codes = [
            code
            for (code,) in db.execute(
                "SELECT code FROM grids WHERE level IN ('grid','micro_grid') ORDER BY code"
            )
        ]
        db.close()
    else:
        sys.exit("give the leaf grid codes with --grids FILE or --hub SQLITE_FILE")
    if not codes:
        sys.exit("no leaf grid codes found")
    return codes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to write (default 1,000,000)")
    parser.add_argument("--out", required=True, help="file to write")
    parser.add_argument("--format", choices=("csv", "ndjson"), default="csv")
    parser.add_argument("--grids", help="file of existing leaf grid codes, one per line")
    parser.add_argument("--hub", help="SQLite hub to read the leaf grid codes from (without --grids)")
    args = parser.parse_args()
    if args.rows > SLOTS:
        sys.exit("at most %d rows have unique ID numbers" % SLOTS)
    grids = load_grids(args)
    written = dirty_rows = 0
    with open(args.out, "w", encoding="utf-8", newline="", buffering=1 << 20) as f:
        if args.format == "csv":
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(HEADER)
            write = writer.writerow
        else:
            dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

            def write(row):
                f.write(dumps(dict(zip(HEADER, row))))
                f.write("\n")

        for row, dirty in rows(args.rows, grids):
            write(row)
            written += 1
            dirty_rows += dirty
    print("%d rows written to %s (%d with a wrong check character)" % (written, args.out, dirty_rows))


if __name__ == "__main__":
    main()
