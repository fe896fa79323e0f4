"""Deterministic synthetic households for 鄂温克族自治旗 2024 年第二季度防止返贫监测集中排查.

Usage::

    python examples/generate_households.py N [--seed S] [-o FILE]

writes ``N`` households as JSON Lines (one object a line, keys sorted, UTF-8,
``ensure_ascii=False``). The same ``N`` and seed always give byte-identical output; the
module is importable and :func:`generate` returns the records as dicts.

Every record follows ``shared/domain/SPEC.md`` section 2 ("Household input contract") and
section 8 ("Precise readings"): exact keys, enum values and types; money as a JSON number
with at most 2 decimals or (in a few households) as a decimal string such as ``"8300.00"``;
dates ISO. The data are **fictitious**: every name, 身份证号 (``150724...``, with a valid check
digit but made up) and telephone number is generated at random and belongs to nobody.

Geography. The nine 苏木/镇/乡 are the real ones of 鄂温克族自治旗 (巴彦托海镇, 大雁镇,
伊敏河镇, 红花尔基镇, 锡尼河东苏木, 锡尼河西苏木, 辉苏木, 伊敏苏木, 巴彦塔拉达斡尔民族乡).
The 嘎查/村/社区 names below are *illustrative*: several are names that occur in the banner,
but they were not checked against the official list and may not exist or may belong to another
苏木; so are the 12-digit area codes used in ``household_id``. The ``village`` object of a 嘎查
(脱贫户数, 2021 年以来识别监测户数, area flags) is the same on every household of that 嘎查,
and a batch never holds more 脱贫户 or monitored households of a 嘎查 than those counts
(西博嘎查 has exactly 10 脱贫户 and 0 监测户 → KA-1; 维特很嘎查 9/0 and 雅鲁嘎查 10/1 do not).

What the 2,000 households of the default seed look like (approximately):

* pastoral households (牧户) with herds (``livestock_head`` = 牛 + 羊 + 马, the breakdown in
  notes), large business income and expense and a seasonal year (sales in autumn, a weak or
  negative 2024Q1); farming (Daur maize/soy), mixed, wage and pasture-rent households;
  out-of-scope town households (``urban_other``), 农转非 and relocated households;
* household size 1-7, members with age, health, labour skill, students aged 6-16, elderly;
* about 25 % 脱贫户, 8 % open and 5 % eliminated monitoring objects, some 低保/特困 members,
  risk types, sudden events (2023-24 snow disaster, accidents, illness), rare 三保障 problems;
* a small scheduled share of *boundary* households: pcni exactly 8300.00, 8299.99 and 8300.01
  (including half-up ties such as 16600.01 / 2 = 8300.005 → 8300.01), medical self-paid exactly
  10000.00 and 10000.01, monitoring identified exactly 6, 12 and 24 months before 2024-06-05
  (and one day short), income_stable_months 6 and 5, DQ-4 differences 1.00 and 1.01, entered
  2024-06-10 / 06-11, sudden events on 2024-01-01 / 2023-12-31, rank percentile 20, negative
  net income with a rounding tie (-1000.01 / 2 → -500.01), eliminations after exactly 6 months
  and after 2023-08-31 → 2024-02-29 (only 5 whole months), an eliminated household living mainly
  on 低保 (RB-2) and a 因务工就业不稳 risk with nobody employed (DQ-9);
* about 1 % of households miss one *required* field (a valid record, DQ-1 / undetermined);
* varied presentation: a quarter of the records leave out optional keys that hold their default,
  about 4 % give money as decimal strings, about 2 % spell absent optional keys as ``null``;
  ``pcni_2023_rank_pct`` is the percentile of ``pcni_2023`` among the batch's 脱贫户;
* a few deliberate data-quality problems (wrong income window, recorded net income off by more
  than 1 元, phone collection without a record, missing signatures, late entry, ...).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["DEFAULT_SEED", "dumps_jsonl", "generate", "main"]

Json = dict[str, Any]
T = TypeVar("T")

DEFAULT_SEED = 20240605
AS_OF = dt.date(2024, 6, 5)
LINE = 830_000  # 监测收入基准 8300 元, in fen (1/100 元)
WINDOW_START = dt.date(2023, 5, 1)
WINDOW_END = dt.date(2024, 4, 30)

RISK_TYPES = (
    "因病",
    "因学",
    "因残",
    "因自然灾害",
    "因意外事故",
    "因产业项目失败",
    "因务工就业不稳",
    "因缺劳动力",
    "其他",
)
MEASURES = (
    "产业帮扶",
    "就业帮扶",
    "金融帮扶",
    "公益岗位帮扶",
    "以工代赈",
    "庭院经济",
    "联农带农",
    "健康帮扶",
    "教育帮扶",
    "住房安全帮扶",
    "饮水安全帮扶",
    "综合保障",
    "临时救助",
    "社会帮扶",
    "资产收益",
    "光伏收益",
    "易地搬迁",
)
DEV_MEASURES = ("产业帮扶", "就业帮扶", "金融帮扶", "公益岗位帮扶", "以工代赈", "庭院经济")
ABLE = ("普通劳动力", "技能劳动力")
WEAK = "弱劳动力或半劳动力"

# --------------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------------

ETHNIC_MIX: dict[str, tuple[tuple[str, int], ...]] = {
    "巴彦托海镇": (("han", 45), ("mongol", 25), ("evenki", 20), ("daur", 10)),
    "大雁镇": (("han", 70), ("mongol", 15), ("daur", 10), ("evenki", 5)),
    "伊敏河镇": (("han", 60), ("evenki", 15), ("mongol", 15), ("daur", 10)),
    "红花尔基镇": (("han", 50), ("evenki", 25), ("mongol", 20), ("daur", 5)),
    "锡尼河东苏木": (("mongol", 75), ("evenki", 15), ("han", 10)),
    "锡尼河西苏木": (("mongol", 78), ("evenki", 12), ("han", 10)),
    "辉苏木": (("evenki", 45), ("mongol", 40), ("han", 10), ("daur", 5)),
    "伊敏苏木": (("evenki", 45), ("mongol", 25), ("han", 20), ("daur", 10)),
    "巴彦塔拉达斡尔民族乡": (("daur", 50), ("han", 25), ("evenki", 15), ("mongol", 10)),
}


@dataclass(frozen=True)
class Village:
    """One 嘎查/村 (or town 社区) with the 旗-level facts that go into ``village``."""

    sumu: str
    gacha: str
    code: str
    kind: str  # pastoral, farming, mixed, community (no village object), relocation
    weight: int
    tuopin_hh_count: int
    monitoring_since_2021: int
    is_tuopin_village: bool
    flags: str  # R relocation_site, H heavy_task, D disaster_hit, I income drop, L livestock

    def as_json(self) -> Json:
        return {
            "tuopin_hh_count": self.tuopin_hh_count,
            "monitoring_hh_identified_since_2021": self.monitoring_since_2021,
            "is_tuopin_village": self.is_tuopin_village,
            "relocation_site": "R" in self.flags,
            "heavy_task": "H" in self.flags,
            "disaster_hit": "D" in self.flags,
            "income_drop_cluster_2023": "I" in self.flags,
            "large_livestock": "L" in self.flags,
        }


# sumu, gacha, area code, kind, weight, 脱贫户数, 2021 年以来识别监测户数, 脱贫村, flags
_VILLAGE_ROWS: tuple[tuple[str, str, str, str, int, int, int, bool, str], ...] = (
    ("巴彦托海镇", "巴彦托海嘎查", "150724100201", "mixed", 4, 46, 22, False, "H"),
    ("巴彦托海镇", "团结嘎查", "150724100202", "mixed", 3, 34, 17, False, ""),
    ("巴彦托海镇", "幸福社区易地搬迁安置点", "150724100005", "relocation", 1, 30, 9, False, "RH"),
    ("巴彦托海镇", "第二社区", "150724100002", "community", 3, 3, 4, False, ""),
    ("大雁镇", "新立村", "150724101201", "farming", 2, 24, 12, False, ""),
    ("大雁镇", "东山社区", "150724101004", "community", 2, 2, 3, False, ""),
    ("伊敏河镇", "伊敏河村", "150724102201", "farming", 2, 22, 12, False, "I"),
    ("伊敏河镇", "兴安社区", "150724102003", "community", 2, 2, 3, False, ""),
    ("红花尔基镇", "红花尔基嘎查", "150724103201", "mixed", 2, 22, 11, False, "D"),
    ("红花尔基镇", "樟子松社区", "150724103001", "community", 1, 1, 2, False, ""),
    ("锡尼河东苏木", "孟根楚鲁嘎查", "150724201201", "pastoral", 4, 44, 20, False, "L"),
    ("锡尼河东苏木", "巴彦胡硕嘎查", "150724201202", "pastoral", 3, 34, 16, False, ""),
    ("锡尼河东苏木", "罕乌拉嘎查", "150724201203", "pastoral", 3, 36, 17, True, "LI"),
    ("锡尼河东苏木", "巴彦都兰嘎查", "150724201204", "pastoral", 2, 14, 0, False, "L"),
    ("锡尼河西苏木", "特莫胡珠嘎查", "150724202201", "pastoral", 4, 42, 21, False, "LD"),
    ("锡尼河西苏木", "好力宝嘎查", "150724202202", "pastoral", 3, 33, 15, False, ""),
    ("锡尼河西苏木", "西博嘎查", "150724202203", "pastoral", 2, 10, 0, False, "L"),
    ("锡尼河西苏木", "维特很嘎查", "150724202204", "pastoral", 2, 9, 0, False, ""),
    ("辉苏木", "哈克木嘎查", "150724203201", "pastoral", 3, 38, 18, True, "LDI"),
    ("辉苏木", "乌兰宝力格嘎查", "150724203202", "pastoral", 3, 33, 16, False, "LD"),
    ("辉苏木", "扎格达木丹嘎查", "150724203203", "pastoral", 2, 26, 12, True, "LDH"),
    ("辉苏木", "嘎鲁图嘎查", "150724203204", "pastoral", 2, 11, 1, False, ""),
    ("伊敏苏木", "吉登嘎查", "150724204201", "pastoral", 3, 35, 16, False, "LI"),
    ("伊敏苏木", "毕鲁图嘎查", "150724204202", "pastoral", 3, 32, 15, False, ""),
    ("伊敏苏木", "永丰嘎查", "150724204203", "mixed", 3, 31, 15, False, "H"),
    ("伊敏苏木", "伊兰嘎查", "150724204204", "pastoral", 2, 24, 11, False, "D"),
    ("巴彦塔拉达斡尔民族乡", "讷门嘎查", "150724205201", "farming", 3, 35, 16, False, "I"),
    ("巴彦塔拉达斡尔民族乡", "德仁嘎查", "150724205202", "mixed", 3, 30, 15, False, ""),
    ("巴彦塔拉达斡尔民族乡", "巴彦塔拉村", "150724205203", "farming", 2, 27, 12, True, "H"),
    ("巴彦塔拉达斡尔民族乡", "雅鲁嘎查", "150724205204", "farming", 2, 10, 1, False, ""),
)

VILLAGES: tuple[Village, ...] = tuple(Village(*row) for row in _VILLAGE_ROWS)

# Household economy by village kind: (type, weight).
ECONOMY: dict[str, tuple[tuple[str, int], ...]] = {
    "pastoral": (("pastoral", 70), ("mixed", 8), ("wage", 14), ("rentier", 8)),
    "farming": (("farming", 55), ("mixed", 20), ("wage", 25)),
    "mixed": (("pastoral", 28), ("farming", 20), ("mixed", 20), ("wage", 32)),
    "community": (("wage", 85), ("farming", 15)),
    "relocation": (("wage", 80), ("mixed", 20)),
}

# Median per-capita net income (元) of an ordinary 一般户 by economy.
MEDIAN_PCNI: dict[str, int] = {
    "pastoral": 24_000,
    "mixed": 19_000,
    "farming": 16_500,
    "wage": 21_000,
    "rentier": 15_000,
}

# --------------------------------------------------------------------------------------------
# Names (all fictitious)
# --------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_HAN_SURNAMES = _words(
    "王 李 张 刘 陈 杨 赵 黄 周 吴 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 "
    "曹 彭 于 董 苏 潘 田 姜 崔 范 孟"
)
_HAN_MALE_OLD = _words(
    "建国 建军 国庆 长青 振华 树林 宝山 德胜 春生 立新 红军 金龙 庆丰 铁柱 殿臣 玉林 志刚 "
    "海军 永军 福林"
)
_HAN_MALE_YOUNG = _words("志强 晓东 俊杰 浩然 子轩 宇航 文博 明 伟 磊 涛 鹏 海涛 宇 博文 嘉豪 一鸣")
_HAN_FEMALE_OLD = _words("秀兰 桂英 玉梅 淑珍 丽华 凤霞 秀云 玉兰 桂芝 淑华 红梅 秀珍 凤英")
_HAN_FEMALE_YOUNG = _words(
    "春燕 海燕 雪梅 欣怡 子涵 雨桐 思琪 佳怡 静 敏 丽 娜 晓丽 艳玲 丽娟 梓涵 诗琪"
)
_MONGOL_SURNAMES = _words("包 白 韩 宝 敖 那 鲍 额")
_MONGOL_MALE = _words(
    "巴特尔 额尔敦 苏和 朝鲁 孟克 宝音 巴图 那顺 阿拉坦 达瓦 扎那 布和 旺其格 斯琴巴图 乌力吉 "
    "敖特根 巴雅尔 哈斯 图门 道尔吉 达西 杜格尔扎布 多吉 仁钦 巴音孟和 额尔德木图 胡日查 "
    "特木尔 呼和"
)
_MONGOL_FEMALE = _words(
    "其其格 乌兰 斯琴 萨仁 图雅 娜仁 高娃 乌日娜 塔娜 萨日娜 苏日娜 娜日苏 乌云 托雅 达古拉 "
    "吉日嘎拉 巴达玛 杜玛 米吉德 阿拉腾其其格 额尔登其其格 玉荣 格日勒"
)
_EVENKI_SURNAMES = _words("杜 涂 何 吴 那 卡 索 乌 胡 德")
_EVENKI_MALE = _words(
    "阿木古郎 德力格尔 格日乐图 那木吉拉 舍楞 乌日图 巴特 敖日格勒 阿荣 孟和 铁木尔 布仁"
)
_EVENKI_FEMALE = _words("娜仁花 乌仁 萨娜 吉雅 阿荣娜 额日登 昂格尔 乌日罕 索娅 伊琳 莎仁")
_DAUR_SURNAMES = _words("敖 郭 孟 何 鄂 苏 金 沃 吴 德 莫")
_DAUR_MALE = _words("达喜 额尔很巴雅尔 巴图 敖登 苏布达 阿拉坦仓 孟和")
_DAUR_FEMALE = _words("萨茹拉 敖登格日勒 乌云 苏布道 娜日娜 其其格")

_MOBILE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 147 150 151 152 153 155 156 157 158 159 166 177 "
    "180 181 182 183 185 186 187 188 189 191 199"
)
_OTHER_REGIONS = ("150702", "150721", "150722", "150725", "150726", "150783")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# --------------------------------------------------------------------------------------------
# Scheduled special households and missing-field households
# --------------------------------------------------------------------------------------------

# (household_size, net income in fen) giving pcni 8300.00 / 8299.99 / 8300.01 with half-up.
PCNI_VARIANTS: dict[str, tuple[tuple[int, int], ...]] = {
    "pcni=8300.00": ((1, 830_000), (3, 2_489_999), (2, 1_659_999), (4, 3_320_000), (3, 2_490_000)),
    "pcni=8299.99": ((1, 829_999), (2, 1_659_997), (3, 2_489_997), (4, 3_319_997)),
    "pcni=8300.01": ((2, 1_660_001), (3, 2_490_002), (1, 830_001), (4, 3_320_003)),
}
# identified_on for the "ready for elimination" households (open monitoring objects).
IDENTIFIED_SPECIALS: dict[str, dt.date] = {
    "identified=6m": dt.date(2023, 12, 5),
    "identified=6m-1d": dt.date(2023, 12, 6),
    "identified=12m": dt.date(2023, 6, 5),
    "identified=12m-1d": dt.date(2023, 6, 6),
    "identified=24m": dt.date(2022, 6, 5),
}
SPECIAL_CYCLE: tuple[str, ...] = (
    "pcni=8300.00",
    "pcni=8299.99",
    "pcni=8300.01",
    "medical=10000.00",
    "identified=6m",
    "identified=12m",
    "pcni=8300.00",
    "pcni=8299.99",
    "pcni=8300.01",
    "medical=10000.01",
    "identified=6m-1d",
    "identified=12m-1d",
    "identified=24m",
    "stable=6",
    "stable=5",
    "pcni=8300.00",
    "pcni=8299.99",
    "pcni=8300.01",
    "dq4=1.00",
    "dq4=1.01",
    "entered=06-10",
    "entered=06-11",
    "event=2024-01-01",
    "event=2023-12-31",
    "rank=20",
    "negative-net",
    "eliminated=6m",
    "eliminated=5m",
    "rb-2",
    "dq9",
)
MISSING_KINDS: tuple[str, ...] = (
    "wage_income",
    "members[].age",
    "business_expense",
    "members[].health",
    "is_tuopin",
    "members[].labor_skill",
    "transfer_income=null",
    "household_size",
    "income_window_end",
    "members",
    "registry_kind",
    "property_income",
    "members[].age=null",
    "business_income",
    "income_window_start",
)

# Optional keys and their defaults (SPEC §2); "compact" records leave default values out.
HOUSEHOLD_DEFAULTS: dict[str, Any] = {
    "at_relocation_site": False,
    "policy_transfer_income": 0,
    "medical_self_paid": 0,
    "education_expense": 0,
    "disaster_loss": 0,
    "claim_income": 0,
    "housing_unsafe": False,
    "water_unsafe": False,
    "edu_dropout": False,
    "member_uninsured": False,
    "new_danger_house_2024": False,
    "self_coping": "unknown",
    "risk_types": [],
    "measures": [],
    "dev_assist_confirmed": {"sumu": False, "gacha": False},
    "sig_household": False,
    "sig_collector": False,
    "collection_method": "visit",
}
MEMBER_DEFAULTS: dict[str, Any] = {
    "willing_to_work": False,
    "student": False,
    "employment": "none",
    "employment_unstable": False,
    "tekun": "none",
    "left_behind_child": False,
    "child_in_distress": False,
}
MONEY_KEYS = frozenset(
    {
        "wage_income",
        "business_income",
        "property_income",
        "transfer_income",
        "business_expense",
        "policy_transfer_income",
        "net_income_recorded",
        "pcni_recorded",
        "medical_self_paid",
        "education_expense",
        "disaster_loss",
        "claim_income",
        "fixed_assets_value",
        "pcni_2022",
        "pcni_2023",
        "pcni_at_elimination",
        "2023Q4",
        "2024Q1",
        "2024Q2",
    }
)


class Fen(int):
    """An amount of money in fen; serialised as 元 with at most two decimals."""


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def round_div(num: int, den: int) -> int:
    """``num / den`` rounded half-up, ties away from zero (SPEC §8), for ``den > 0``."""
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


def months_between(a: dt.date, b: dt.date) -> int:
    """Whole calendar months from ``a`` to ``b`` (SPEC §8)."""
    return 12 * (b.year - a.year) + (b.month - a.month) - (1 if b.day < a.day else 0)


def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def money_value(fen: int, as_text: bool) -> int | float | str:
    """JSON form of an amount: an integer when whole, else a 2-decimal number or string."""
    if as_text:
        sign = "-" if fen < 0 else ""
        a = abs(fen)
        return f"{sign}{a // 100}.{a % 100:02d}"
    if fen % 100 == 0:
        return fen // 100
    return fen / 100


def yuan(amount: float) -> Fen:
    """Whole 元 → fen."""
    return Fen(round(amount) * 100)


def fen_of(amount: float) -> Fen:
    """元 with cents → fen."""
    return Fen(round(amount * 100))


def _fmt_yuan(fen: int) -> str:
    s = money_value(fen, True)
    assert isinstance(s, str)
    return s.removesuffix(".00")


@dataclass
class Member:
    """A household member; ``wage`` is internal (fen), not part of the output."""

    name: str
    id_no: str
    age: int
    male: bool
    health: str = "健康"
    disability_grade: int | None = None
    labor_skill: str = "普通劳动力"
    willing_to_work: bool = False
    student: bool = False
    employment: str = "none"
    employment_unstable: bool = False
    dibao_since: dt.date | None = None
    tekun: str = "none"
    tekun_since: dt.date | None = None
    left_behind_child: bool = False
    child_in_distress: bool = False
    wage: int = 0

    @property
    def able(self) -> bool:
        return self.labor_skill in ABLE

    def as_json(self, compact: bool) -> Json:
        out: Json = {
            "name": self.name,
            "id_no": self.id_no,
            "age": self.age,
            "health": self.health,
            "labor_skill": self.labor_skill,
            "willing_to_work": self.willing_to_work,
            "student": self.student,
            "employment": self.employment,
            "tekun": self.tekun,
        }
        if self.disability_grade is not None:
            out["disability_grade"] = self.disability_grade
        if self.employment != "none" or self.employment_unstable:
            out["employment_unstable"] = self.employment_unstable
        if self.dibao_since is not None:
            out["dibao_since"] = self.dibao_since.isoformat()
        if self.tekun_since is not None:
            out["tekun_since"] = self.tekun_since.isoformat()
        if self.age < 18 or self.left_behind_child or self.child_in_distress:
            out["left_behind_child"] = self.left_behind_child
            out["child_in_distress"] = self.child_in_distress
        if compact:
            out = {k: v for k, v in out.items() if MEMBER_DEFAULTS.get(k, object()) != v}
        return out


def labour_class(members: Sequence[Member]) -> str:
    """SPEC §3 labour class: LC-1 able, LC-2 weak, LC-3 none."""
    if any(m.able and m.willing_to_work for m in members):
        return "LC-1"
    if any(m.labor_skill == WEAK or m.able for m in members):
        return "LC-2"
    return "LC-3"


@dataclass
class Plan:
    """What the schedule asks of one household before it is drawn."""

    special: str | None = None
    variant: int = 0
    missing: str | None = None
    status: str | None = None  # "open", "elim" or "none"; None = draw
    tuopin: bool | None = None
    exact: tuple[int, int] | None = None  # (household_size, net income fen)
    ready: bool = False  # open object meeting every elimination condition
    clean: bool = False  # no random anomalies


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.tuopin_left = {v.code: v.tuopin_hh_count for v in VILLAGES}
        self.monitor_left = {v.code: v.monitoring_since_2021 for v in VILLAGES}
        self.seq = {v.code: 0 for v in VILLAGES}
        self.id_numbers: set[str] = set()

    # ---- random helpers -------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, seq: Sequence[T]) -> T:
        return seq[self.rng.randrange(len(seq))]

    def wpick(self, items: Sequence[tuple[T, int]]) -> T:
        total = sum(w for _, w in items)
        x = self.rng.randrange(total)
        for item, w in items:
            if x < w:
                return item
            x -= w
        raise AssertionError("unreachable")

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.rng.random()

    def date_between(self, a: dt.date, b: dt.date) -> dt.date:
        return a + dt.timedelta(days=self.rng.randint(0, (b - a).days))

    def lognormal(self, median: float, sigma: float) -> float:
        return median * self.rng.lognormvariate(0.0, sigma)

    # ---- people ---------------------------------------------------------------------------

    def surname(self, ethnic: str) -> str:
        if ethnic == "han":
            return self.pick(_HAN_SURNAMES)
        if ethnic == "evenki":
            return self.pick(_EVENKI_SURNAMES)
        if ethnic == "daur":
            return self.pick(_DAUR_SURNAMES)
        return self.pick(_MONGOL_SURNAMES) if self.chance(0.3) else ""

    def given_name(self, ethnic: str, male: bool, age: int) -> str:
        han: tuple[str, ...]
        if age >= 40:
            han = _HAN_MALE_OLD if male else _HAN_FEMALE_OLD
        else:
            han = _HAN_MALE_YOUNG if male else _HAN_FEMALE_YOUNG
        if ethnic == "han":
            return self.pick(han)
        if ethnic == "mongol":
            return self.pick(_MONGOL_MALE if male else _MONGOL_FEMALE)
        if ethnic == "evenki":
            if self.chance(0.35):
                return self.pick(han)
            if self.chance(0.4):
                return self.pick(_MONGOL_MALE if male else _MONGOL_FEMALE)
            return self.pick(_EVENKI_MALE if male else _EVENKI_FEMALE)
        if self.chance(0.55):
            return self.pick(han)
        return self.pick(_DAUR_MALE if male else _DAUR_FEMALE)

    def id_number(self, age: int, male: bool) -> str:
        region = "150724" if self.chance(0.93) else self.pick(_OTHER_REGIONS)
        while True:
            month = self.rng.randint(1, 12)
            day = self.rng.randint(1, calendar.monthrange(2000, month)[1])
            year = 2024 - age if (month, day) <= (6, 5) else 2023 - age
            if month == 2 and day == 29 and not calendar.isleap(year):
                day = 28
            seq = self.rng.randrange(0, 500) * 2 + (1 if male else 0)
            body = f"{region}{year:04d}{month:02d}{day:02d}{seq:03d}"
            check = _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
            number = body + check
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def mobile(self) -> str:
        return self.pick(_MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def person_name(self, ethnic: str, male: bool, age: int, surname: str | None = None) -> str:
        sur = self.surname(ethnic) if surname is None else surname
        return sur + self.given_name(ethnic, male, age)

    def cadre(self) -> tuple[str, str]:
        ethnic = self.wpick((("han", 5), ("mongol", 3), ("evenki", 2), ("daur", 1)))
        name = self.person_name(ethnic, self.chance(0.6), self.rng.randint(26, 55))
        if ethnic == "mongol" and len(name) < 3:
            name = self.pick(_MONGOL_SURNAMES) + name
        return name, self.mobile()

    # ---- schedule -------------------------------------------------------------------------

    def schedule(self, n: int) -> list[Plan]:
        plans = [Plan() for _ in range(n)]
        k_special = min(max(len(SPECIAL_CYCLE), n // 40), n // 4)
        positions = sorted(self.rng.sample(range(n), k_special))
        seen: dict[str, int] = {}
        for j, pos in enumerate(positions):
            kind = SPECIAL_CYCLE[j % len(SPECIAL_CYCLE)]
            seen[kind] = seen.get(kind, 0) + 1
            plans[pos] = self.special_plan(kind, seen[kind] - 1)
        free = [i for i in range(n) if plans[i].special is None]
        k_missing = min(len(free), n // 100)
        for j, pos in enumerate(sorted(self.rng.sample(free, k_missing))):
            plans[pos].missing = MISSING_KINDS[j % len(MISSING_KINDS)]
        return plans

    def special_plan(self, kind: str, occurrence: int) -> Plan:
        plan = Plan(special=kind, variant=occurrence, clean=True, status="none")
        if kind in PCNI_VARIANTS:
            variants = PCNI_VARIANTS[kind]
            plan.exact = variants[occurrence % len(variants)]
            plan.tuopin = occurrence % 2 == 0
        elif kind in IDENTIFIED_SPECIALS or kind.startswith("stable="):
            plan.status, plan.ready = "open", True
            plan.tuopin = occurrence % 2 == 1
        elif kind.startswith("eliminated=") or kind == "rb-2":
            plan.status = "elim"
        elif kind == "dq9":
            plan.tuopin = False
        elif kind == "rank=20":
            plan.tuopin = True
        elif kind == "negative-net":
            plan.exact = (2, -100_001)
        return plan

    def choose_village(self, plan: Plan) -> Village:
        for _ in range(200):
            v = self.wpick([(v, v.weight) for v in VILLAGES])
            if plan.special is not None and v.kind == "community":
                continue
            if plan.status in ("open", "elim") and self.monitor_left[v.code] <= 0:
                continue
            if plan.tuopin and self.tuopin_left[v.code] <= 0:
                continue
            return v
        # Large N (tens of thousands and more, for benchmarks): the villages' quotas of
        # 脱贫户 and monitored households are used up, so they take more households than
        # their declared counts rather than stopping.  Small N never reaches this line,
        # so the bundled 2,000 households are unchanged.
        while True:
            v = self.wpick([(v, v.weight) for v in VILLAGES])
            if plan.special is None or v.kind != "community":
                return v

    # ---- members --------------------------------------------------------------------------

    def household_size(self, kind: str) -> int:
        if kind == "community":
            return self.wpick(((1, 10), (2, 30), (3, 33), (4, 18), (5, 6), (6, 2), (7, 1)))
        return self.wpick(((1, 9), (2, 27), (3, 27), (4, 20), (5, 10), (6, 5), (7, 2)))

    def member_ages(self, size: int) -> list[tuple[int, bool]]:
        """(age, male) for the members, head first."""
        head_male = self.chance(0.75)
        if size == 1:
            age = self.rng.randint(60, 91) if self.chance(0.55) else self.rng.randint(22, 59)
            return [(age, head_male)]
        if size == 2:
            pattern = self.wpick((("old", 45), ("couple", 25), ("parent", 30)))
            if pattern == "old":
                a = self.rng.randint(58, 86)
                return [(a, head_male), (max(55, a + self.rng.randint(-5, 4)), not head_male)]
            if pattern == "couple":
                a = self.rng.randint(24, 57)
                return [(a, head_male), (max(20, a + self.rng.randint(-5, 4)), not head_male)]
            a = self.rng.randint(36, 78)
            child = self.rng.randint(max(0, a - 45), a - 20)
            return [(a, head_male), (child, self.chance(0.5))]
        head = self.rng.randint(27, 62)
        out = [(head, head_male)]
        slots = size - 1
        if self.chance(0.9):
            out.append((max(20, head + self.rng.randint(-6, 4)), not head_male))
            slots -= 1
        elders = 0
        if slots >= 2 or (slots == 1 and self.chance(0.2)):
            elders = self.wpick(((0, 60), (1, 25), (2, 15)))
            elders = min(elders, slots - (1 if slots > 1 else 0))
        for e in range(elders):
            age = min(96, head + self.rng.randint(22, 34))
            out.append((max(55, age), e == 0 if elders == 2 else self.chance(0.4)))
        slots -= elders
        top = max(0, min(head - 19, 32))
        kids = sorted((self.rng.randint(0, top) for _ in range(slots)), reverse=True)
        out.extend((k, self.chance(0.5)) for k in kids)
        return out

    def make_members(
        self, size: int, ethnic: str, frail: float, clean: bool, economy: str
    ) -> list[Member]:
        family_name = self.surname(ethnic)
        members: list[Member] = []
        ages = self.member_ages(size)
        for idx, (age, male) in enumerate(ages):
            own_line = idx == 0 or age <= ages[0][0] - 16
            surname: str | None = family_name if own_line and ethnic != "mongol" else None
            if ethnic == "mongol" and self.chance(0.7):
                surname = ""
            m = Member(
                name=self.person_name(ethnic, male, age, surname),
                id_no=self.id_number(age, male),
                age=age,
                male=male,
            )
            self.set_health(m, frail)
            self.set_labour(m, clean, economy)
            members.append(m)
        return members

    def set_health(self, m: Member, frail: float) -> None:
        if m.age < 16:
            probs = (0.0, 0.005, 0.01)
        elif m.age < 60:
            probs = (0.07, 0.02, 0.03)
        elif m.age < 75:
            probs = (0.35, 0.04, 0.06)
        else:
            probs = (0.5, 0.06, 0.09)
        chronic, severe, disabled = (p * frail for p in probs)
        x = self.rng.random()
        if x < severe:
            m.health = "患有大病"
        elif x < severe + disabled:
            m.health = "残疾"
            m.disability_grade = self.wpick(((1, 15), (2, 25), (3, 30), (4, 30)))
        elif x < severe + disabled + chronic:
            m.health = "长期慢性病"

    def set_labour(self, m: Member, clean: bool, economy: str) -> None:
        a = m.age
        if 6 <= a <= 16:
            m.student = True
        elif 17 <= a <= 18:
            m.student = self.chance(0.7)
        elif 19 <= a <= 22:
            m.student = self.chance(0.35)
        if a < 16 or m.student:
            m.labor_skill = "无劳动力"
        elif m.health == "患有大病":
            m.labor_skill = "丧失劳动力" if self.chance(0.6) else WEAK
        elif m.health == "残疾":
            grade = m.disability_grade or 4
            if grade <= 2:
                m.labor_skill = "丧失劳动力"
            else:
                m.labor_skill = WEAK if self.chance(0.7) else "普通劳动力"
        elif m.health == "长期慢性病":
            if a < 60:
                m.labor_skill = WEAK if self.chance(0.5) else "普通劳动力"
            elif a < 75:
                m.labor_skill = WEAK if self.chance(0.6) else "丧失劳动力"
            else:
                m.labor_skill = "丧失劳动力" if self.chance(0.5) else "无劳动力"
        elif a < 60:
            m.labor_skill = "技能劳动力" if self.chance(0.15) else "普通劳动力"
        elif a < 65:
            m.labor_skill = "普通劳动力" if self.chance(0.5) else WEAK
        elif a < 75:
            m.labor_skill = WEAK if self.chance(0.7) else "无劳动力"
        else:
            m.labor_skill = "无劳动力" if self.chance(0.8) else WEAK
        healthy_adult = 16 <= a <= 59 and m.health == "健康" and not m.student
        if not clean and healthy_adult and self.chance(0.006):
            # DQ-10: a healthy adult recorded without labour
            m.labor_skill = self.pick(("无劳动力", WEAK))
        if m.able:
            m.willing_to_work = self.chance(0.92)
        elif m.labor_skill == WEAK:
            m.willing_to_work = self.chance(0.6)
        if a < 16 and not m.student:
            return
        if not m.willing_to_work or a < 17 or a > 64 or m.student:
            return
        if economy == "wage":
            m.employment = self.wpick((("outside", 45), ("local", 45), ("none", 10)))
        elif m.able:
            m.employment = self.wpick((("outside", 20), ("local", 20), ("none", 60)))
        if m.employment != "none":
            m.employment_unstable = self.chance(0.07)

    # ---- dates ----------------------------------------------------------------------------

    def benefit_since(self) -> dt.date:
        band = self.wpick((("old", 55), ("2023", 25), ("2024", 20)))
        if band == "old":
            return self.date_between(dt.date(2012, 1, 1), dt.date(2022, 12, 31))
        if band == "2023":
            return self.date_between(dt.date(2023, 1, 1), dt.date(2023, 12, 31))
        return self.date_between(dt.date(2024, 1, 1), dt.date(2024, 5, 20))

    def identified_on(self) -> dt.date:
        year = self.wpick(((2021, 8), (2022, 17), (2023, 45), (2024, 30)))
        if year == 2024:
            return self.date_between(dt.date(2024, 1, 5), dt.date(2024, 5, 20))
        start = dt.date(2021, 4, 1) if year == 2021 else dt.date(year, 1, 1)
        return self.date_between(start, dt.date(year, 12, 31))

    # ---- one household --------------------------------------------------------------------

    def household(self, plan: Plan) -> Json:
        rng = self.rng
        village = self.choose_village(plan)
        kind = village.kind
        ethnic = self.wpick(ETHNIC_MIX[village.sumu])

        # -- scope, 脱贫户 and monitoring status (within the 嘎查 counts) --
        if kind == "community":
            registry = "urban_other" if self.chance(0.65) else "nongzhuanfei_unprotected"
        elif kind == "relocation":
            registry = "relocated_urban" if self.chance(0.85) else "rural"
        else:
            registry = "rural"
        in_scope = registry != "urban_other"
        if plan.tuopin is not None:
            tuopin = plan.tuopin
        elif registry == "relocated_urban":
            tuopin = self.chance(0.92)
        elif registry == "rural":
            tuopin = self.chance(0.28)
        elif registry == "nongzhuanfei_unprotected":
            tuopin = self.chance(0.05)
        else:
            tuopin = False
        if tuopin and self.tuopin_left[village.code] <= 0:
            tuopin = False
        if plan.status is not None:
            status = plan.status
        elif not in_scope:
            status = "none"
        else:
            p_open, p_elim = (0.16, 0.13) if tuopin else (0.06, 0.045)
            x = rng.random()
            status = "open" if x < p_open else "elim" if x < p_open + p_elim else "none"
        if status != "none" and self.monitor_left[village.code] <= 0:
            status = "none"
        if tuopin:
            self.tuopin_left[village.code] -= 1
        if status != "none":
            self.monitor_left[village.code] -= 1
        monitored = status != "none"
        clean = plan.clean

        # -- economy and members --
        economy = self.wpick(ECONOMY[kind])
        size = plan.exact[0] if plan.exact is not None else self.household_size(kind)
        frail = 1.0 + (0.6 if tuopin else 0.0) + (0.8 if monitored else 0.0)
        if plan.ready:
            frail = 1.0
            size = max(size, 3)
        if plan.special == "rb-2":
            size = 2
        members = self.make_members(size, ethnic, frail, clean, economy)
        if plan.special == "rb-2":  # elderly couple living mainly on 低保 (RB-2)
            for m in members:
                m.age = self.rng.randint(70, 86)
                m.id_no = self.id_number(m.age, m.male)
                m.health = self.pick(("健康", "长期慢性病"))
                m.disability_grade = None
                m.labor_skill = "无劳动力" if m.health == "健康" else "丧失劳动力"
                m.willing_to_work = m.student = m.employment_unstable = False
                m.employment = "none"
        if plan.ready or plan.exact is not None:
            head = members[0]
            head.age = min(max(head.age, 30), 55)
            head.health, head.disability_grade = "健康", None
            head.labor_skill, head.willing_to_work, head.student = "普通劳动力", True, False
            head.id_no = self.id_number(head.age, head.male)
            for m in members:
                if 6 <= m.age <= 16:
                    m.student = True
        if plan.ready or plan.exact is not None or plan.special == "dq9":
            economy = "pastoral" if kind == "pastoral" else "farming"
        if plan.special == "dq9":
            for m in members:
                m.employment, m.employment_unstable = "none", False
        if plan.special == "rb-2":
            economy = "dependent"
        if economy == "rentier" and any(m.employment != "none" for m in members):
            economy = "wage"
        lc = labour_class(members)
        if economy == "wage" and not any(m.employment != "none" for m in members):
            workers = [
                m for m in members if m.willing_to_work and not m.student and 17 <= m.age <= 64
            ]
            if workers:
                workers[0].employment = "local"
            else:
                economy = "pastoral" if kind == "pastoral" else "farming"
        if lc == "LC-3" and plan.exact is None:
            economy = "rentier" if kind == "pastoral" else "dependent"

        # -- 低保 / 特困 --
        p_dibao = 0.03 + (0.1 if tuopin else 0) + (0.15 if status == "open" else 0)
        p_dibao += {"LC-1": 0.0, "LC-2": 0.08, "LC-3": 0.35}[lc]
        if plan.ready or plan.exact is not None:
            p_dibao = 0.0
        on_dibao = in_scope and self.chance(min(p_dibao, 0.7))
        if plan.special == "rb-2":
            on_dibao = True
        if size == 1 and in_scope and not on_dibao and plan.exact is None:
            m = members[0]
            if (m.age >= 60 or m.labor_skill == "丧失劳动力") and self.chance(0.3):
                m.tekun = "centralized" if self.chance(0.05) else "dispersed"
                m.tekun_since = self.benefit_since()
        if on_dibao:
            since = self.benefit_since()
            whole = self.chance(0.6) or plan.special == "rb-2"
            for m in members:
                if whole or m.age >= 60 or m.health != "健康" or m is members[0]:
                    m.dibao_since = since
        if not clean and in_scope and self.chance(0.002):  # DQ-11: 特困 for a healthy adult
            adults = [m for m in members if 18 <= m.age <= 59 and m.health == "健康"]
            if adults:
                a = adults[0]
                a.student, a.tekun, a.tekun_since = False, "dispersed", self.benefit_since()
        for m in members:
            if m.age < 16 and not clean:
                if self.chance(0.02):
                    m.left_behind_child = True
                if self.chance(0.006):
                    m.child_in_distress = True

        # -- income (fen) --
        transfer = 0
        policy = 0
        pension_people = 0
        for m in members:
            if m.age >= 60 and registry == "urban_other":
                transfer += yuan(self.uniform(30000, 50000))  # 城镇职工养老金 (e.g. retired miners)
            elif m.age >= 60:
                transfer += yuan(self.uniform(2800, 4800))  # 城乡居民基础养老金
                pension_people += 1
            if m.age >= 80:
                transfer += yuan(1200)
            if m.health == "残疾" and (m.disability_grade or 4) <= 2:
                transfer += yuan(self.uniform(1200, 2400))
            if m.dibao_since is not None:
                policy += yuan(self.uniform(3600, 7500))
            if m.tekun == "dispersed":
                policy += yuan(self.uniform(10000, 13200))
            if tuopin and m.student and m.age >= 16:
                transfer += yuan(self.pick((1500, 2000, 2500, 3000)))
        if economy in ("pastoral", "rentier"):
            transfer += yuan(self.uniform(3000, 28000))
        elif economy == "mixed":
            transfer += yuan(self.uniform(1000, 9000))
        elif economy == "farming":
            transfer += yuan(self.uniform(800, 6000))
        elif economy == "dependent" and kind in ("pastoral", "mixed") and self.chance(0.6):
            transfer += yuan(self.uniform(2000, 12000))
        if pension_people and self.chance(0.6):
            transfer += yuan(self.uniform(2000, 10000))  # 赡养费 from children elsewhere
        transfer += policy
        if plan.special == "rb-2":
            policy = sum(yuan(self.uniform(6000, 7500)) for _ in members)
            transfer = policy + sum(yuan(self.uniform(2800, 3400)) for _ in members)
        cents = self.chance(0.15)
        if cents and transfer > 0:
            transfer += rng.randrange(100)

        prop = 0
        if economy == "rentier":
            prop += yuan(self.uniform(8000, 40000))
        elif economy == "pastoral" and self.chance(0.1):
            prop += yuan(self.uniform(2000, 15000))
        elif self.chance(0.25):
            prop += yuan(self.uniform(50, 3000))
        if tuopin or monitored:
            if self.chance(0.55):
                prop += yuan(self.uniform(300, 1500))  # 资产收益分红
            if self.chance(0.1):
                prop += yuan(self.uniform(1000, 3000))  # 光伏收益

        if plan.special == "rb-2":
            prop = 0
        public_post = False
        for m in members:
            if m.employment == "outside":
                m.wage = yuan(self.uniform(24000, 60000))
            elif m.employment == "local":
                m.wage = yuan(self.uniform(10000, 36000))
            elif (
                (tuopin or monitored)
                and m.willing_to_work
                and m.labor_skill == WEAK
                and 18 <= m.age <= 64
                and self.chance(0.3)
            ):
                m.employment = "local"
                m.wage = yuan(self.uniform(6000, 12000))
                public_post = True
        wage = sum(m.wage for m in members)

        # target per-capita net income
        if economy in ("dependent", "rentier"):
            target: int | None = None
        elif plan.exact is not None:
            target = None
        else:
            median = float(MEDIAN_PCNI.get(economy, 18_000))
            sigma = 0.42
            if registry == "urban_other":
                median = 32_000.0
            if tuopin:
                median, sigma = median * 0.7, 0.3
            if status == "open":
                median, sigma = 10_500, 0.3
            elif status == "elim":
                median, sigma = 14_000, 0.3
            if plan.ready:
                median, sigma = 14_000, 0.12
            n_workers = sum(1 for m in members if m.able or m.employment != "none")
            median *= 1.0 - 0.15 * (1 - n_workers / len(members) - 0.4)
            target = round(self.lognormal(median, sigma))
        failure = False
        if (
            not clean
            and economy in ("pastoral", "mixed", "farming")
            and in_scope
            and self.chance(0.006)
        ):
            failure = True  # 产业项目失败 (e.g. 2023 育肥牛 at falling prices)
            target = round(self.uniform(500, 6500))

        business = 0
        expense = 0
        if plan.exact is not None:
            net_target = plan.exact[1]
            wage = 0
            for m in members:
                m.employment, m.wage, m.employment_unstable = "none", 0, False
            prop = 0
            public_post = False
            transfer = min(transfer, max(0, net_target // 2))
            transfer -= transfer % 100
            policy = min(policy, transfer)
            bn = net_target - transfer - prop
            business, expense = self.business_split(economy, bn, cents=True)
        elif target is not None:
            net_target = target * 100 * size
            if economy == "wage" and wage > 0:
                garden = 0
                if self.chance(0.25):
                    business = yuan(self.uniform(1000, 6000))
                    expense = 0 if self.chance(0.15) else yuan(business / 100 * 0.3)
                    garden = business - expense
                new_wage = net_target - transfer - prop - garden
                earning = [m for m in members if m.wage]
                cap = sum(90_000 if m.employment == "outside" else 60_000 for m in earning) * 100
                if new_wage > cap:  # the rest comes from a small business (运输, 小卖部)
                    extra = new_wage - cap
                    new_wage = cap
                    gross = yuan(extra / 100 / 0.7)
                    business += gross
                    expense += gross - extra
                if new_wage >= 3000 * 100 * len(earning):
                    self.scale_wages(members, new_wage, cents)
                    wage = sum(m.wage for m in members)
            else:
                bn = net_target - transfer - prop - wage
                floor = net_target // 4
                earners = len([m for m in members if m.wage])
                if bn < floor and wage > 0:
                    new_wage = net_target - transfer - prop - floor
                    if new_wage >= 3000 * 100 * earners:
                        self.scale_wages(members, new_wage, cents)
                        wage = sum(m.wage for m in members)
                    bn = net_target - transfer - prop - wage
                if bn < 0 and not failure:
                    bn = yuan(self.uniform(2000, 8000))
                business, expense = self.business_split(economy, bn, cents)
        elif economy == "dependent" and plan.special != "rb-2" and self.chance(0.12):
            business = yuan(self.uniform(500, 2500))
            expense = yuan(business / 100 * self.uniform(0.1, 0.3))
        if not clean and wage > 0 and self.chance(0.003):
            members_w = [m for m in members if m.wage]
            members_w[0].wage = yuan(self.uniform(80, 290))  # DQ-7: implausibly small wage
            wage = sum(m.wage for m in members)
        if not clean and business > 0 and expense > 0 and self.chance(0.02):
            expense = 0  # DQ-6: business income without recorded expense
        if cents and wage > 0 and plan.exact is None:
            members[[m.wage > 0 for m in members].index(True)].wage += rng.randrange(100)
            wage = sum(m.wage for m in members)
        total = wage + business + prop + transfer
        net = total - expense
        if plan.exact is not None:
            assert net == plan.exact[1], (net, plan.exact)
        pcni = round_div(net, size)

        # herd and assets
        cattle = sheep = horses = 0
        if economy == "pastoral" or (economy == "mixed" and business > 0):
            scale = business / 100 if economy == "pastoral" else business / 100 * 0.5
            cattle_share = self.uniform(0.3, 0.75)
            horse_share = self.uniform(0.0, 0.08)
            cattle = max(0, round(scale * cattle_share / 2800))
            horses = max(0, round(scale * horse_share / 1500))
            sheep = max(0, round(scale * (1 - cattle_share - horse_share) / 420))
        elif economy == "farming" and self.chance(0.4):
            cattle = rng.randint(2, 10)
        livestock = cattle + sheep + horses

        # -- rigid expenditure, events, guarantee problems --
        medical = 0
        for m in members:
            if m.health == "长期慢性病":
                medical += yuan(self.lognormal(1800, 0.7))
            elif m.health == "患有大病":
                medical += yuan(min(120000, self.lognormal(6000, 0.9)))
            elif m.health == "残疾":
                medical += yuan(self.uniform(0, 1500))
            elif self.chance(0.3):
                medical += yuan(self.uniform(50, 800))
        if plan.ready:
            medical = min(medical, yuan(2000))
        education = 0
        for m in members:
            if not m.student:
                continue
            if m.age <= 11:
                education += yuan(self.uniform(300, 1200))
            elif m.age <= 16:
                education += yuan(self.uniform(800, 2500))
            elif m.age <= 18:
                education += yuan(self.uniform(3000, 8000))
            else:
                education += yuan(self.uniform(9000, 20000))
        disaster = 0
        claim = 0
        event: Json | None = None
        herd_text = f"牛{cattle}头、羊{sheep}只、马{horses}匹" if livestock else ""
        roll = rng.random()
        if plan.special in ("event=2024-01-01", "event=2023-12-31") or plan.ready:
            roll = 1.0
        p_disaster = (
            0.18 if "D" in village.flags and economy == "pastoral" else 0.03 if in_scope else 0
        )
        if roll < p_disaster:
            date = self.date_between(dt.date(2023, 11, 20), dt.date(2024, 3, 31))
            lost_sheep = min(sheep, rng.randint(5, 60))
            lost_cattle = min(cattle, rng.randint(0, 8))
            disaster = yuan(lost_sheep * self.uniform(500, 900) + lost_cattle * 6000 + 1500)
            if economy == "farming":
                date = self.date_between(dt.date(2023, 7, 1), dt.date(2023, 8, 31))
                text = "2023年夏季冰雹灾害，玉米、大豆受灾减产"
            else:
                text = f"{date.year}年{date.month}月暴雪灾害（白灾），死亡羊{lost_sheep}只"
                if lost_cattle:
                    text += f"、牛{lost_cattle}头"
                text += "，草料缺口大"
            event = {"kind": "disaster", "date": date.isoformat(), "note": text}
            if self.chance(0.5):
                claim += yuan(disaster / 100 * self.uniform(0.2, 0.5))
        elif roll < p_disaster + 0.012 and in_scope:
            date = self.date_between(dt.date(2023, 6, 1), dt.date(2024, 5, 25))
            victim = self.pick([m for m in members if m.age >= 16] or members)
            what = self.pick(("驾驶摩托车放牧时摔伤", "交通事故受伤", "打草作业时机械致伤"))
            if economy not in ("pastoral", "mixed"):
                what = self.pick(("交通事故受伤", "务工时高处坠落受伤"))
            event = {"kind": "accident", "date": date.isoformat(), "note": victim.name + what}
            medical += yuan(self.lognormal(6000, 0.7))
        elif roll < p_disaster + 0.032 and in_scope:
            date = self.date_between(dt.date(2023, 6, 1), dt.date(2024, 5, 25))
            victim = self.pick(members)
            if victim.age >= 6:
                victim.health, victim.disability_grade = "患有大病", None
                if not victim.student:
                    victim.labor_skill = "丧失劳动力" if self.chance(0.6) else WEAK
                    victim.willing_to_work = victim.labor_skill == WEAK and self.chance(0.5)
                    if not victim.willing_to_work and victim.employment != "none":
                        victim.employment, victim.employment_unstable = "none", False
                what = self.pick(("突发脑梗住院", "确诊恶性肿瘤", "突发心梗手术", "确诊尿毒症"))
                event = {"kind": "illness", "date": date.isoformat(), "note": victim.name + what}
                medical += yuan(self.lognormal(14000, 0.6))
        elif roll < p_disaster + 0.035 and in_scope:
            date = self.date_between(dt.date(2023, 10, 1), dt.date(2024, 4, 30))
            what = self.pick(("冬季取暖引发房屋火灾，住房受损", "牲畜被盗", "棚圈被大风损毁"))
            event = {"kind": "other", "date": date.isoformat(), "note": what}
        if plan.special == "event=2024-01-01":
            event = {
                "kind": "disaster",
                "date": "2024-01-01",
                "note": "2024年1月1日夜暴风雪，棚圈倒塌，死亡羊12只",
            }
            disaster = yuan(9600)
        elif plan.special == "event=2023-12-31":
            event = {
                "kind": "accident",
                "date": "2023-12-31",
                "note": "户主驾车运送草料途中发生交通事故受伤",
            }
            medical += yuan(6200)
        if plan.special == "medical=10000.00":
            medical = yuan(10000)
            members[-1].health, members[-1].disability_grade = "患有大病", None
        elif plan.special == "medical=10000.01":
            medical = 1_000_001
            members[-1].health, members[-1].disability_grade = "患有大病", None
        if medical > yuan(8000) and (tuopin or monitored or self.chance(0.4)):
            claim += yuan((medical - yuan(5000)) / 100 * self.uniform(0.3, 0.6))
        if plan.special and plan.special.startswith("medical="):
            claim = 0
        if cents and medical > 0 and not clean:
            medical += rng.randrange(100)

        housing = water = uninsured = dropout = new_house = False
        if not clean:
            housing = self.chance(0.004) or bool(event and "火灾" in str(event["note"]))
            water = economy == "pastoral" and self.chance(0.004)
            uninsured = self.chance(0.006)
            new_house = self.chance(0.008)
            kids = [m for m in members if 6 <= m.age <= 16]
            if kids and self.chance(0.01):
                kids[0].student = False  # DQ-14 / 义务教育 problem
                kids[0].labor_skill = "无劳动力"
                dropout = self.chance(0.5)
        if plan.ready:
            for m in members:
                m.left_behind_child = m.child_in_distress = False
        guarantee = (
            housing
            or water
            or uninsured
            or dropout
            or any(6 <= m.age <= 16 and not m.student for m in members)
        )
        lc = labour_class(members)
        if plan.ready:
            education, disaster, claim = min(education, yuan(3000)), 0, 0

        # -- risk types --
        candidates: list[str] = []
        if any(m.health in ("患有大病", "长期慢性病") for m in members) and medical > yuan(3000):
            candidates.append("因病")
        if education > yuan(8000):
            candidates.append("因学")
        if any(m.health == "残疾" and (m.disability_grade or 4) <= 2 for m in members):
            candidates.append("因残")
        if (event is not None and event["kind"] == "disaster") or disaster > yuan(5000):
            candidates.append("因自然灾害")
        if event is not None and event["kind"] == "accident":
            candidates.append("因意外事故")
        if failure:
            candidates.append("因产业项目失败")
        if any(m.employment_unstable for m in members):
            candidates.append("因务工就业不稳")
        if lc == "LC-3" or (lc == "LC-2" and size >= 3):
            candidates.append("因缺劳动力")
        if event is not None and event["kind"] == "other":
            candidates.append("其他")

        def make_ill() -> int:
            """Give the household an ill member; returns the extra self-paid cost (fen)."""
            sick = members[-1] if plan.ready else members[0]
            if sick.health == "健康":
                sick.health = "长期慢性病"
            return yuan(self.uniform(3000, 9000))

        original: list[str] = []
        if monitored:
            fallback = ["因病"]
            if any(m.employment != "none" for m in members):
                fallback.append("因务工就业不稳")
            if lc != "LC-1":
                fallback.append("因缺劳动力")
            pool = candidates or [self.pick(fallback)]
            k = 1 if len(pool) == 1 or self.chance(0.6) else 2
            original = sorted(self.rng.sample(pool, k), key=RISK_TYPES.index)
            if "因病" in original and "因病" not in candidates:
                medical += make_ill()
            if "因务工就业不稳" in original and "因务工就业不稳" not in candidates:
                employed = [m for m in members if m.employment != "none"]
                employed[0].employment_unstable = True
        risks: list[str]
        if status == "open":
            risks = list(original)
            if plan.ready and self.chance(0.5):
                risks = []
        elif status == "elim":
            risks = []
            x = rng.random()
            if plan.special is None and x < 0.15:
                new = [r for r in candidates if r not in original]
                if not new:
                    new = ["因病"] if "因病" not in original else ["其他"]
                    if new == ["因病"]:
                        medical += make_ill()
                risks = [new[0]]
            elif plan.special is None and x < 0.25:
                risks = original[:1]
        else:
            p_record = 0.7 if pcni < LINE * 12 // 10 else 0.35
            risks = [r for r in candidates if self.chance(p_record)]
            if failure and "因产业项目失败" not in risks:
                risks = sorted([*risks, "因产业项目失败"], key=RISK_TYPES.index)
        if plan.exact is not None and plan.special != "negative-net":
            if members[-1].health == "健康":
                members[-1].health = "长期慢性病"
            medical = max(medical, yuan(self.uniform(2000, 6000)))
            risks = ["因病"]
        if plan.special == "negative-net":
            risks = ["因产业项目失败"]
        if plan.special == "dq9":
            risks = ["因务工就业不稳"]  # DQ-9: nobody in the household is employed
        if not clean and "因病" in risks and self.chance(0.03):
            medical = 0  # DQ-8
        if not clean and not monitored and self.chance(0.002):
            # DQ-9 when nobody is employed
            risks = sorted({*risks, "因务工就业不稳"}, key=RISK_TYPES.index)
        risks = risks[:5]
        rigid = max(0, medical + education + disaster - claim)
        ref_pcni = round_div(net - rigid, size)
        has_risk = bool(risks) or guarantee

        # -- monitoring object --
        monitoring: Json | None = None
        measures: list[str] = []
        confirmed: Json | None = None
        if status == "open":
            monitoring, measures, confirmed = self.open_object(
                plan, tuopin, members, lc, original, risks, pcni, medical, event, on_dibao
            )
        elif status == "elim":
            category = "脱贫不稳定户" if tuopin else "边缘易致贫户"
            if not tuopin and ("因意外事故" in original or "因自然灾害" in original):
                category = "突发严重困难户"
            monitoring, measures = self.eliminated_object(plan, category, lc, original)
        else:
            if tuopin and self.chance(0.55):
                measures = self.past_measures(members, public_post)
            if not clean and in_scope and self.chance(0.005):
                monitoring = {"is_object": False}
        if public_post and "公益岗位帮扶" not in measures and (monitored or tuopin):
            measures.append("公益岗位帮扶")

        # -- quarterly ledger and system incomes --
        quarterly: Json | None = None
        p_quarterly = 0.97 if tuopin else 0.6 if monitored else 0.04
        if self.chance(p_quarterly) or plan.special == "rank=20":
            quarterly = self.quarters(economy, net, declining=self.chance(0.1))
            if tuopin and not clean and self.chance(0.03):
                del quarterly[self.pick(("2023Q4", "2024Q1", "2024Q2"))]  # DQ-18
        pcni_2022: int | None = None
        pcni_2023: int | None = None
        p_system = 0.98 if tuopin else 0.7 if monitored else 0.1
        if self.chance(p_system) or plan.special == "rank=20":
            lo, hi, lo22, hi22 = {
                "pastoral": (0.95, 1.2, 0.95, 1.35),
                "mixed": (0.92, 1.12, 0.9, 1.2),
                "farming": (0.9, 1.1, 0.85, 1.1),
            }.get(economy, (0.88, 1.04, 0.82, 1.02))
            pcni_2023 = round(pcni * self.uniform(lo, hi))
            pcni_2022 = round(pcni_2023 * self.uniform(lo22, hi22))
            if pcni_2023 < 0:
                pcni_2023 = round(self.uniform(3000, 6000)) * 100
                pcni_2022 = round(self.uniform(9000, 15000)) * 100

        # -- text, signatures, collection --
        problems = [
            text
            for flag, text in (
                (housing, "住房安全"),
                (water, "饮水安全"),
                (uninsured, "家庭成员未参加基本医疗保险"),
                (guarantee and not (housing or water or uninsured), "适龄儿童未在校"),
            )
            if flag
        ]
        note = self.judgement(
            plan,
            tuopin,
            status,
            monitoring,
            (has_risk, pcni, ref_pcni, medical),
            members,
            (herd_text, "、".join(problems), event),
        )
        coping = "unknown"
        if has_risk or pcni <= LINE * 13 // 10:
            coping = "insufficient" if pcni < LINE or self.chance(0.35) else "sufficient"
        elif self.chance(0.5):
            coping = "sufficient"
        sig_h, sig_c = True, True
        if not clean:
            x = rng.random()
            if x < 0.025:
                sig_h = False
            elif x < 0.035:
                sig_c = False
            elif x < 0.05:
                sig_h = sig_c = False
        away = any(m.employment == "outside" for m in members[:2])
        phone = not plan.ready and self.chance(0.25 if away else 0.03)
        phone_record: str | None = None
        if phone and (clean or self.chance(0.85)):
            day = self.date_between(dt.date(2024, 5, 16), dt.date(2024, 6, 4))
            away_members = [m for m in members if m.employment == "outside"] or members[:1]
            phone_record = (
                f"{day.month}月{day.day}日电话访谈{away_members[0].name}（在外务工），"
                f"核实收支及三保障情况，通话约{rng.randint(8, 25)}分钟，已留存通话记录截图"
            )
        entered: dt.date | None
        x = rng.random()
        if x < 0.04 and not clean:
            entered = self.date_between(dt.date(2024, 6, 11), dt.date(2024, 6, 19))
        elif x < 0.08 and not clean:
            entered = None
        else:
            entered = self.date_between(dt.date(2024, 5, 20), dt.date(2024, 6, 10))
        if plan.special == "entered=06-10":
            entered = dt.date(2024, 6, 10)
        elif plan.special == "entered=06-11":
            entered = dt.date(2024, 6, 11)
        win_start, win_end = WINDOW_START, WINDOW_END
        if not clean and self.chance(0.008):  # DQ-5
            win_start, win_end = self.pick(
                (
                    (dt.date(2023, 1, 1), dt.date(2023, 12, 31)),
                    (dt.date(2023, 6, 1), dt.date(2024, 5, 31)),
                    (dt.date(2023, 5, 1), dt.date(2024, 5, 31)),
                    (dt.date(2023, 4, 1), dt.date(2024, 3, 31)),
                )
            )

        # -- recorded figures (DQ-4) --
        net_rec: int | None = net
        pcni_rec: int | None = pcni
        x = rng.random()
        if x < 0.05:
            net_rec = pcni_rec = None
        elif x < 0.09:
            pcni_rec = None
        elif x < 0.12:
            net_rec = None
        y = rng.random()
        if not clean and y < 0.022:
            how = self.pick(("no-expense", "size+1", "typo"))
            if how == "no-expense" and expense > 0:
                net_rec = total
                pcni_rec = round_div(total, size) if pcni_rec is not None else None
            elif how == "size+1" and pcni_rec is not None:
                pcni_rec = round_div(net, size + 1)
            else:
                net_rec = net + yuan(self.pick((90, 900, -900, 9000, -90)))
        elif y < 0.08 and not clean:
            if net_rec is not None:
                net_rec = round_div(net, 100) * 100  # 取整到元, within tolerance
            if pcni_rec is not None:
                pcni_rec = (net // size) if net >= 0 else pcni  # truncated, within tolerance
        if plan.special == "dq4=1.00":
            net_rec, pcni_rec = net + 100, pcni
        elif plan.special == "dq4=1.01":
            net_rec, pcni_rec = net + 101, pcni

        # -- household_size versus members (DQ-16) --
        members_out = members
        household_size = size
        if not clean and size >= 2 and self.chance(0.008):
            household_size = size - 1  # a member counted as 常住 elsewhere
            pcni = round_div(net, household_size)
            if pcni_rec is not None:
                pcni_rec = pcni

        # -- assemble --
        self.seq[village.code] += 1
        rec: Json = {
            "household_id": f"{village.code}{self.seq[village.code]:04d}",
            "sumu": village.sumu,
            "gacha": village.gacha,
            "registry_kind": registry,
            "is_tuopin": tuopin,
            "at_relocation_site": kind == "relocation",
            "household_size": household_size,
            "income_window_start": win_start.isoformat(),
            "income_window_end": win_end.isoformat(),
            "wage_income": Fen(wage),
            "business_income": Fen(business),
            "property_income": Fen(prop),
            "transfer_income": Fen(transfer),
            "business_expense": Fen(expense),
            "policy_transfer_income": Fen(policy),
            "medical_self_paid": Fen(medical),
            "education_expense": Fen(education),
            "disaster_loss": Fen(disaster),
            "claim_income": Fen(claim),
            "housing_unsafe": housing,
            "water_unsafe": water,
            "edu_dropout": dropout,
            "member_uninsured": uninsured,
            "new_danger_house_2024": new_house,
            "self_coping": coping,
            "risk_types": risks,
            "measures": sorted(set(measures), key=_measure_order),
            "sig_household": sig_h,
            "sig_collector": sig_c,
            "collection_method": "phone" if phone else "visit",
            "members": [m.as_json(False) for m in members_out],
        }
        if net_rec is not None:
            rec["net_income_recorded"] = Fen(net_rec)
        if pcni_rec is not None:
            rec["pcni_recorded"] = Fen(pcni_rec)
        if livestock:
            rec["livestock_head"] = livestock
        if self.chance(0.8):
            base = {"pastoral": 250_000, "mixed": 160_000, "farming": 120_000}.get(economy, 40_000)
            rec["fixed_assets_value"] = yuan(round(self.lognormal(base, 0.6), -2))
        if pcni_2022 is not None and pcni_2023 is not None:
            rec["pcni_2022"] = Fen(pcni_2022)
            rec["pcni_2023"] = Fen(pcni_2023)
        if quarterly is not None:
            rec["quarterly_net_income"] = quarterly
        if event is not None:
            rec["sudden_event"] = event
        if monitoring is not None:
            rec["monitoring"] = monitoring
        if confirmed is not None:
            rec["dev_assist_confirmed"] = confirmed
        if note:
            rec["judgement_note"] = note
        if phone_record:
            rec["phone_record"] = phone_record
        if entered is not None:
            rec["entered_on"] = entered.isoformat()
        if kind != "community" and (clean or self.chance(0.98)):
            rec["village"] = village.as_json()
        if plan.special == "rank=20":
            rec["pcni_2023_rank_pct"] = 20
        if plan.special is not None:
            self.finish_special(plan, rec)

        # -- presentation: compact (defaults left out), money as text, explicit nulls --
        compact = self.chance(0.25)
        if compact:
            rec = {k: v for k, v in rec.items() if HOUSEHOLD_DEFAULTS.get(k, object()) != v}
            rec["members"] = [m.as_json(True) for m in members_out]
        if plan.missing is not None:
            self.drop_required(rec, plan.missing)
        if not clean and self.chance(0.02):
            for key in ("judgement_note", "pcni_2022", "sudden_event", "entered_on"):
                if key not in rec:
                    rec[key] = None
        rec["_money_text"] = self.chance(0.04)
        return rec

    # ---- pieces ---------------------------------------------------------------------------

    def business_split(self, economy: str, bn: int, cents: bool) -> tuple[int, int]:
        """Gross business income and expense (fen) whose difference is exactly ``bn``."""
        ratio = {"pastoral": (0.42, 0.68), "mixed": (0.38, 0.6), "farming": (0.35, 0.55)}.get(
            economy, (0.2, 0.4)
        )
        r = self.uniform(*ratio)
        gross = round(bn / (1 - r)) if bn > 0 else yuan(self.uniform(8000, 30000))
        gross = gross - gross % 100 if not cents else gross
        gross = max(gross, bn)
        return gross, gross - bn

    def scale_wages(self, members: list[Member], total: int, cents: bool) -> None:
        earners = [m for m in members if m.wage > 0]
        old = sum(m.wage for m in earners)
        left = total
        for m in earners[:-1]:
            w = total * m.wage // old
            w -= w % 100
            m.wage = w
            left -= w
        earners[-1].wage = left - (left % 100 if not cents else 0)

    def quarters(self, economy: str, net: int, declining: bool) -> Json:
        if economy == "pastoral" or (economy == "mixed" and self.chance(0.5)):
            shares = (self.uniform(0.32, 0.45), self.uniform(-0.06, 0.08), self.uniform(0.12, 0.24))
            if declining:
                shares = (
                    self.uniform(0.35, 0.45),
                    self.uniform(0.12, 0.2),
                    self.uniform(0.02, 0.1),
                )
        elif economy in ("farming", "mixed"):
            shares = (self.uniform(0.35, 0.5), self.uniform(0.04, 0.14), self.uniform(-0.03, 0.08))
        elif economy in ("dependent", "rentier"):
            j = self.uniform(-0.003, 0.003)
            shares = (0.245 + j, 0.25 + j, 0.255 + j)
        else:
            shares = (self.uniform(0.23, 0.27), self.uniform(0.22, 0.27), self.uniform(0.24, 0.29))
            if declining:
                shares = (0.28, 0.24, 0.19)
        base = abs(net) if net < 0 else net
        return {
            q: Fen(round(base * s / 100) * 100 * (1 if net >= 0 else -1))
            for q, s in zip(("2023Q4", "2024Q1", "2024Q2"), shares, strict=True)
        }

    def past_measures(self, members: Sequence[Member], public_post: bool) -> list[str]:
        out = ["产业帮扶"] if self.chance(0.7) else []
        if self.chance(0.4):
            out.append("资产收益")
        if self.chance(0.08):
            out.append("光伏收益")
        if any(m.student for m in members) and self.chance(0.6):
            out.append("教育帮扶")
        if any(m.health != "健康" for m in members) and self.chance(0.6):
            out.append("健康帮扶")
        if any(m.employment != "none" for m in members) and self.chance(0.3):
            out.append("就业帮扶")
        if public_post:
            out.append("公益岗位帮扶")
        if self.chance(0.05):
            out.append("住房安全帮扶")
        return out

    def open_object(
        self,
        plan: Plan,
        tuopin: bool,
        members: list[Member],
        lc: str,
        original: list[str],
        risks: list[str],
        pcni: int,
        medical: int,
        event: Json | None,
        on_dibao: bool,
    ) -> tuple[Json, list[str], Json | None]:
        if plan.special in IDENTIFIED_SPECIALS:
            identified = IDENTIFIED_SPECIALS[plan.special]
        elif plan.special is not None and plan.special.startswith("stable="):
            identified = self.date_between(dt.date(2022, 9, 1), dt.date(2023, 3, 31))
        else:
            identified = self.identified_on()
        months = months_between(identified, AS_OF)
        if tuopin:
            category = "脱贫不稳定户"
        elif (medical > yuan(20000) or (event and event["kind"] != "other")) and pcni > LINE:
            category = "突发严重困难户"
        else:
            category = "边缘易致贫户"
        ready = plan.ready or (lc != "LC-3" and months >= 6 and pcni > LINE and self.chance(0.25))
        if ready:
            stable = self.rng.randint(6, max(6, min(months, 18)))
            resolved = True
        elif pcni > LINE:
            stable = self.rng.randint(0, max(0, min(months, 5)))
            resolved = self.chance(0.2)
        else:
            stable, resolved = 0, False
        if plan.special == "stable=6":
            stable = 6
        elif plan.special == "stable=5":
            stable = 5
        measures: list[str] = []
        confirmed: Json | None = None
        if lc == "LC-1":
            if on_dibao and not plan.ready and self.chance(0.25):
                measures = ["综合保障"] + (["临时救助"] if self.chance(0.4) else [])  # AS-6
            else:
                pool = list(DEV_MEASURES)
                measures = self.rng.sample(pool, self.rng.randint(1, 3))
                if plan.ready:
                    confirmed = {"sumu": True, "gacha": True}
                else:
                    confirmed = self.wpick(
                        (
                            ({"sumu": True, "gacha": True}, 75),
                            ({"sumu": True, "gacha": False}, 10),
                            ({"sumu": False, "gacha": True}, 5),
                            ({"sumu": False, "gacha": False}, 10),
                        )
                    )
                    confirmed = dict(confirmed)
        elif lc == "LC-2":
            measures = self.rng.sample(["庭院经济", "公益岗位帮扶", "以工代赈", "联农带农"], 2)
            if self.chance(0.3):
                measures = ["庭院经济", "公益岗位帮扶", "以工代赈", "联农带农"]
        else:
            measures = ["综合保障", self.pick(("资产收益", "光伏收益"))]
            if self.chance(0.3):
                measures = ["综合保障", "资产收益", "光伏收益"]
        if "因病" in original and self.chance(0.7):
            measures.append("健康帮扶")
        if "因学" in original:
            measures.append("教育帮扶")
        if "因自然灾害" in original and self.chance(0.5):
            measures.append("临时救助")
        if months < 2 and not plan.ready and self.chance(0.5):
            measures, confirmed = [], None
        zhwldnl = False
        on_safety_net = any(m.dibao_since or m.tekun != "none" for m in members)
        if lc == "LC-3" and on_safety_net:
            zhwldnl = self.chance(0.5)
        person, phone = self.cadre()
        obj: Json = {
            "is_object": True,
            "category": category,
            "identified_on": identified.isoformat(),
            "eliminated": False,
            "original_risks": original,
            "risks_resolved": resolved,
            "income_stable_months": stable,
            "zhwldnl_flag": zhwldnl,
            "contact_person": person,
            "contact_phone": phone,
        }
        return obj, measures, confirmed

    def eliminated_object(
        self, plan: Plan, category: str, lc: str, original: list[str]
    ) -> tuple[Json, list[str]]:
        identified = self.date_between(dt.date(2021, 3, 1), dt.date(2023, 9, 30))
        span = self.rng.randint(7, 30)
        if plan.special == "eliminated=6m":
            identified, span = dt.date(2023, 8, 15), 6
        elif plan.special == "eliminated=5m":
            identified, span = dt.date(2023, 8, 31), 6  # → 2024-02-29: only 5 whole months
        elif not plan.clean and self.chance(0.03):
            span = self.rng.randint(2, 5)  # DQ-12
        eliminated = add_months(identified, span)
        if eliminated > dt.date(2024, 5, 15):
            eliminated = self.date_between(add_months(identified, 7), dt.date(2024, 5, 15))
        mode = "自然消除" if self.chance(0.15) else "帮扶消除"
        at_elim = yuan(self.uniform(9000, 18000))
        if not plan.clean and mode == "帮扶消除" and self.chance(0.025):
            at_elim = yuan(self.uniform(7500, 8299))  # DQ-17
        obj: Json = {
            "is_object": True,
            "eliminated": True,
            "identified_on": identified.isoformat(),
            "eliminated_on": eliminated.isoformat(),
            "elim_mode": mode,
            "original_risks": original,
            "risks_resolved": True,
            "income_stable_months": self.rng.randint(6, 30),
            "pcni_at_elimination": at_elim,
        }
        obj["category"] = category
        if plan.clean or self.chance(0.96):  # DQ-13 otherwise
            person, phone = self.cadre()
            obj["contact_person"] = person
            obj["contact_phone"] = phone
        if lc == "LC-1":
            measures = self.rng.sample(list(DEV_MEASURES), self.rng.randint(1, 2))
        elif lc == "LC-2":
            measures = ["公益岗位帮扶", "庭院经济"]
        else:
            measures = ["综合保障", "资产收益"]
        if "因病" in original:
            measures.append("健康帮扶")
        return obj, measures

    def judgement(
        self,
        plan: Plan,
        tuopin: bool,
        status: str,
        monitoring: Json | None,
        facts: tuple[bool, int, int, int],
        members: Sequence[Member],
        texts: tuple[str, str, Json | None],
    ) -> str | None:
        """研判结果 text, or None when the collector wrote none."""
        has_risk, pcni, ref_pcni, medical = facts
        herd, problem, event = texts
        if plan.exact is not None or plan.ready:
            return None
        parts: list[str] = []
        if herd:
            parts.append(f"存栏{herd}")
        parts.append(f"测算人均纯收入{_fmt_yuan(pcni)}元")
        if status == "open" and monitoring is not None:
            if not self.chance(0.5):
                return None
            parts.append(f"{monitoring['identified_on']}识别为{monitoring['category']}")
            if monitoring["risks_resolved"] and monitoring["income_stable_months"] >= 6:
                parts.append("收入持续稳定超过监测范围，原识别风险已消除，待按程序标注风险消除")
            else:
                parts.append("帮扶措施落实中，风险尚未消除，帮扶联系人按月走访")
            return "；".join(parts) + "。"
        if status == "elim" and monitoring is not None:
            if not self.chance(0.6):
                return None
            parts.append(f"{monitoring['eliminated_on']}标注风险消除，回头看")
            if has_risk or pcni <= LINE or ref_pcni <= LINE:
                parts.append("发现收入下降或新增风险，拟按程序风险回退或重新识别")
            else:
                parts.append("收入持续稳定，三保障及饮水安全持续巩固，无新增风险")
            return "；".join(parts) + "。"
        chronic = [m for m in members if m.health == "长期慢性病"]
        attention = (
            has_risk
            or pcni <= LINE
            or (chronic and medical > 0)
            or any(m.health == "残疾" and (m.disability_grade or 4) <= 2 for m in members)
            or any(m.dibao_since and m.dibao_since.year >= 2023 for m in members)
            or event is not None
            or any(m.employment_unstable for m in members)
            or any(m.left_behind_child or m.child_in_distress for m in members)
            or medical > yuan(10000)
        )
        candidate = (pcni <= LINE or ref_pcni <= LINE) and has_risk
        if candidate:
            if not self.chance(0.45):
                return None
        elif tuopin:  # 对所有脱贫户逐一排查研判
            if not self.chance(0.93):
                return None
        elif attention:
            if not self.chance(0.9):
                return None
        elif not self.chance(0.04):
            return None
        if chronic and medical > 0:
            who = chronic[0].name
            cost = _fmt_yuan(medical)
            parts.append(f"{who}患慢性病，年自付医疗费用约{cost}元，已办理门诊慢特病")
        if event is not None:
            parts.append(str(event["note"]))
        if problem:
            parts.append(f"存在{problem}问题，已报行业部门限期解决")
        if candidate:
            parts.append("存在返贫致贫风险，已提交嘎查民主评议，拟按程序识别为监测对象")
        elif pcni <= LINE:
            parts.append("收入低于监测收入基准但无明显返贫致贫风险，经嘎查两委和驻村工作队研判")
            parts.append("暂不纳入，建立特殊档案，按月跟踪收入")
        elif problem:
            parts.append("家庭收入稳定，自主应对能力较强，暂不纳入监测，跟踪问题整改")
        elif attention:
            parts.append("经入户核实和综合研判，收入稳定，三保障及饮水安全有保障")
            parts.append("自主应对能力较强，暂不纳入监测，列为重点关注户")
        else:
            parts.append("收入来源稳定，无返贫致贫风险")
        return "；".join(parts) + "。"

    def finish_special(self, plan: Plan, rec: Json) -> None:
        kind = plan.special or ""
        if kind in PCNI_VARIANTS or kind == "negative-net":
            rec["sig_household"] = rec["sig_collector"] = True
        if kind.startswith("medical="):
            rec.setdefault("risk_types", [])
            if "因病" not in rec["risk_types"]:
                rec["risk_types"] = ["因病", *list(rec["risk_types"])[:4]]

    def drop_required(self, rec: Json, kind: str) -> None:
        members = rec.get("members") or []
        if kind.startswith("members[]."):
            field_name = kind.split(".", 1)[1]
            null = field_name.endswith("=null")
            field_name = field_name.removesuffix("=null")
            target = members[self.rng.randrange(len(members))]
            if null:
                target[field_name] = None
            else:
                target.pop(field_name, None)
        elif kind.endswith("=null"):
            rec[kind.removesuffix("=null")] = None
        else:
            rec.pop(kind, None)


def _measure_order(m: str) -> int:
    return MEASURES.index(m)


def _rank_percentiles(records: list[Json]) -> None:
    """pcni_2023_rank_pct: percentile of pcni_2023 among the batch's 脱贫户 (0 = lowest)."""
    pool = [
        r
        for r in records
        if r.get("is_tuopin") is True
        and isinstance(r.get("pcni_2023"), int)
        and "pcni_2023_rank_pct" not in r
    ]
    values = sorted(int(r["pcni_2023"]) for r in pool)
    if len(values) < 2:
        return
    for r in pool:
        below = _bisect_left(values, int(r["pcni_2023"]))
        r["pcni_2023_rank_pct"] = round(100 * below / (len(values) - 1), 1)


def _bisect_left(values: list[int], x: int) -> int:
    lo, hi = 0, len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _to_json(value: Any, as_text: bool) -> Any:
    if isinstance(value, Fen):
        return money_value(int(value), as_text)
    if isinstance(value, dict):
        return {k: _to_json(v, as_text) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v, as_text) for v in value]
    return value


def generate(n: int, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """``n`` synthetic households (plain JSON-ready dicts), deterministic in ``seed``."""
    if n < 0:
        raise ValueError("n must be >= 0")
    gen = _Generator(seed)
    plans = gen.schedule(n)
    raw = [gen.household(plan) for plan in plans]
    _rank_percentiles(raw)
    out: list[Json] = []
    for rec in raw:
        as_text = bool(rec.pop("_money_text"))
        out.append(_to_json(rec, as_text))
    return out


def dumps_jsonl(records: Sequence[Json]) -> str:
    """JSON Lines text: one record a line, keys sorted, UTF-8 characters kept."""
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate synthetic 鄂温克族自治旗 households (JSON Lines)."
    )
    parser.add_argument("n", type=int, help="number of households")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("-o", "--output", type=Path, help="output file (default: stdout)")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("N must be >= 0")
    data = dumps_jsonl(generate(args.n, args.seed)).encode("utf-8")
    if args.output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        args.output.write_bytes(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
