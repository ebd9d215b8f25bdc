"""Deterministic synthetic sample world behind ``mdm generate --entities N --seed S --out DIR``.

It invents ``N`` legal entities (``E0000001`` ...) in corporate groups across CN, GB, US and a few
other countries and writes what the real sources would hold about them, in their real formats:

========================== ==============================================================
``registry/gleif_lei2.xml`` GLEIF LEI-CDF 3.1 level-1 records (entities with an LEI)
``registry/gleif_rr.xml``   GLEIF RR-CDF level-2 parent relationships between LEI holders
``registry/cn_registry.csv`` Chinese enterprise register extract (企业名称, 统一社会信用代码, ...)
``registry/uk_basiccompany.csv`` Companies House BasicCompanyData (55 columns)
``financials/sub.txt`` ``num.txt`` SEC Financial Statement Data Set (several filings per CIK)
``internal/crm.sqlite``     the bank's CRM: customers, accounts, monthly balances
``truth.csv``               which entity every organisation record belongs to
``mdm.yaml``                a pipeline config reading all of the above
========================== ==============================================================

The records of one entity differ the way real ones do (legal-form spellings, abbreviations, case,
typos, traditional characters, bracket widths, former names, stale addresses, missing or mistyped
identifiers, CRM duplicates), and group members share name stems and addresses while being
different entities, so a matcher cannot cheat. Names are unique in the world by construction: a
group's (stem, industry) pair is drawn without replacement from a large combinatorial space via an
affine bijection, and group members add a qualifier unique within the group.

Everything is streamed in blocks of groups (bounded memory); all randomness comes from one
``random.Random(seed)``, so the same seed gives byte-identical files (and identical SQLite tables).

Hard-coded reference codes (looked up when this was written, not read at runtime):
ELF codes from the ISO 20275 list v1.5: GB H0PO private limited, B6ES PLC, Z0EY LLP; US-DE XTIQ
corporation, HZEH LLC; US-CA H1UM corporation, EI4J LLC; DE 2HBR GmbH, 6QQB AG; FR 6CHY SAS,
V9QP SARL, K65D SA; HK 254M private company limited by shares; SG LWXI; JP T417 株式会社;
CN ECAK 企业. Registration authorities seen in GLEIF golden-copy data: RA000585 Companies House,
RA000602 Delaware, RA000598 California, RA000189 French SIREN register, RA000388 Hong Kong
Companies Registry, several German local courts (RA000217 ... RA000355; the court-to-city pairing
here is arbitrary). RA000092 for China's SAMR/GSXT comes from third-party code, not from a GLEIF
file we hold. SG and JP entities use RA999999 (registration authority not known).
"""

from __future__ import annotations

import csv
import random
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import escape

from stdnum import lei as stdlei
from stdnum.cn import uscc as stduscc

from mdm import synth

BLOCK_ENTITIES = 2000          # entities generated, shuffled and written per block
SQL_BATCH = 20_000             # rows per sqlite executemany
BALANCE_MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06")

# --- word pools ----------------------------------------------------------------------------------

# Coined-stem syllables. Suffixes never end like a pinyin syllable (vowel, n, ng, r), so a coined
# stem can never equal the pinyin of a Chinese trade name.
_PREFIXES = (
    "Nor", "Vel", "Kar", "Zen", "Tor", "Bel", "Mar", "Sol", "Ast", "Cor", "Dal", "Ev", "Fal", "Gal",
    "Hal", "Il", "Jor", "Kel", "Lum", "Mer", "Nov", "Or", "Pel", "Quin", "Ros", "Sel", "Tal", "Ul",
    "Val", "Wex", "Xan", "Yar", "Zor", "Brin", "Cal", "Dor", "Eld", "Fen", "Gor", "Hel", "Ken",
    "Lor", "Mal", "Nim", "Os", "Pra", "Rav", "Sar", "Tev", "Ven", "Wyn", "Alb", "Bran", "Cres",
    "Dun", "Elm", "Fair", "Glen", "Hart", "Kings",
)
_MIDDLES = (
    "a", "e", "i", "o", "u", "ar", "en", "il", "or", "um", "ad", "el", "ith", "ov", "ur", "an",
    "et", "ic", "ol", "ys", "ab", "em", "in", "os", "ud", "ag", "ev", "is", "ot", "ux", "al", "ex",
    "id", "om", "ut", "av", "er", "ix", "ok", "ul",
)
_SUFFIXES = (
    "vex", "trix", "dex", "tek", "lux", "max", "nix", "rex", "tus", "lis", "dos", "mos", "tas",
    "ris", "vis", "kos", "tix", "nex", "pex", "zex", "dal", "mel", "val", "tal", "wel", "sol",
    "ton", "don", "lon", "ford", "wick", "stead", "field", "wood", "well", "mont", "crest", "bury",
    "worth", "dale", "mark", "port", "gate", "bridge", "holm", "ark", "ent", "ast", "ect", "ium",
    "ios", "os", "ax", "ix", "ex", "us", "is", "el", "ot", "ut",
)
# Real-word stems (English, German, French), for look-alikes such as "Summit Logistics" vs
# "Summit Foods".
_WORD_STEMS = (
    "Summit", "Pacific", "Atlantic", "Granite", "Meridian", "Horizon", "Pinnacle", "Keystone",
    "Beacon", "Harbour", "Crown", "Oak", "Cedar", "Silverline", "Bluewater", "Redstone", "Northgate",
    "Eastbrook", "Westfield", "Southport", "Ironbridge", "Clearwater", "Highland", "Riverside",
    "Lakeside", "Hamilton", "Harrison", "Bennett", "Fletcher", "Whitaker", "Morgan", "Sterling",
    "Windsor", "Oxford", "Cambridge", "Chester", "Lancaster", "Bristol", "Avalon", "Phoenix",
    "Sonnenberg", "Rheinland", "Nordstern", "Alpenblick", "Weber", "Schneider", "Hoffmann",
    "Becker", "Krüger", "Lindemann", "Bergmann", "Falkenstein", "Rosenthal", "Adler", "Eichwald",
    "Lumière", "Beaulieu", "Montblanc", "Rivière", "Dupont", "Lefèvre", "Marchand", "Fontaine",
    "Bellevue", "Clairmont", "Delacroix", "Girard", "Rousseau", "Valmont", "Chevalier",
)
_WORD_STEMS_ZH = (
    "顶峰", "太平洋", "大西洋", "花岗岩", "子午线", "地平线", "巅峰", "基石", "灯塔", "港湾", "皇冠", "橡树",
    "雪松", "银线", "碧水", "红石", "北门", "东溪", "西田", "南港", "铁桥", "清水", "高地", "河畔", "湖畔",
    "汉密尔顿", "哈里森", "贝内特", "弗莱彻", "惠特克", "摩根", "斯特林", "温莎", "牛津", "剑桥", "切斯特",
    "兰开斯特", "布里斯托", "阿瓦隆", "凤凰", "松嫩山", "莱茵兰", "北极星", "阿尔卑", "韦伯", "施耐德",
    "霍夫曼", "贝克尔", "克吕格", "林德曼", "贝格曼", "法肯施泰", "罗森塔", "鹰", "橡林", "光明", "美地",
    "勃朗峰", "里维耶", "杜邦", "勒费弗", "马尔尚", "枫丹", "美景", "克莱蒙", "德拉克", "吉拉尔", "卢梭",
    "瓦尔蒙", "骑士",
)
# Phonetic characters for Chinese renderings of coined stems (disjoint from the trade-name pool).
_PHONETIC = "诺维克斯瑞科特欧艾普雷朗迈思阿奥巴比波布卡库迪多杜埃法菲弗伽格古哈赫霍基杰拉莱勒里洛卢马梅米莫穆纳内尼帕佩皮珀奇若萨塞索塔提托瓦韦沃夏谢亚伊约扎泽兹佐"
# Chinese trade-name (字号) characters with distinct consonant-initial pinyin.
_ZIHAO = (
    ("华", "hua"), ("兴", "xing"), ("达", "da"), ("利", "li"), ("通", "tong"), ("信", "xin"), ("源", "yuan"),
    ("泰", "tai"), ("昌", "chang"), ("盛", "sheng"), ("宏", "hong"), ("伟", "wei"), ("金", "jin"), ("海", "hai"),
    ("天", "tian"), ("龙", "long"), ("凯", "kai"), ("博", "bo"), ("瑞", "rui"), ("祥", "xiang"), ("富", "fu"),
    ("嘉", "jia"), ("德", "de"), ("明", "ming"), ("光", "guang"), ("辉", "hui"), ("恒", "heng"), ("中", "zhong"),
    ("东", "dong"), ("南", "nan"), ("北", "bei"), ("西", "xi"), ("正", "zheng"), ("诚", "cheng"), ("合", "he"),
    ("万", "wan"), ("永", "yong"), ("丰", "feng"), ("茂", "mao"), ("森", "sen"), ("林", "lin"), ("晨", "chen"),
    ("阳", "yang"), ("宇", "yu"), ("航", "hang"), ("创", "chuang"), ("美", "mei"), ("强", "qiang"), ("启", "qi"),
    ("捷", "jie"), ("路", "lu"), ("腾", "teng"), ("飞", "fei"), ("迅", "xun"), ("云", "yun"), ("峻", "jun"),
    ("浩", "hao"), ("晶", "jing"), ("卓", "zhuo"), ("越", "yue"), ("旭", "xu"), ("耀", "yao"), ("振", "zhen"),
    ("蓝", "lan"), ("青", "qing"), ("紫", "zi"), ("瀚", "han"), ("亿", "yi"), ("百", "bai"), ("千", "qian"),
    ("松", "song"), ("竹", "zhu"), ("菊", "ju"), ("桂", "gui"), ("荣", "rong"), ("顺", "shun"), ("发", "fa"),
    ("宁", "ning"), ("康", "kang"), ("健", "jian"), ("乐", "le"), ("寿", "shou"), ("吉", "ji"), ("泉", "quan"),
    ("江", "jiang"), ("湖", "hu"), ("川", "chuan"), ("山", "shan"), ("岭", "ling"), ("岩", "yan"), ("石", "shi"),
    ("宝", "bao"), ("银", "yin"), ("智", "zhi"), ("仁", "ren"), ("友", "you"), ("邦", "bang"), ("联", "lian"),
    ("协", "xie"), ("群", "qun"), ("鹏", "peng"), ("豪", "hao2"), ("新", "xin2"), ("鑫", "xin3"), ("汇", "hui2"),
    ("嘉", "jia2"), ("彩", "cai"), ("虹", "hong2"), ("奥", "ao"), ("鼎", "ding"), ("锦", "jin2"), ("骏", "jun2"),
    ("铭", "ming2"), ("朗", "lang"), ("帆", "fan"), ("舟", "zhou"), ("港", "gang"), ("城", "cheng2"), ("都", "du"),
    ("禾", "he2"), ("谷", "gu"), ("沃", "wo"), ("润", "run"), ("泽", "ze"), ("涛", "tao"), ("波", "bo2"),
    ("星", "xing2"), ("辰", "chen2"), ("弘", "hong3"), ("坤", "kun"), ("乾", "qian2"), ("麒", "qi2"), ("麟", "lin2"),
)
_ZIHAO = tuple((c, p) for c, p in _ZIHAO if p.isalpha() and p[0] not in "aeiou")   # one char per pinyin
_PHONETIC = "".join(c for c in dict.fromkeys(_PHONETIC) if c not in {z for z, _ in _ZIHAO})


@cache
def _latin_stems() -> tuple[tuple[str, str], ...]:
    """Every Latin stem once, with an injective Chinese rendering.

    Word stems keep their hand translation unless it could clash with a Chinese trade name (all
    characters from the 字号 pool) or with a coined stem's rendering (three phonetic characters);
    coined stems (prefix+suffix, prefix+middle+suffix) are deduplicated by spelling and rendered as
    their ordinal written with three phonetic characters.
    """
    zihao = {c for c, _ in _ZIHAO}
    phon = set(_PHONETIC)
    out: dict[str, str] = {}
    for latin, zh in zip(_WORD_STEMS, _WORD_STEMS_ZH, strict=True):
        if all(c in zihao for c in zh) or (len(zh) == 3 and all(c in phon for c in zh)):
            continue
        out.setdefault(latin, zh)
    coined: dict[str, None] = {}
    for p in _PREFIXES:
        for x in _SUFFIXES:
            coined[p + x] = None
    for p in _PREFIXES:
        for m in _MIDDLES:
            for x in _SUFFIXES:
                coined[p + m + x] = None
    n = 0
    for latin in coined:
        if latin not in out:
            out[latin] = synth.to_base(n, 3, _PHONETIC)
            n += 1
    return tuple(out.items())


# (en, zh, de, fr, UK SIC "code - text", US SIC, 经营范围)
_INDUSTRIES: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ("Logistics", "物流", "Logistik", "Logistique", "52290 - Other transportation support activities", "4731", "道路货物运输；仓储服务；货运代理"),
    ("Technology", "科技", "Technologie", "Technologie", "62020 - Information technology consultancy activities", "7373", "技术开发、技术咨询、技术服务；计算机软硬件销售"),
    ("Technologies", "技术", "Technologies", "Technologies", "62090 - Other information technology service activities", "7370", "通信技术开发；技术推广服务"),
    ("Trading", "贸易", "Handel", "Négoce", "46900 - Non-specialised wholesale trade", "5090", "货物进出口；技术进出口；日用百货销售"),
    ("Holdings", "控股", "Holding", "Holding", "64209 - Activities of other holding companies n.e.c.", "6719", "投资控股；企业管理咨询"),
    ("Manufacturing", "制造", "Fertigung", "Fabrication", "28290 - Manufacture of other general-purpose machinery n.e.c.", "3569", "通用设备制造；机械零部件加工"),
    ("Electronics", "电子", "Elektronik", "Électronique", "26110 - Manufacture of electronic components", "3670", "电子元器件制造；电子产品销售"),
    ("Engineering", "工程", "Ingenieurbau", "Ingénierie", "71129 - Other engineering activities", "8711", "工程技术服务；工程管理服务"),
    ("Construction", "建设", "Bau", "Construction", "41201 - Construction of commercial buildings", "1540", "房屋建筑工程施工；市政工程施工"),
    ("Property", "置业", "Immobilien", "Immobilier", "68209 - Other letting and operating of own or leased real estate", "6512", "房地产开发经营；物业管理"),
    ("Investments", "投资", "Beteiligungen", "Investissements", "64304 - Activities of open-ended investment companies", "6799", "以自有资金从事投资活动；投资管理"),
    ("Capital", "资本", "Kapital", "Capital", "64999 - Financial intermediation not elsewhere classified", "6282", "资产管理；投资咨询"),
    ("Pharmaceuticals", "医药", "Pharma", "Pharmaceutique", "21200 - Manufacture of pharmaceutical preparations", "2834", "药品生产；药品批发"),
    ("Biotech", "生物", "Biotechnologie", "Biotechnologie", "72110 - Research and experimental development on biotechnology", "2836", "生物技术研发；技术转让"),
    ("Energy", "能源", "Energie", "Énergie", "35110 - Production of electricity", "4911", "发电业务；新能源技术开发"),
    ("Solar", "光伏", "Solar", "Solaire", "27900 - Manufacture of other electrical equipment", "3674", "太阳能电池组件制造；光伏设备销售"),
    ("Chemicals", "化工", "Chemie", "Chimie", "20590 - Manufacture of other chemical products n.e.c.", "2890", "化工产品销售（不含许可类化工产品）"),
    ("Foods", "食品", "Lebensmittel", "Alimentaire", "10890 - Manufacture of other food products n.e.c.", "2090", "食品生产；食品销售"),
    ("Food & Beverage", "餐饮", "Gastronomie", "Restauration", "56101 - Licensed restaurants", "5812", "餐饮服务；食品经营"),
    ("Textiles", "纺织", "Textil", "Textile", "13990 - Manufacture of other textiles n.e.c.", "2299", "纺织品制造；服装销售"),
    ("Apparel", "服饰", "Bekleidung", "Habillement", "14190 - Manufacture of other wearing apparel and accessories", "2300", "服装服饰批发；鞋帽零售"),
    ("Machinery", "机械", "Maschinenbau", "Machines", "28990 - Manufacture of other special-purpose machinery n.e.c.", "3559", "机械设备研发；机械设备销售"),
    ("Automotive", "汽车", "Automobil", "Automobile", "29320 - Manufacture of other parts and accessories for motor vehicles", "3714", "汽车零部件制造；汽车销售"),
    ("Materials", "材料", "Werkstoffe", "Matériaux", "23990 - Manufacture of other non-metallic mineral products n.e.c.", "3290", "新材料技术研发；建筑材料销售"),
    ("Steel", "钢铁", "Stahl", "Acier", "24100 - Manufacture of basic iron and steel and of ferro-alloys", "3312", "钢压延加工；金属材料销售"),
    ("Software", "软件", "Software", "Logiciels", "62012 - Business and domestic software development", "7372", "软件开发；信息系统集成服务"),
    ("Networks", "网络", "Netzwerke", "Réseaux", "61900 - Other telecommunications activities", "4813", "互联网信息服务；网络技术服务"),
    ("Communications", "通信", "Kommunikation", "Communications", "61100 - Wired telecommunications activities", "4899", "通信设备制造；通信工程施工"),
    ("Media", "传媒", "Medien", "Médias", "59111 - Motion picture production activities", "7812", "广告设计、代理；文化艺术交流活动"),
    ("Consulting", "咨询", "Beratung", "Conseil", "70229 - Management consultancy activities other than financial management", "8742", "企业管理咨询；信息咨询服务"),
    ("Management", "管理", "Management", "Gestion", "70100 - Activities of head offices", "8741", "企业总部管理；物业管理"),
    ("Shipping", "航运", "Schifffahrt", "Maritime", "50200 - Sea and coastal freight water transport", "4412", "国际船舶运输；船舶代理"),
    ("Aviation", "航空", "Luftfahrt", "Aviation", "51102 - Non-scheduled passenger air transport", "4522", "航空器维修；航空货运代理"),
    ("Agriculture", "农业", "Landwirtschaft", "Agriculture", "01110 - Growing of cereals (except rice), leguminous crops and oil seeds", "0100", "谷物种植；农产品销售"),
    ("Environmental", "环保", "Umwelttechnik", "Environnement", "38110 - Collection of non-hazardous waste", "4953", "环境保护专用设备制造；污水处理"),
    ("Medical", "医疗", "Medizintechnik", "Médical", "32500 - Manufacture of medical and dental instruments and supplies", "3841", "医疗器械生产；医疗器械销售"),
    ("Healthcare", "健康", "Gesundheit", "Santé", "86900 - Other human health activities", "8099", "健康咨询服务；养老服务"),
    ("Education", "教育", "Bildung", "Éducation", "85590 - Other education n.e.c.", "8299", "教育咨询服务；职业技能培训"),
    ("Retail", "商贸", "Einzelhandel", "Distribution", "47190 - Other retail sale in non-specialised stores", "5399", "日用百货销售；五金产品零售"),
    ("Furniture", "家具", "Möbel", "Mobilier", "31090 - Manufacture of other furniture", "2510", "家具制造；家具销售"),
    ("Packaging", "包装", "Verpackung", "Emballage", "17219 - Manufacture of other paper and paperboard containers", "2650", "包装材料制造；纸制品销售"),
    ("Printing", "印务", "Druck", "Imprimerie", "18129 - Printing n.e.c.", "2750", "包装装潢印刷品印刷；其他印刷品印刷"),
    ("Optics", "光电", "Optik", "Optique", "26700 - Manufacture of optical instruments and photographic equipment", "3827", "光电子器件制造；光学仪器销售"),
    ("Instruments", "仪器", "Messtechnik", "Instruments", "26511 - Manufacture of electronic measuring, testing etc. equipment", "3823", "仪器仪表制造；仪器仪表销售"),
    ("Security", "安防", "Sicherheit", "Sécurité", "80100 - Private security activities", "7381", "安防设备销售；安全系统监控服务"),
    ("Semiconductor", "半导体", "Halbleiter", "Semi-conducteurs", "26110 - Manufacture of electronic components", "3674", "集成电路设计；半导体器件专用设备销售"),
    ("Hotels", "酒店", "Hotels", "Hôtellerie", "55100 - Hotels and similar accommodation", "7011", "住宿服务；酒店管理"),
    ("Travel", "旅游", "Reisen", "Voyages", "79110 - Travel agency activities", "4724", "旅游业务；票务代理服务"),
    ("Industries", "实业", "Industrie", "Industries", "32990 - Other manufacturing n.e.c.", "3990", "五金产品批发；金属制品销售"),
    ("Development", "发展", "Entwicklung", "Développement", "41100 - Development of building projects", "6552", "房地产开发经营；土地整理"),
    ("Supply Chain", "供应链", "Lieferkette", "Chaîne Logistique", "52103 - Operation of warehousing and storage facilities for land transport activities", "4225", "供应链管理服务；仓储服务"),
    ("Water", "水务", "Wasser", "Eaux", "36000 - Water collection, treatment and supply", "4941", "自来水生产与供应；污水处理"),
    ("Mining", "矿业", "Bergbau", "Mines", "08990 - Other mining and quarrying n.e.c.", "1000", "矿产资源开采；矿产品销售"),
    ("Paper", "纸业", "Papier", "Papeterie", "17120 - Manufacture of paper and paperboard", "2621", "纸制品制造；纸浆销售"),
    ("Plastics", "塑胶", "Kunststoffe", "Plastiques", "22290 - Manufacture of other plastic products", "3089", "塑料制品制造；橡胶制品销售"),
    ("Lighting", "照明", "Leuchten", "Éclairage", "27400 - Manufacture of electric lighting equipment", "3640", "照明器具制造；灯具销售"),
    ("Cosmetics", "化妆品", "Kosmetik", "Cosmétiques", "20420 - Manufacture of perfumes and toilet preparations", "2844", "化妆品生产；化妆品批发"),
    ("Home Appliances", "电器", "Hausgeräte", "Électroménager", "27510 - Manufacture of electric domestic appliances", "3630", "家用电器研发；家用电器销售"),
    ("Marine", "海洋", "Meerestechnik", "Marine", "30110 - Building of ships and floating structures", "3730", "船舶制造；海洋工程装备销售"),
    ("Tools", "工具", "Werkzeuge", "Outillage", "25730 - Manufacture of tools", "3420", "五金工具制造；刀具销售"),
)

# CN cities: (province short, city, pinyin, ISO 3166-2, phone area, postal, ((district, area code), ...))
_CN_CITIES: tuple[tuple[str, str, str, str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("上海", "上海", "Shanghai", "CN-SH", "021", "200000", (("黄浦区", "310101"), ("徐汇区", "310104"), ("静安区", "310106"), ("浦东新区", "310115"), ("闵行区", "310112"), ("奉贤区", "310120"))),
    ("北京", "北京", "Beijing", "CN-BJ", "010", "100000", (("朝阳区", "110105"), ("海淀区", "110108"), ("东城区", "110101"), ("西城区", "110102"), ("丰台区", "110106"))),
    ("天津", "天津", "Tianjin", "CN-TJ", "022", "300000", (("和平区", "120101"), ("河西区", "120103"), ("滨海新区", "120116"))),
    ("重庆", "重庆", "Chongqing", "CN-CQ", "023", "400000", (("渝中区", "500103"), ("江北区", "500105"), ("南岸区", "500108"))),
    ("广东", "广州", "Guangzhou", "CN-GD", "020", "510000", (("天河区", "440106"), ("越秀区", "440104"), ("海珠区", "440105"), ("白云区", "440111"))),
    ("广东", "深圳", "Shenzhen", "CN-GD", "0755", "518000", (("福田区", "440304"), ("南山区", "440305"), ("罗湖区", "440303"), ("宝安区", "440306"), ("龙岗区", "440307"))),
    ("浙江", "杭州", "Hangzhou", "CN-ZJ", "0571", "310000", (("西湖区", "330106"), ("拱墅区", "330105"), ("滨江区", "330108"), ("余杭区", "330110"))),
    ("浙江", "宁波", "Ningbo", "CN-ZJ", "0574", "315000", (("海曙区", "330203"), ("鄞州区", "330212"), ("北仑区", "330206"))),
    ("江苏", "南京", "Nanjing", "CN-JS", "025", "210000", (("玄武区", "320102"), ("建邺区", "320105"), ("鼓楼区", "320106"))),
    ("江苏", "苏州", "Suzhou", "CN-JS", "0512", "215000", (("虎丘区", "320505"), ("吴中区", "320506"), ("姑苏区", "320508"), ("相城区", "320507"))),
    ("江苏", "无锡", "Wuxi", "CN-JS", "0510", "214000", (("梁溪区", "320213"), ("新吴区", "320214"), ("滨湖区", "320211"))),
    ("四川", "成都", "Chengdu", "CN-SC", "028", "610000", (("锦江区", "510104"), ("青羊区", "510105"), ("武侯区", "510107"), ("成华区", "510108"))),
    ("湖北", "武汉", "Wuhan", "CN-HB", "027", "430000", (("江岸区", "420102"), ("武昌区", "420106"), ("洪山区", "420111"))),
    ("陕西", "西安", "Xi'an", "CN-SN", "029", "710000", (("新城区", "610102"), ("碑林区", "610103"), ("雁塔区", "610113"))),
    ("山东", "青岛", "Qingdao", "CN-SD", "0532", "266000", (("市南区", "370202"), ("市北区", "370203"), ("黄岛区", "370211"))),
    ("福建", "厦门", "Xiamen", "CN-FJ", "0592", "361000", (("思明区", "350203"), ("湖里区", "350206"), ("集美区", "350211"))),
    ("湖南", "长沙", "Changsha", "CN-HN", "0731", "410000", (("芙蓉区", "430102"), ("天心区", "430103"), ("岳麓区", "430104"))),
    ("河南", "郑州", "Zhengzhou", "CN-HA", "0371", "450000", (("中原区", "410102"), ("金水区", "410105"))),
    ("安徽", "合肥", "Hefei", "CN-AH", "0551", "230000", (("瑶海区", "340102"), ("蜀山区", "340104"))),
    ("云南", "昆明", "Kunming", "CN-YN", "0871", "650000", (("五华区", "530102"), ("盘龙区", "530103"))),
    ("山西", "太原", "Taiyuan", "CN-SX", "0351", "030000", (("小店区", "140105"), ("迎泽区", "140106"))),
)
_MUNICIPALITIES = {"上海", "北京", "天津", "重庆"}
_CN_ROADS = (
    "人民路", "解放路", "中山路", "建设路", "长江路", "黄河路", "和平路", "文化路", "科技园路", "工业大道", "新华路",
    "胜利路", "青年路", "滨江大道", "高新路", "创业路", "学院路", "世纪大道", "东风路", "迎宾路", "金融街", "星光大道",
)
_CN_BUILDINGS = ("国际大厦", "商务中心", "科技大厦", "金融中心", "创业园", "广场", "大厦")
_CN_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤"
_CN_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红文辉力鹏宇浩然欣怡晨阳俊思远子涵雨轩梓萱嘉琪"
_CN_TYPES = ("N/A", "N/A", "N/A", "有限责任公司(自然人投资或控股)", "有限责任公司(法人独资)", "其他有限责任公司",
             "有限责任公司(外商投资企业法人独资)")

# GB towns: (post town, county, postcode areas, phone area, register: EW/SC/NI)
_GB_TOWNS = (
    ("LONDON", "", ("EC1A", "EC2V", "EC3M", "W1K", "WC2N", "SE1", "N1", "E14", "SW1A"), "020", "EW"),
    ("MANCHESTER", "GREATER MANCHESTER", ("M1", "M2", "M3", "M15"), "0161", "EW"),
    ("LEEDS", "WEST YORKSHIRE", ("LS1", "LS2", "LS10", "LS11"), "0113", "EW"),
    ("BIRMINGHAM", "WEST MIDLANDS", ("B1", "B2", "B3", "B5"), "0121", "EW"),
    ("BRISTOL", "", ("BS1", "BS2", "BS8"), "0117", "EW"),
    ("LIVERPOOL", "MERSEYSIDE", ("L1", "L2", "L3"), "0151", "EW"),
    ("SHEFFIELD", "SOUTH YORKSHIRE", ("S1", "S2", "S35"), "0114", "EW"),
    ("NOTTINGHAM", "NOTTINGHAMSHIRE", ("NG1", "NG2", "NG7"), "0115", "EW"),
    ("NEWCASTLE UPON TYNE", "TYNE AND WEAR", ("NE1", "NE2"), "0191", "EW"),
    ("CAMBRIDGE", "CAMBRIDGESHIRE", ("CB1", "CB2", "CB4"), "01223", "EW"),
    ("OXFORD", "OXFORDSHIRE", ("OX1", "OX2", "OX4"), "01865", "EW"),
    ("READING", "BERKSHIRE", ("RG1", "RG2"), "0118", "EW"),
    ("MILTON KEYNES", "BUCKINGHAMSHIRE", ("MK9", "MK10"), "01908", "EW"),
    ("SOUTHAMPTON", "HAMPSHIRE", ("SO14", "SO15"), "023", "EW"),
    ("CARDIFF", "SOUTH GLAMORGAN", ("CF10", "CF11"), "029", "EW"),
    ("EDINBURGH", "MIDLOTHIAN", ("EH1", "EH2", "EH3"), "0131", "SC"),
    ("GLASGOW", "LANARKSHIRE", ("G1", "G2", "G3"), "0141", "SC"),
    ("ABERDEEN", "ABERDEENSHIRE", ("AB10", "AB11"), "01224", "SC"),
    ("BELFAST", "COUNTY ANTRIM", ("BT1", "BT2", "BT7"), "028", "NI"),
)
_GB_STREETS = (
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Market Street",
    "King Street", "Queen Street", "Mill Lane", "London Road", "Bridge Street", "New Road",
    "Castle Street", "George Street", "Albert Road", "Princes Street", "Wellington Road", "Grosvenor Place",
)
_GB_BUILDINGS = ("House", "Court", "Chambers", "Business Centre", "Point", "Works", "Tower")
_PC_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# US cities: (city, state, zip base, phone area)
_US_CITIES = (
    ("New York", "NY", 10001, "212"), ("Boston", "MA", 2110, "617"), ("Chicago", "IL", 60601, "312"),
    ("San Francisco", "CA", 94105, "415"), ("Los Angeles", "CA", 90017, "213"), ("Austin", "TX", 78701, "512"),
    ("Houston", "TX", 77002, "713"), ("Dallas", "TX", 75201, "214"), ("Seattle", "WA", 98101, "206"),
    ("Denver", "CO", 80202, "303"), ("Atlanta", "GA", 30303, "404"), ("Miami", "FL", 33131, "305"),
    ("Wilmington", "DE", 19801, "302"), ("Phoenix", "AZ", 85004, "602"), ("Minneapolis", "MN", 55402, "612"),
    ("Charlotte", "NC", 28202, "704"), ("Pittsburgh", "PA", 15222, "412"), ("Detroit", "MI", 48226, "313"),
    ("San Jose", "CA", 95113, "408"), ("Nashville", "TN", 37203, "615"),
)
_US_STREETS = ("Main Street", "Market Street", "Broadway", "Park Avenue", "Fifth Avenue", "Elm Street",
               "Washington Blvd", "Commerce Street", "Peachtree Street", "Lake Street", "Madison Avenue",
               "Congress Avenue", "Mission Street", "Oak Street", "Pine Street")

# Other countries: (country, city, region, postal base, phone prefix)
_OTHER_CITIES = {
    "DE": (("Berlin", "DE-BE", 10115, "+49 30"), ("Hamburg", "DE-HH", 20095, "+49 40"), ("München", "DE-BY", 80331, "+49 89"),
           ("Frankfurt am Main", "DE-HE", 60311, "+49 69"), ("Köln", "DE-NW", 50667, "+49 221"), ("Stuttgart", "DE-BW", 70173, "+49 711"),
           ("Düsseldorf", "DE-NW", 40210, "+49 211"), ("Leipzig", "DE-SN", 4109, "+49 341")),
    "FR": (("Paris", "FR-75", 75001, "+33 1"), ("Lyon", "FR-69", 69001, "+33 4"), ("Marseille", "FR-13", 13001, "+33 4"),
           ("Toulouse", "FR-31", 31000, "+33 5"), ("Lille", "FR-59", 59000, "+33 3"), ("Bordeaux", "FR-33", 33000, "+33 5"),
           ("Nantes", "FR-44", 44000, "+33 2")),
    "HK": (("Hong Kong", "", 0, "+852"),),
    "SG": (("Singapore", "", 18900, "+65"),),
    "JP": (("Tokyo", "JP-13", 1000005, "+81 3"), ("Osaka", "JP-27", 5300001, "+81 6"), ("Yokohama", "JP-14", 2200011, "+81 45")),
}
_OTHER_STREETS = {
    "DE": ("Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Goethestraße", "Industriestraße", "Friedrichstraße", "Lindenallee", "Kaiserstraße", "Gartenstraße"),
    "FR": ("rue de la République", "boulevard Haussmann", "rue Victor Hugo", "avenue Jean Jaurès", "rue de Rivoli", "quai de la Seine", "rue Nationale", "avenue Foch"),
    "HK": ("Queen's Road Central", "Des Voeux Road Central", "Gloucester Road", "Nathan Road", "Hennessy Road", "Connaught Road Central", "King's Road", "Canton Road"),
    "SG": ("Raffles Place", "Shenton Way", "Cecil Street", "Robinson Road", "Anson Road", "Orchard Road", "Beach Road", "Marina Boulevard"),
    "JP": ("Marunouchi", "Otemachi", "Nihonbashi", "Akasaka", "Roppongi", "Umeda", "Minatomirai", "Shinjuku"),
}
_JP_WARDS = ("Chiyoda-ku", "Chuo-ku", "Minato-ku", "Kita-ku", "Nishi-ku", "Shinjuku-ku")
_HK_DISTRICTS = ("Central", "Admiralty", "Wan Chai", "Causeway Bay", "Tsim Sha Tsui", "Kwun Tong", "Sheung Wan", "Quarry Bay")
_DE_COURTS = ("RA000217", "RA000220", "RA000221", "RA000226", "RA000257", "RA000259", "RA000273", "RA000290", "RA000304", "RA000336", "RA000355")

# Qualifiers that tell group members apart: (en, zh, de, fr, bracketed in English?).
_QUALIFIERS: tuple[tuple[str, str, str, str, bool], ...] = tuple(
    (c[2], c[1], c[2], c[2], True) for c in _CN_CITIES
) + (
    ("UK", "英国", "UK", "Royaume-Uni", True), ("Europe", "欧洲", "Europa", "Europe", True),
    ("International", "国际", "International", "International", False), ("Asia Pacific", "亚太", "Asien-Pazifik", "Asie-Pacifique", False),
    ("North America", "北美", "Nordamerika", "Amérique du Nord", False), ("Hong Kong", "香港", "Hongkong", "Hong Kong", True),
    ("Singapore", "新加坡", "Singapur", "Singapour", True), ("Deutschland", "德国", "Deutschland", "Allemagne", True),
    ("France", "法国", "Frankreich", "France", True), ("Japan", "日本", "Japan", "Japon", True),
    ("USA", "美国", "USA", "États-Unis", True), ("Scotland", "苏格兰", "Schottland", "Écosse", True),
    ("Ireland", "爱尔兰", "Irland", "Irlande", True), ("Nordic", "北欧", "Nordic", "Nordique", False),
    ("Middle East", "中东", "Nahost", "Moyen-Orient", False), ("Global", "环球", "Global", "Global", False),
)
# Qualifiers that name a region rather than a country (usable for a member in any country).
_REGION_QUALIFIERS = tuple(i for i, q in enumerate(_QUALIFIERS) if q[0] in ("Europe", "International", "Asia Pacific", "North America", "Nordic", "Middle East", "Global"))
_COUNTRY_QUALIFIER = {"GB": "UK", "HK": "Hong Kong", "SG": "Singapore", "DE": "Deutschland", "FR": "France", "JP": "Japan", "US": "USA"}

_FIRST = ("James", "Oliver", "Emily", "Sophie", "Daniel", "Hannah", "Thomas", "Charlotte", "Michael", "Grace",
          "David", "Laura", "Andrew", "Rachel", "Mark", "Lucy", "Peter", "Anna", "Jonathan", "Claire", "Lukas",
          "Marie", "Julien", "Camille", "Kenji", "Yuki", "Wei", "Mei", "Priya", "Arjun")
_LAST = ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright",
         "Clarke", "Hughes", "Green", "Hall", "Wood", "Müller", "Schmidt", "Martin", "Bernard", "Tanaka",
         "Sato", "Chen", "Wang", "Li", "Patel", "Shah", "Kelly", "Murphy", "Campbell", "Stewart")

# Legal forms: key -> (country, canonical spelling, variant spellings, ELF code)
_FORMS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "gb_ltd": ("GB", "Limited", ("Limited", "Ltd", "Ltd.", "LTD", "Limited Company", "Co. Ltd"), "H0PO"),
    "gb_plc": ("GB", "PLC", ("PLC", "plc", "P.L.C.", "Public Limited Company", "Public Ltd Co"), "B6ES"),
    "gb_llp": ("GB", "LLP", ("LLP", "L.L.P.", "Limited Liability Partnership"), "Z0EY"),
    "us_inc": ("US", "Inc.", ("Inc.", "Inc", "Incorporated", "INC", "Corp"), ""),
    "us_corp": ("US", "Corporation", ("Corporation", "Corp", "Corp.", "CORP", "Inc."), ""),
    "us_llc": ("US", "LLC", ("LLC", "L.L.C.", "Llc", "Limited Liability Company"), ""),
    "de_gmbh": ("DE", "GmbH", ("GmbH", "Gesellschaft mit beschränkter Haftung", "G.m.b.H.", "Gmbh", "GMBH"), "2HBR"),
    "de_ag": ("DE", "AG", ("AG", "Aktiengesellschaft", "A.G."), "6QQB"),
    "fr_sas": ("FR", "SAS", ("SAS", "S.A.S.", "société par actions simplifiée", "S.A.S"), "6CHY"),
    "fr_sarl": ("FR", "SARL", ("SARL", "S.A.R.L.", "société à responsabilité limitée", "Sàrl"), "V9QP"),
    "fr_sa": ("FR", "SA", ("SA", "S.A.", "société anonyme"), "K65D"),
    "hk_ltd": ("HK", "Limited", ("Limited", "Ltd", "Ltd.", "Company Limited", "Co., Limited", "Co., Ltd."), "254M"),
    "sg_pte": ("SG", "Pte. Ltd.", ("Pte. Ltd.", "Pte Ltd", "Private Limited", "PTE. LTD.", "Pte. Limited"), "LWXI"),
    "jp_kk": ("JP", "Kabushiki Kaisha", ("Kabushiki Kaisha", "K.K.", "KK", "Co., Ltd."), "T417"),
    "cn_ltd": ("CN", "有限公司", ("有限公司", "有限责任公司"), "ECAK"),
    "cn_llc": ("CN", "有限责任公司", ("有限责任公司", "有限公司"), "ECAK"),
    "cn_jsc": ("CN", "股份有限公司", ("股份有限公司", "股份公司", "有限公司"), "ECAK"),
}
_CN_FORM_EN = {"cn_ltd": ("Co., Ltd.", ("Co., Ltd.", "Co. Ltd", "Company Limited", "Co., Limited", "CO.,LTD")),
               "cn_llc": ("Co., Ltd.", ("Co., Ltd.", "Company Limited", "Limited Liability Company", "Co Ltd")),
               "cn_jsc": ("Co., Ltd.", ("Co., Ltd.", "Corporation Limited", "Joint Stock Co., Ltd.", "Corp., Ltd."))}
_US_ELF = {("DE", "us_inc"): "XTIQ", ("DE", "us_corp"): "XTIQ", ("DE", "us_llc"): "HZEH",
           ("CA", "us_inc"): "H1UM", ("CA", "us_corp"): "H1UM", ("CA", "us_llc"): "EI4J"}
_US_RA = {"DE": "RA000602", "CA": "RA000598"}
_LOUS = {"GB": ("213800WAVVOPS85N2205", "5493001KJTIIGC8Y1R12"), "US": ("5493001KJTIIGC8Y1R12",),
         "DE": ("39120001KULK7200U106", "529900T8BM49AURSDO55"), "FR": ("969500Q2MA9VBQ8BG884",),
         "CN": ("5493001KJTIIGC8Y1R12", "529900T8BM49AURSDO55", "EVK05KS7XY1DEII3R011"),
         "HK": ("5493001KJTIIGC8Y1R12",), "SG": ("5493001KJTIIGC8Y1R12", "529900F6BNUR3RJ2WH29"),
         "JP": ("5493001KJTIIGC8Y1R12", "529900F6BNUR3RJ2WH29")}
_EIN_PREFIXES = ("13", "20", "26", "27", "45", "46", "47", "52", "75", "81", "82", "84", "86", "88", "91", "95")

_ROOT_COUNTRIES = (("CN", 35), ("GB", 30), ("US", 20), ("DE", 4), ("FR", 3), ("HK", 3), ("SG", 2), ("JP", 3))
_ABROAD = (("HK", 4), ("SG", 3), ("GB", 4), ("US", 4), ("DE", 2), ("FR", 1), ("JP", 1), ("CN", 3))
_LANG = {"CN": "zh", "DE": "de", "FR": "fr"}

# Companies House BasicCompanyData header, verbatim (leading spaces included).
CH_HEADER = (
    "CompanyName, CompanyNumber,RegAddress.CareOf,RegAddress.POBox,RegAddress.AddressLine1, RegAddress.AddressLine2,"
    "RegAddress.PostTown,RegAddress.County,RegAddress.Country,RegAddress.PostCode,CompanyCategory,CompanyStatus,"
    "CountryOfOrigin,DissolutionDate,IncorporationDate,Accounts.AccountRefDay,Accounts.AccountRefMonth,"
    "Accounts.NextDueDate,Accounts.LastMadeUpDate,Accounts.AccountCategory,Returns.NextDueDate,Returns.LastMadeUpDate,"
    "Mortgages.NumMortCharges,Mortgages.NumMortOutstanding,Mortgages.NumMortPartSatisfied,Mortgages.NumMortSatisfied,"
    "SICCode.SicText_1,SICCode.SicText_2,SICCode.SicText_3,SICCode.SicText_4,LimitedPartnerships.NumGenPartners,"
    "LimitedPartnerships.NumLimPartners,URI,"
    + ",".join(f"PreviousName_{i}.CONDATE, PreviousName_{i}.CompanyName" for i in range(1, 11))
    + ",ConfStmtNextDueDate, ConfStmtLastMadeUpDate"
)
CN_HEADER = ("企业名称", "统一社会信用代码", "注册日期", "企业类型", "法人代表", "注册资金", "经营范围", "所在省份", "地区", "注册地址")
SUB_HEADER = ("adsh", "cik", "name", "sic", "countryba", "stprba", "cityba", "zipba", "bas1", "bas2", "baph", "countryma",
              "stprma", "cityma", "zipma", "mas1", "mas2", "countryinc", "stprinc", "ein", "former", "changed", "afs",
              "wksi", "fye", "form", "period", "fy", "fp", "filed", "accepted", "prevrpt", "detail", "instance",
              "nciks", "aciks")
NUM_HEADER = ("adsh", "tag", "version", "ddate", "qtrs", "uom", "segments", "coreg", "value", "footnote")
CUSTOMER_COLUMNS = ("source_id", "name", "name_en", "uscc", "lei", "registration_number", "country", "city", "address",
                    "postal_code", "phone", "industry_code", "branch", "relationship_manager", "opened_on", "status",
                    "updated_at")
ACCOUNT_COLUMNS = ("account_id", "source_id", "product", "currency", "opened_on", "closed_on", "status")
BALANCE_COLUMNS = ("account_id", "month", "balance", "debit_amount", "credit_amount", "txn_count")

MDM_YAML = """\
warehouse: warehouse
sources:
  - {name: gleif, format: gleif_lei_xml, path: registry/gleif_lei2.xml}
  - {name: gleif_rr, format: gleif_rr_xml, path: registry/gleif_rr.xml}
  - {name: cn_registry, format: cn_registry_csv, path: registry/cn_registry.csv}
  - {name: uk_registry, format: companies_house_csv, path: registry/uk_basiccompany.csv}
  - {name: sec, format: sec_fsds, path: financials}
  - name: crm
    format: sql
    url: sqlite:///internal/crm.sqlite
    queries:
      customers: "SELECT %s FROM customers"
      accounts: "SELECT %s, updated_at FROM accounts"
      balances: "SELECT %s, updated_at FROM balances"
    changes: {customers: updated_at, accounts: updated_at, balances: updated_at}
""" % (", ".join(CUSTOMER_COLUMNS), ", ".join(ACCOUNT_COLUMNS), ", ".join(BALANCE_COLUMNS))

LEI_NS = ('xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n'
          '               xmlns:lei="http://www.gleif.org/data/schema/leidata/2016"\n'
          '               xmlns:gleif="http://www.gleif.org/data/schema/golden-copy/extensions/1.0"')
RR_NS = ('xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n'
         '                       xmlns:gleif="http://www.gleif.org/data/schema/golden-copy/extensions/1.0"\n'
         '                       xmlns:gleif_header="http://www.gleif.org/schema/golden-copy/header-extension/1.1"\n'
         '                       xmlns:rr="http://www.gleif.org/data/schema/rr/2016"')
CONTENT_DATE = "2024-07-01T08:00:00Z"


# --- the world -----------------------------------------------------------------------------------

@dataclass
class Address:
    """A postal address; ``lines`` are street lines, ``full`` the one-line form a CRM would keep."""

    lines: tuple[str, ...]
    city: str
    region: str
    postal: str
    country: str
    district: str = ""          # CN: 区/县 (with suffix); GB: the register (EW, SC or NI)
    province: str = ""          # CN: 所在省份
    area_code: str = ""         # CN: 6-digit administrative division code
    phone_prefix: str = ""

    @property
    def full(self) -> str:
        if self.country == "CN":
            return self.lines[0]
        return ", ".join(self.lines)


@dataclass
class Entity:
    """One legal entity of the world and everything the sources know about it."""

    idx: int
    country: str
    kind: str                    # root / sub / branch
    form: str                    # key of _FORMS
    name: str                    # current legal name, native script
    name_en: str | None          # English name of a Chinese-script entity
    industry: int
    address: Address
    incorporated: date
    active: bool
    parent: Entity | None = None
    root: Entity | None = None
    former_name: str | None = None
    former_name_en: str | None = None
    renamed_on: date | None = None
    old_address: Address | None = None
    stem_latin: str = ""
    lei: str | None = None
    uscc: str | None = None
    ch_number: str | None = None
    cik: str | None = None
    ein: str | None = None
    reg_authority: str | None = None
    reg_id: str | None = None
    us_state: str = ""
    sources: set[str] = field(default_factory=set)   # membership only; never iterated

    @property
    def entity_id(self) -> str:
        return f"E{self.idx + 1:07d}"


class _Space:
    """Draws distinct (stem, industry) pairs from ``stems x industries`` without replacement.

    Current names take indices from the bottom, former names from the top, both through one affine
    bijection, so no two names (current or former) ever share a pair.
    """

    def __init__(self, rng: random.Random, n_stems: int, n_industries: int) -> None:
        self.size = n_stems * n_industries
        self.n_industries = n_industries
        a = rng.randrange(1, self.size)
        while _gcd(a, self.size) != 1:
            a += 1
        self.a, self.b = a, rng.randrange(self.size)
        self.low = 0
        self.high = self.size - 1

    def _pair(self, k: int) -> tuple[int, int]:
        return divmod(synth.affine(k, self.size, self.a, self.b), self.n_industries)

    def take(self) -> tuple[int, int]:
        """The next unused pair for a current name."""
        if self.low > self.high:
            raise ValueError("name space exhausted; add stems")
        self.low += 1
        return self._pair(self.low - 1)

    def take_former(self) -> tuple[int, int]:
        """The next unused pair for a former name."""
        if self.low > self.high:
            raise ValueError("name space exhausted; add stems")
        self.high -= 1
        return self._pair(self.high + 1)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


class _Ids:
    """Sequential counters scattered by affine bijections into identifier spaces (unique ids)."""

    def __init__(self, rng: random.Random) -> None:
        self.params: dict[str, tuple[int, int, int]] = {}
        self.counters: dict[str, int] = {}
        for name, size in (("lei", 36 ** 12), ("uscc", 10 ** 8), ("ch8", 2 * 10 ** 7), ("ch6", 10 ** 6),
                           ("cik", 1_980_000), ("ein", 10 ** 7), ("crm", 10 ** 8), ("acc", 10 ** 10),
                           ("state", 10 ** 7), ("hrb", 10 ** 6), ("siren", 10 ** 8), ("hkcr", 10 ** 7)):
            a = rng.randrange(size // 3, size)
            while _gcd(a, size) != 1:
                a += 1
            self.params[name] = (size, a, rng.randrange(size))
            self.counters[name] = 0

    def next(self, name: str) -> int:
        size, a, b = self.params[name]
        k = self.counters[name]
        if k >= size:
            raise ValueError(f"identifier space {name} exhausted")
        self.counters[name] = k + 1
        return synth.affine(k, size, a, b)


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    total = sum(w for _, w in table)
    r = rng.randrange(total)
    for v, w in table:
        r -= w
        if r < 0:
            return v
    raise AssertionError("unreachable")


def _rand_date(rng: random.Random, start: date, end: date) -> date:
    span = (end - start).days
    return start + timedelta(days=rng.randrange(max(span, 1)))


class World:
    """Builds groups of entities and renders their names, addresses and identifiers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.stems = _latin_stems()
        self.latin = _Space(rng, len(self.stems), len(_INDUSTRIES))
        self.zh = _Space(rng, len(_ZIHAO) * len(_ZIHAO), len(_INDUSTRIES))
        self.ids = _Ids(rng)
        self.next_idx = 0

    # stems ------------------------------------------------------------------------------------
    def latin_stem(self, s: int) -> tuple[str, str]:
        """Latin and Chinese renderings of Latin stem number ``s``."""
        return self.stems[s]

    @staticmethod
    def zh_stem(s: int) -> tuple[str, str]:
        """Pinyin (capitalised) and Chinese renderings of trade-name number ``s``."""
        a, b = divmod(s, len(_ZIHAO))
        return (_ZIHAO[a][1] + _ZIHAO[b][1]).capitalize(), _ZIHAO[a][0] + _ZIHAO[b][0]

    # addresses ---------------------------------------------------------------------------------
    def address(self, country: str, near: Address | None = None) -> Address:
        """A random address in ``country`` (in ``near``'s city when given)."""
        rng = self.rng
        if country == "CN":
            if near is not None and near.country == "CN":
                city = next(c for c in _CN_CITIES if c[1] == near.city)
            else:
                city = _CN_CITIES[rng.randrange(len(_CN_CITIES))]
            province, name, _, region, phone, postal, districts = city
            district, area = districts[rng.randrange(len(districts))]
            road = _CN_ROADS[rng.randrange(len(_CN_ROADS))]
            prefix = f"{name}市" if province in _MUNICIPALITIES else f"{province}省{name}市"
            line = f"{prefix}{district}{road}{rng.randrange(1, 2000)}号"
            if rng.random() < 0.35:
                line += f"{_CN_BUILDINGS[rng.randrange(len(_CN_BUILDINGS))]}{rng.randrange(2, 40)}{rng.randrange(1, 20):02d}室"
            return Address((line,), name, region, f"{postal[:4]}{rng.randrange(100):02d}", "CN", district, province, area, phone)
        if country == "GB":
            town = _GB_TOWNS[rng.randrange(len(_GB_TOWNS))]
            pc = f"{town[2][rng.randrange(len(town[2]))]} {rng.randrange(1, 10)}{rng.choice(_PC_LETTERS)}{rng.choice(_PC_LETTERS)}"
            street = f"{rng.randrange(1, 300)} {_GB_STREETS[rng.randrange(len(_GB_STREETS))]}"
            if rng.random() < 0.5:
                lines: tuple[str, ...] = (f"{rng.choice(('Unit', 'Suite', 'Floor'))} {rng.randrange(1, 30)} {rng.choice(_WORD_STEMS[:40])} {rng.choice(_GB_BUILDINGS)}", street)
            else:
                lines = (street,)
            return Address(lines, town[0].title(), town[1].title(), pc, "GB", phone_prefix=town[3], district=town[4])
        if country == "US":
            city, state, zip_base, area = _US_CITIES[rng.randrange(len(_US_CITIES))]
            lines = (f"{rng.randrange(1, 9999)} {_US_STREETS[rng.randrange(len(_US_STREETS))]}",)
            if rng.random() < 0.5:
                lines += (f"Suite {rng.randrange(100, 4000)}",)
            return Address(lines, city, f"US-{state}", f"{zip_base + rng.randrange(40):05d}", "US", phone_prefix=area)
        cities = _OTHER_CITIES[country]
        city, region, pbase, phone = cities[rng.randrange(len(cities))]
        street = _OTHER_STREETS[country][rng.randrange(len(_OTHER_STREETS[country]))]
        n = rng.randrange(1, 200)
        if country == "DE":
            return Address((f"{street} {n}",), city, region, f"{pbase + rng.randrange(60):05d}", country, phone_prefix=phone)
        if country == "FR":
            return Address((f"{n} {street}",), city, region, f"{pbase + rng.randrange(16):05d}", country, phone_prefix=phone)
        if country == "HK":
            lines = (f"Room {rng.randrange(1, 40)}{rng.randrange(1, 20):02d}, {rng.randrange(2, 60)}/F, {rng.choice(_WORD_STEMS[:40])} Tower",
                     f"{n} {street}, {rng.choice(_HK_DISTRICTS)}")
            return Address(lines, city, region, "", country, phone_prefix=phone)
        if country == "SG":
            return Address((f"{n} {street} #{rng.randrange(2, 60):02d}-{rng.randrange(1, 20):02d}",), city, region,
                           f"{pbase + rng.randrange(70000):06d}", country, phone_prefix=phone)
        pc = pbase + rng.randrange(50)
        return Address((f"{rng.randrange(1, 9)}-{rng.randrange(1, 20)}-{rng.randrange(1, 30)} {street}, {rng.choice(_JP_WARDS)}",),
                       city, region, f"{pc // 10000:03d}-{pc % 10000:04d}", country, phone_prefix=phone)

    # names -------------------------------------------------------------------------------------
    def render(self, country: str, form: str, stem_l: str, stem_z: str, ind: int, qual: int | None,
               city_prefix: str = "", group_word: bool = False) -> tuple[str, str | None]:
        """The legal name (and English name for Chinese) of an entity."""
        en, zh, de, fr = _INDUSTRIES[ind][:4]
        canon = _FORMS[form][1]
        if country == "CN":
            q = f"（{_QUALIFIERS[qual][1]}）" if qual is not None else ""
            grp = "集团" if group_word else ""
            name = f"{city_prefix}{stem_z}{zh}{grp}{q}{canon}"
            qe = f" ({_QUALIFIERS[qual][0]})" if qual is not None else ""
            pre = ""
            if city_prefix:
                pre = next(c[2] for c in _CN_CITIES if city_prefix.startswith(c[1])) + " "
            name_en = f"{pre}{stem_l} {en}{' Group' if group_word else ''}{qe} {_CN_FORM_EN[form][0]}"
            return name, name_en
        word = {"DE": de, "FR": fr}.get(country, en)
        lang_col = {"DE": 2, "FR": 3}.get(country, 0)
        q = ""
        if qual is not None:
            text, bracket = _QUALIFIERS[qual][lang_col], _QUALIFIERS[qual][4]
            q = f" ({text})" if bracket else f" {text}"
        return f"{stem_l} {word}{q} {canon}", None

    def form_for(self, country: str, kind: str) -> str:
        r = self.rng.random()
        if country == "CN":
            return "cn_jsc" if r < 0.1 and kind == "root" else ("cn_llc" if r < 0.35 else "cn_ltd")
        if country == "GB":
            return "gb_plc" if r < 0.05 and kind == "root" else ("gb_llp" if r < 0.08 else "gb_ltd")
        if country == "US":
            return "us_inc" if r < 0.45 else ("us_corp" if r < 0.7 else "us_llc")
        if country == "DE":
            return "de_ag" if r < 0.15 else "de_gmbh"
        if country == "FR":
            return "fr_sa" if r < 0.15 else ("fr_sarl" if r < 0.45 else "fr_sas")
        return {"HK": "hk_ltd", "SG": "sg_pte", "JP": "jp_kk"}[country]

    # groups ------------------------------------------------------------------------------------
    def group(self, max_size: int) -> list[Entity]:
        """One corporate group (root first), at most ``max_size`` entities."""
        rng = self.rng
        r = rng.random()
        size = 1 if r < 0.72 else (rng.randint(2, 4) if r < 0.93 else rng.randint(5, 12))
        size = min(size, max_size)
        country = _weighted(rng, _ROOT_COUNTRIES)
        if country == "CN":
            s, ind = self.zh.take()
            stem_l, stem_z = self.zh_stem(s)
        else:
            s, ind = self.latin.take()
            stem_l, stem_z = self.latin_stem(s)
        root = self._entity(country, "root", None, stem_l, stem_z, ind, None, size > 1)
        root.root = root
        members = [root]
        used_q: set[int] = set()
        for _ in range(size - 1):
            parent = root if rng.random() < 0.7 else members[rng.randrange(len(members))]
            if parent.kind == "branch":
                parent = root
            c = parent.country if rng.random() < 0.7 else _weighted(rng, _ABROAD)
            kind = "branch" if c == "CN" and parent.country == "CN" and rng.random() < 0.35 else "sub"
            q = self._qualifier(c, used_q, parent.address)
            used_q.add(q)
            child = self._entity(c, kind, parent, stem_l, stem_z, ind, q, False)
            child.root = root
            members.append(child)
        return members

    def _qualifier(self, country: str, used: set[int], near: Address | None) -> int:
        """A qualifier index not yet used in the group; for CN the city the member is in
        (often the parent's)."""
        rng = self.rng
        if country == "CN":
            home = next((i for i, c in enumerate(_CN_CITIES) if near is not None and c[1] == near.city), None)
            if home is not None and home not in used and rng.random() < 0.5:
                return home
            free = [i for i in range(len(_CN_CITIES)) if i not in used]
            return free[rng.randrange(len(free))]
        else:
            want = _COUNTRY_QUALIFIER.get(country)
            q = next((i for i, t in enumerate(_QUALIFIERS) if t[0] == want), -1)
            if q < 0 or q in used or rng.random() < 0.4:
                free = [i for i in _REGION_QUALIFIERS if i not in used]
                if not free:
                    free = [i for i in range(len(_QUALIFIERS)) if i not in used]
                q = free[rng.randrange(len(free))]
        return q

    def _entity(self, country: str, kind: str, parent: Entity | None, stem_l: str, stem_z: str, ind: int,
                qual: int | None, has_children: bool) -> Entity:
        rng = self.rng
        idx = self.next_idx
        self.next_idx += 1
        if kind == "branch":
            assert parent is not None and qual is not None
            form = parent.form
            city = _CN_CITIES[qual]
            name = f"{parent.name}{city[1]}分公司"
            name_en = f"{parent.name_en} {city[2]} Branch"
            addr = self.address("CN", Address((), city[1], "", "", "CN"))
        else:
            form = self.form_for(country, kind)
            city_prefix = ""
            if country == "CN" and kind == "root" and rng.random() < 0.3:
                c = _CN_CITIES[rng.randrange(len(_CN_CITIES))]
                city_prefix = c[1] + ("市" if rng.random() < 0.5 else "")
            name, name_en = self.render(country, form, stem_l, stem_z, ind, qual, city_prefix,
                                        has_children and country == "CN" and rng.random() < 0.3)
            here: Address | None = None
            if country == "CN" and qual is not None:
                here = Address((), _CN_CITIES[qual][1], "", "", "CN")
            elif city_prefix:
                here = Address((), city_prefix.removesuffix("市"), "", "", "CN")
            if (parent is not None and parent.country == country and rng.random() < 0.5
                    and (here is None or here.city == parent.address.city)):
                addr = parent.address
            else:
                addr = self.address(country, here)
        start = parent.incorporated if parent is not None else date(1965, 1, 1)
        incorporated = _rand_date(rng, start, date(2022, 6, 30))
        e = Entity(idx, country, kind, form, name, name_en, ind, addr, incorporated, rng.random() < 0.94,
                   parent=parent, stem_latin=stem_l)
        if kind == "root" and rng.random() < 0.12:
            if country == "CN":
                s, find = self.zh.take_former()
                fl, fz = self.zh_stem(s)
            else:
                s, find = self.latin.take_former()
                fl, fz = self.latin_stem(s)
            e.former_name, e.former_name_en = self.render(country, form, fl, fz, find, None)
            e.renamed_on = _rand_date(rng, max(incorporated, date(2005, 1, 1)) + timedelta(days=200), date(2024, 3, 1))
        if rng.random() < 0.2:
            e.old_address = self.address(country, addr)
        self._identifiers(e)
        self._membership(e)
        return e

    def _identifiers(self, e: Entity) -> None:
        rng, ids = self.rng, self.ids
        c = e.country
        if c == "CN":
            e.uscc = synth.make_uscc(e.address.area_code, f"{ids.next('uscc'):08d}")
            e.reg_authority, e.reg_id = "RA000092", e.uscc
        elif c == "GB":
            reg = e.address.district
            if reg == "SC":
                e.ch_number = f"SC{ids.next('ch6'):06d}"
            elif reg == "NI":
                e.ch_number = f"NI{ids.next('ch6'):06d}"
            elif e.form == "gb_llp":
                e.ch_number = f"OC{ids.next('ch6'):06d}"
            else:
                e.ch_number = f"{ids.next('ch8'):08d}"
            e.reg_authority, e.reg_id = "RA000585", e.ch_number
        elif c == "US":
            e.us_state = "DE" if rng.random() < 0.75 else "CA"
            e.reg_authority, e.reg_id = _US_RA[e.us_state], f"{ids.next('state'):07d}"
            e.ein = _EIN_PREFIXES[rng.randrange(len(_EIN_PREFIXES))] + f"{ids.next('ein'):07d}"
        elif c == "DE":
            e.reg_authority = _DE_COURTS[rng.randrange(len(_DE_COURTS))]
            e.reg_id = f"{'HRB' if e.form in ('de_gmbh', 'de_ag') else 'HRA'} {ids.next('hrb') + 1000}"
        elif c == "FR":
            e.reg_authority, e.reg_id = "RA000189", synth.make_siren(f"{ids.next('siren'):08d}")
        elif c == "HK":
            e.reg_authority, e.reg_id = "RA000388", f"{ids.next('hkcr'):07d}"
        else:
            e.reg_authority, e.reg_id = "RA999999", None

    def _membership(self, e: Entity) -> None:
        r = self.rng.random
        c, kind = e.country, e.kind
        src = e.sources
        if c == "CN":
            src.add("cn_registry")
            if kind != "branch" and r() < (0.35 if kind == "root" else 0.25):
                src.add("gleif")
        elif c == "GB":
            src.add("uk_registry")
            if r() < (0.4 if kind == "root" else 0.3):
                src.add("gleif")
            if kind == "root" and r() < 0.03:
                src.add("sec")
        elif c == "US":
            if r() < (0.8 if kind == "root" else 0.2):
                src.add("sec")
            if r() < 0.5:
                src.add("gleif")
        elif r() < 0.85:
            src.add("gleif")
        if r() < 0.8:
            src.add("crm")
        if not src:
            src.add("gleif" if r() < 0.5 else "crm")
        if "gleif" in src:
            lous = _LOUS[c]
            lou = lous[self.rng.randrange(len(lous))]
            e.lei = synth.make_lei(lou[:4], "00" + synth.to_base(self.ids.next("lei"), 12))
        if "sec" in src:
            e.cik = str(self.ids.next("cik") + 20000)


# --- record writers ------------------------------------------------------------------------------

def _iso_ts(d: date, rng: random.Random) -> str:
    return f"{d.isoformat()}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.000Z"


def _dmy(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def _e(text: str) -> str:
    return escape(text)


def _xml_address(tag: str, a: Address, lang: str) -> str:
    lines = a.lines or ("",)
    parts = [f'      <lei:{tag} xml:lang="{lang}">',
             f"         <lei:FirstAddressLine>{_e(lines[0])}</lei:FirstAddressLine>"]
    parts += [f"         <lei:AdditionalAddressLine>{_e(x)}</lei:AdditionalAddressLine>" for x in lines[1:]]
    city = a.city + ("市" if a.country == "CN" and not a.city.endswith("市") else "")
    parts.append(f"         <lei:City>{_e(city)}</lei:City>")
    if a.region:
        parts.append(f"         <lei:Region>{a.region}</lei:Region>")
    parts.append(f"         <lei:Country>{a.country}</lei:Country>")
    if a.postal:
        parts.append(f"         <lei:PostalCode>{a.postal}</lei:PostalCode>")
    parts.append(f"      </lei:{tag}>")
    return "\n".join(parts)


def _managing_lou(e: Entity) -> str:
    """The LEI of the LOU that issued ``e``'s LEI (same 4-character prefix)."""
    assert e.lei is not None
    return next(x for x in _LOUS[e.country] if x[:4] == e.lei[:4])


def gleif_record(e: Entity, rng: random.Random) -> str:
    """One LEI-CDF 3.1 ``LEIRecord`` element (as text) for an entity with an LEI."""
    lang = {"CN": "zh", "DE": "de", "FR": "fr"}.get(e.country, "en")
    name = e.name if e.country != "GB" or rng.random() < 0.5 else e.name.upper()
    out = [f"<lei:LEIRecord {LEI_NS}>", f"   <lei:LEI>{e.lei}</lei:LEI>", "   <lei:Entity>",
           f'      <lei:LegalName xml:lang="{lang}">{_e(name)}</lei:LegalName>']
    if e.former_name:
        out += ["      <lei:OtherEntityNames>",
                f'         <lei:OtherEntityName xml:lang="{lang}" type="PREVIOUS_LEGAL_NAME">{_e(e.former_name)}</lei:OtherEntityName>',
                "      </lei:OtherEntityNames>"]
    if e.country == "CN" and e.name_en:
        out += ["      <lei:TransliteratedOtherEntityNames>",
                f'         <lei:TransliteratedOtherEntityName xml:lang="en" type="PREFERRED_ASCII_TRANSLITERATED_LEGAL_NAME">{_e(e.name_en.upper() if rng.random() < 0.5 else e.name_en)}</lei:TransliteratedOtherEntityName>',
                "      </lei:TransliteratedOtherEntityNames>"]
    out.append(_xml_address("LegalAddress", e.address, lang))
    out.append(_xml_address("HeadquartersAddress", e.address, lang))
    out.append("      <lei:RegistrationAuthority>")
    out.append(f"         <lei:RegistrationAuthorityID>{e.reg_authority}</lei:RegistrationAuthorityID>")
    if e.reg_id:
        out.append(f"         <lei:RegistrationAuthorityEntityID>{_e(e.reg_id)}</lei:RegistrationAuthorityEntityID>")
    out.append("      </lei:RegistrationAuthority>")
    jur = f"US-{e.us_state}" if e.country == "US" else e.country
    out.append(f"      <lei:LegalJurisdiction>{jur}</lei:LegalJurisdiction>")
    out.append("      <lei:EntityCategory>GENERAL</lei:EntityCategory>")
    elf = _US_ELF[(e.us_state, e.form)] if e.country == "US" else _FORMS[e.form][3]
    out += ["      <lei:LegalForm>", f"         <lei:EntityLegalFormCode>{elf}</lei:EntityLegalFormCode>", "      </lei:LegalForm>"]
    out.append(f"      <lei:EntityStatus>{'ACTIVE' if e.active else 'INACTIVE'}</lei:EntityStatus>")
    out.append(f"      <lei:EntityCreationDate>{e.incorporated.isoformat()}T00:00:00.000Z</lei:EntityCreationDate>")
    out.append("   </lei:Entity>")
    initial = _rand_date(rng, max(e.incorporated, date(2012, 6, 1)), date(2023, 6, 1))
    updated = _rand_date(rng, max(initial, date(2022, 1, 1)), date(2024, 6, 30))
    lapsed = not e.active or rng.random() < 0.15
    renewal = updated + timedelta(days=365 if not lapsed else -30)
    lou = _managing_lou(e)
    out += ["   <lei:Registration>",
            f"      <lei:InitialRegistrationDate>{_iso_ts(initial, rng)}</lei:InitialRegistrationDate>",
            f"      <lei:LastUpdateDate>{_iso_ts(updated, rng)}</lei:LastUpdateDate>",
            f"      <lei:RegistrationStatus>{'LAPSED' if lapsed else 'ISSUED'}</lei:RegistrationStatus>",
            f"      <lei:NextRenewalDate>{_iso_ts(renewal, rng)}</lei:NextRenewalDate>",
            f"      <lei:ManagingLOU>{lou}</lei:ManagingLOU>",
            f"      <lei:ValidationSources>{'FULLY_CORROBORATED' if rng.random() < 0.8 else 'ENTITY_SUPPLIED_ONLY'}</lei:ValidationSources>",
            "      <lei:ValidationAuthority>",
            f"         <lei:ValidationAuthorityID>{e.reg_authority}</lei:ValidationAuthorityID>"]
    if e.reg_id:
        out.append(f"         <lei:ValidationAuthorityEntityID>{_e(e.reg_id)}</lei:ValidationAuthorityEntityID>")
    out += ["      </lei:ValidationAuthority>", "   </lei:Registration>", "</lei:LEIRecord>\n"]
    return "\n".join(out)


def rr_record(child: Entity, parent: Entity, rtype: str, rng: random.Random) -> str:
    """One RR-CDF ``RelationshipRecord`` (child StartNode -> parent EndNode)."""
    start = max(child.incorporated, parent.incorporated)
    fy = rng.randrange(2019, 2024)
    initial = _rand_date(rng, date(2017, 6, 1), date(2023, 6, 1))
    updated = _rand_date(rng, initial, date(2024, 6, 30))
    return "\n".join((
        f"<rr:RelationshipRecord {RR_NS}>",
        "   <rr:Relationship>",
        "      <rr:StartNode>", f"         <rr:NodeID>{child.lei}</rr:NodeID>", "         <rr:NodeIDType>LEI</rr:NodeIDType>", "      </rr:StartNode>",
        "      <rr:EndNode>", f"         <rr:NodeID>{parent.lei}</rr:NodeID>", "         <rr:NodeIDType>LEI</rr:NodeIDType>", "      </rr:EndNode>",
        f"      <rr:RelationshipType>{rtype}</rr:RelationshipType>",
        "      <rr:RelationshipPeriods>",
        "         <rr:RelationshipPeriod>",
        f"            <rr:StartDate>{fy}-01-01T00:00:00.000Z</rr:StartDate>",
        f"            <rr:EndDate>{fy}-12-31T00:00:00.000Z</rr:EndDate>",
        "            <rr:PeriodType>ACCOUNTING_PERIOD</rr:PeriodType>",
        "         </rr:RelationshipPeriod>",
        "         <rr:RelationshipPeriod>",
        f"            <rr:StartDate>{start.isoformat()}T00:00:00.000Z</rr:StartDate>",
        "            <rr:PeriodType>RELATIONSHIP_PERIOD</rr:PeriodType>",
        "         </rr:RelationshipPeriod>",
        "      </rr:RelationshipPeriods>",
        f"      <rr:RelationshipStatus>{'ACTIVE' if child.active else 'INACTIVE'}</rr:RelationshipStatus>",
        "      <rr:RelationshipQualifiers>",
        "         <rr:RelationshipQualifier>",
        "            <rr:QualifierDimension>ACCOUNTING_STANDARD</rr:QualifierDimension>",
        f"            <rr:QualifierCategory>{'IFRS' if child.country != 'US' else 'US_GAAP'}</rr:QualifierCategory>",
        "         </rr:RelationshipQualifier>",
        "      </rr:RelationshipQualifiers>",
        "   </rr:Relationship>",
        "   <rr:Registration>",
        f"      <rr:InitialRegistrationDate>{_iso_ts(initial, rng)}</rr:InitialRegistrationDate>",
        f"      <rr:LastUpdateDate>{_iso_ts(updated, rng)}</rr:LastUpdateDate>",
        f"      <rr:RegistrationStatus>{'PUBLISHED' if rng.random() < 0.9 else 'LAPSED'}</rr:RegistrationStatus>",
        f"      <rr:NextRenewalDate>{_iso_ts(updated + timedelta(days=365), rng)}</rr:NextRenewalDate>",
        f"      <rr:ManagingLOU>{_managing_lou(child)}</rr:ManagingLOU>",
        "      <rr:ValidationSources>FULLY_CORROBORATED</rr:ValidationSources>",
        "      <rr:ValidationDocuments>ACCOUNTS_FILING</rr:ValidationDocuments>",
        "   </rr:Registration>",
        "</rr:RelationshipRecord>\n",
    ))


def _cn_person(rng: random.Random) -> str:
    given = _CN_GIVEN[rng.randrange(len(_CN_GIVEN))]
    if rng.random() < 0.6:
        given += _CN_GIVEN[rng.randrange(len(_CN_GIVEN))]
    return _CN_SURNAMES[rng.randrange(len(_CN_SURNAMES))] + given


def _en_person(rng: random.Random) -> str:
    return f"{_FIRST[rng.randrange(len(_FIRST))]} {_LAST[rng.randrange(len(_LAST))]}"


def cn_row(e: Entity, rng: random.Random) -> list[str]:
    """One row of the Chinese enterprise register extract."""
    a = e.address
    if e.kind == "branch":
        etype = rng.choice(("有限责任公司分公司(自然人投资或控股)", "分公司", "N/A"))
        capital = "N/A"
    else:
        etype = "股份有限公司(非上市、自然人投资或控股)" if e.form == "cn_jsc" else _CN_TYPES[rng.randrange(len(_CN_TYPES))]
        capital = "N/A" if rng.random() < 0.15 else f"{rng.choice((10, 30, 50, 100, 200, 300, 500, 1000, 1500, 3000, 5000, 10000)):,}({rng.choice(('万元人民币', '万元人民币', '万元', '万'))})"
    scope = _INDUSTRIES[e.industry][6] + "。【依法须经批准的项目，经相关部门批准后方可开展经营活动】"
    region = a.district.removesuffix("新区").removesuffix("区") if a.province in _MUNICIPALITIES else a.city
    return [e.name, e.uscc or "", e.incorporated.isoformat(), etype, _cn_person(rng), capital, scope, a.province, region, a.lines[0]]


def ch_row(e: Entity, rng: random.Random) -> list[str]:
    """One row of Companies House BasicCompanyData (55 columns)."""
    a = e.address
    lines = [x.upper() for x in a.lines] + ["", ""]
    category = {"gb_ltd": "Private Limited Company", "gb_plc": "Public Limited Company",
                "gb_llp": "Limited Liability Partnership"}[e.form]
    status = "Active" if e.active else rng.choice(("Liquidation", "Active - Proposal to Strike off", "In Administration"))
    ref_month = rng.choice((3, 6, 9, 12, 12, 12))
    last_acc = date(2023, ref_month, 28 if ref_month == 2 else 30 if ref_month in (6, 9) else 31)
    if last_acc < e.incorporated:
        last_acc_s = ""
        acc_cat = "NO ACCOUNTS FILED"
    else:
        last_acc_s = _dmy(last_acc)
        acc_cat = rng.choice(("FULL", "SMALL", "TOTAL EXEMPTION FULL", "MICRO ENTITY", "GROUP", "DORMANT", "UNAUDITED ABRIDGED"))
    next_due = _dmy(last_acc + timedelta(days=365 + 270))
    charges = rng.choice((0, 0, 0, 1, 2, 3))
    outstanding = rng.randint(0, charges)
    sic = [_INDUSTRIES[e.industry][4], "", "", ""]
    if rng.random() < 0.25:
        sic[1] = _INDUSTRIES[rng.randrange(len(_INDUSTRIES))][4]
    prev = []
    if e.former_name:
        prev = [_dmy(e.renamed_on), e.former_name.upper()]
    prev += [""] * (20 - len(prev))
    conf_last = _rand_date(rng, max(e.incorporated, date(2023, 6, 1)), date(2024, 6, 1))
    country = {"EW": rng.choice(("ENGLAND", "UNITED KINGDOM", "", "ENGLAND")), "SC": "SCOTLAND", "NI": "NORTHERN IRELAND"}[a.district]
    if a.city == "Cardiff":
        country = rng.choice(("WALES", "UNITED KINGDOM"))
    return [e.name.upper(), e.ch_number or "", "", "", lines[0], lines[1], a.city.upper(), a.region.upper(), country,
            a.postal, category, status, "United Kingdom", "", _dmy(e.incorporated), str(last_acc.day), str(ref_month),
            next_due, last_acc_s, acc_cat, "", "", str(charges), str(outstanding), "0", str(charges - outstanding),
            *sic, "0", "0", f"http://business.data.gov.uk/id/company/{e.ch_number}", *prev,
            _dmy(conf_last + timedelta(days=379)), _dmy(conf_last)]


def _sec_name(name: str) -> str:
    n = name.upper().replace(".", "").replace(",", "")
    for long, short in ((" CORPORATION", " CORP"), (" INCORPORATED", " INC"), (" LIMITED", " LTD"), (" COMPANY", " CO")):
        if n.endswith(long):
            n = n[: -len(long)] + short
    return " ".join(n.split())


def sec_rows(e: Entity, rng: random.Random) -> tuple[list[list[str]], list[list[str]]]:
    """The sub.txt rows (one per filing) and num.txt rows of one SEC filer."""
    a = e.address
    foreign = e.country != "US"
    fps = ("FY",) if foreign else ("Q1", "Q2", "Q3", "FY")
    periods = [(fy, fp) for fy in range(2019, 2024) for fp in fps]
    n = rng.randint(2, 5 if foreign else 6)
    start = rng.randrange(len(periods) - n + 1)
    chosen = rng.sample(periods[start:], n)
    chosen.sort(key=lambda p: (p[0], ("Q1", "Q2", "Q3", "FY").index(p[1])))
    ticker = "".join(ch for ch in e.stem_latin.lower() if ch.isalpha())[:4] or "corp"
    revenue = rng.lognormvariate(18.5, 1.6)
    margin = rng.uniform(-0.1, 0.25)
    assets = revenue * rng.uniform(0.8, 3.0)
    lev = rng.uniform(0.2, 0.8)
    phone = (a.phone_prefix + f"{rng.randrange(10 ** 7):07d}") if not foreign else f"44{a.phone_prefix.lstrip('0')}{rng.randrange(10 ** 7):07d}"
    street = [x.upper() for x in a.lines] + [""]
    subs: list[list[str]] = []
    nums: list[list[str]] = []
    for seq, (fy, fp) in enumerate(chosen):
        month = {"Q1": 3, "Q2": 6, "Q3": 9, "FY": 12}[fp]
        period = date(fy, month, 31 if month in (3, 12) else 30)
        form = ("20-F" if foreign else "10-K") if fp == "FY" else "10-Q"
        filed = period + timedelta(days=rng.randint(30, 75) if fp == "FY" else rng.randint(25, 44))
        adsh = f"{int(e.cik or 0):010d}-{filed.year % 100:02d}-{seq + 1:06d}"
        if e.former_name and e.renamed_on and filed < e.renamed_on:
            name, former, changed = e.former_name, "", ""
        elif e.former_name and e.renamed_on:
            name, former, changed = e.name, _sec_name(e.former_name), e.renamed_on.strftime("%Y%m%d")
        else:
            name, former, changed = e.name, "", ""
        growth = 1.0 + 0.06 * (fy - 2019)
        subs.append([
            adsh, e.cik or "", _sec_name(name), _INDUSTRIES[e.industry][5], a.country,
            "" if foreign else a.region[3:], a.city.upper(), a.postal, street[0], street[1], phone,
            a.country, "" if foreign else a.region[3:], a.city.upper(), a.postal, street[0], street[1],
            a.country if foreign else "US", "" if foreign else e.us_state, e.ein or "", former, changed,
            rng.choice(("1-LAF", "2-ACC", "3-SRA", "4-NON", "5-SML")), "0", "1231", form,
            period.strftime("%Y%m%d"), str(fy), fp, filed.strftime("%Y%m%d"),
            f"{filed.isoformat()} {rng.randrange(6, 20):02d}:{rng.randrange(60):02d}:00.0", "0", "1",
            f"{ticker}-{period.strftime('%Y%m%d')}.xml" if not foreign else f"{ticker}-{period.strftime('%Y%m%d')}_htm.xml",
            "1", "",
        ])
        qtrs = "4" if fp == "FY" else "1"
        rev = revenue * growth * (1 if fp == "FY" else 0.25) * rng.uniform(0.9, 1.1)
        tot_assets = assets * growth * rng.uniform(0.95, 1.05)
        liab = tot_assets * lev
        ddate = period.strftime("%Y%m%d")
        version = f"us-gaap/{fy}" if not foreign else f"ifrs/{fy}"
        uom = "USD"
        for tag, q, value in (("Revenues", qtrs, rev), ("NetIncomeLoss", qtrs, rev * margin), ("Assets", "0", tot_assets),
                              ("Liabilities", "0", liab), ("StockholdersEquity", "0", tot_assets - liab)):
            nums.append([adsh, tag, version, ddate, q, uom, "", "", f"{round(value):d}.0000", ""])
        if fp == "FY":
            prior = date(fy - 1, 12, 31).strftime("%Y%m%d")
            nums.append([adsh, "Assets", version, prior, "0", uom, "", "", f"{round(tot_assets / 1.06):d}.0000", ""])
            if rng.random() < 0.3:
                seg = rng.choice(("Americas", "Europe", "AsiaPacific"))
                nums.append([adsh, "Revenues", version, ddate, qtrs, uom, f"StatementGeographicalAxis={seg};", "",
                             f"{round(rev * rng.uniform(0.2, 0.6)):d}.0000", ""])
    return subs, nums


class _Opencc:
    """Lazily created simplified-to-traditional converter."""

    _conv = None

    @classmethod
    def s2t(cls, text: str) -> str:
        if cls._conv is None:
            import opencc

            cls._conv = opencc.OpenCC("s2t")
        return cls._conv.convert(text)


def _vary_latin(name: str, form: str, rng: random.Random) -> str:
    """A CRM spelling of a Latin-script legal name."""
    canon, variants = _FORMS[form][1], _FORMS[form][2]
    if rng.random() < 0.5:
        name = synth.replace_suffix(name, canon, variants[rng.randrange(len(variants))])
    if rng.random() < 0.25:
        name = synth.abbreviate(name, rng)
    if rng.random() < 0.35:
        name = synth.change_case(name, rng)
    if rng.random() < 0.25:
        name = synth.change_punctuation(name, rng)
    if rng.random() < 0.04:
        name = synth.typo(name, rng)
    return name


def _vary_en_of_cn(name_en: str, form: str, rng: random.Random) -> str:
    """A CRM spelling of the English name of a Chinese company."""
    canon, variants = _CN_FORM_EN[form]
    if rng.random() < 0.5:
        name_en = synth.replace_suffix(name_en, canon, variants[rng.randrange(len(variants))])
    if rng.random() < 0.2:
        name_en = synth.abbreviate(name_en, rng)
    if rng.random() < 0.4:
        name_en = synth.change_case(name_en, rng)
    if rng.random() < 0.03:
        name_en = synth.typo(name_en, rng)
    return name_en


def _vary_zh(name: str, form: str, rng: random.Random) -> str:
    """A CRM spelling of a Chinese legal name (form, brackets, traditional characters, typos)."""
    if rng.random() < 0.15:
        variants = _FORMS[form][2]
        name = synth.replace_suffix(name, _FORMS[form][1], variants[rng.randrange(len(variants))])
    if "（" in name and rng.random() < 0.5:
        name = synth.halfwidth_brackets(name)
    if rng.random() < 0.15:
        name = _Opencc.s2t(name)
    if rng.random() < 0.03:
        name = synth.typo(name, rng)
    return name


def crm_customer(e: Entity, source_id: str, rng: random.Random) -> tuple:
    """One CRM customers row for an entity (values vary per call: duplicates differ)."""
    stale_name = e.former_name is not None and rng.random() < 0.4
    base = e.former_name if stale_name else e.name
    base_en = e.former_name_en if stale_name else e.name_en
    if e.country == "CN":
        name = _vary_zh(base or e.name, e.form, rng)
        name_en = _vary_en_of_cn(base_en, e.form, rng) if base_en and rng.random() < 0.7 else None
    else:
        name = _vary_latin(base or e.name, e.form, rng)
        name_en = None
    lei = None
    if e.lei and rng.random() < 0.45:
        lei = e.lei if rng.random() > 0.05 else synth.mistype(e.lei, rng, stdlei.is_valid)
    uscc = None
    if e.uscc and rng.random() < 0.65:
        uscc = e.uscc if rng.random() > 0.05 else synth.mistype(e.uscc, rng, stduscc.is_valid, synth.USCC_ALPHABET)
    reg = None
    if e.ch_number and rng.random() < 0.6:
        reg = e.ch_number.lstrip("0") if rng.random() < 0.1 else e.ch_number
    elif e.ein and rng.random() < 0.4:
        reg = f"{e.ein[:2]}-{e.ein[2:]}"
    elif e.reg_id and e.country in ("DE", "FR", "HK") and rng.random() < 0.5:
        reg = e.reg_id
    addr = e.old_address if e.old_address is not None and rng.random() < 0.5 else e.address
    city = addr.city + ("市" if addr.country == "CN" and rng.random() < 0.5 else "")
    p = addr.phone_prefix
    if addr.country == "CN":
        phone = f"{p}-{rng.randrange(10 ** 7, 10 ** 8)}"
    elif addr.country == "GB":
        phone = f"{p} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
    elif addr.country == "US":
        phone = f"({p}) {rng.randrange(200, 999)}-{rng.randrange(10000):04d}"
    else:
        phone = f"{p} {rng.randrange(10 ** 6, 10 ** 8)}"
    city_en = next((c[2] for c in _CN_CITIES if c[1] == addr.city), addr.city)
    branch = f"{city_en} {rng.choice(('Main Branch', 'Corporate Banking Centre', 'Commercial Centre', 'City Branch'))}"
    opened = _rand_date(rng, max(e.incorporated, date(1995, 1, 1)), date(2024, 1, 1))
    status = "closed" if not e.active and rng.random() < 0.7 else ("dormant" if rng.random() < 0.05 else "active")
    updated = _rand_date(rng, max(opened, date(2022, 1, 1)), date(2024, 6, 30))
    rm = _cn_person(rng) if e.country == "CN" and rng.random() < 0.7 else _en_person(rng)
    return (source_id, name, name_en, uscc, lei, reg, addr.country, city, addr.full, addr.postal or None,
            phone if rng.random() < 0.85 else None, _INDUSTRIES[e.industry][4][:5], branch, rm, opened.isoformat(),
            status, f"{updated.isoformat()} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}")


_PRODUCTS = ("current account", "current account", "term deposit", "term loan", "revolving credit facility",
             "trade finance", "fx forward", "cash pooling")
_CURRENCY = {"CN": "CNY", "GB": "GBP", "US": "USD", "DE": "EUR", "FR": "EUR", "HK": "HKD", "SG": "SGD", "JP": "JPY"}


def crm_accounts(e: Entity, source_id: str, opened_on: str, ids: _Ids, rng: random.Random) -> tuple[list[tuple], list[tuple]]:
    """Accounts of one CRM customer and their monthly balances."""
    accounts: list[tuple] = []
    balances: list[tuple] = []
    n = 1 if rng.random() < 0.55 else (2 if rng.random() < 0.65 else 3)
    opened0 = date.fromisoformat(opened_on)
    scale = rng.lognormvariate(12, 1.8)
    for _ in range(n):
        acc = f"ACC{ids.next('acc'):010d}"
        product = _PRODUCTS[rng.randrange(len(_PRODUCTS))]
        cur = _CURRENCY[e.country] if rng.random() < 0.8 else rng.choice(("USD", "EUR"))
        opened = _rand_date(rng, opened0, date(2024, 6, 1))
        closed = _rand_date(rng, opened, date(2024, 6, 30)) if rng.random() < 0.08 else None
        accounts.append((acc, source_id, product, cur, opened.isoformat(), closed.isoformat() if closed else None,
                         "closed" if closed else "active"))
        bal = scale * rng.uniform(0.2, 2.0) * (-1 if "loan" in product or "credit" in product else 1)
        for m in BALANCE_MONTHS:
            first = date.fromisoformat(m + "-01")
            if first < opened.replace(day=1) or (closed is not None and first > closed):
                continue
            debit = abs(bal) * rng.uniform(0, 0.6)
            credit = debit * rng.uniform(0.8, 1.25)
            bal = bal + credit - debit
            balances.append((acc, m, round(bal, 2), round(debit, 2), round(credit, 2), rng.randrange(0, 400)))
    return accounts, balances


# --- orchestration -------------------------------------------------------------------------------

class _Sqlite:
    """Batched writer of the CRM SQLite database."""

    def __init__(self, path: Path) -> None:
        if path.exists():
            path.unlink()
        self.con = sqlite3.connect(path)
        self.con.execute("PRAGMA journal_mode=OFF")
        self.con.execute("PRAGMA synchronous=OFF")
        self.con.execute(f"CREATE TABLE customers ({', '.join(c + ' TEXT' for c in CUSTOMER_COLUMNS)}, PRIMARY KEY (source_id))")
        # Accounts and balances carry an audit stamp (updated_at) for change-data capture, as core banking
        # tables usually do; it is set when the database is closed (no random draws: the sample is unchanged).
        self.con.execute(f"CREATE TABLE accounts ({', '.join(c + ' TEXT' for c in ACCOUNT_COLUMNS)}, "
                         "updated_at TEXT, PRIMARY KEY (account_id))")
        self.con.execute("CREATE TABLE balances (account_id TEXT, month TEXT, balance REAL, debit_amount REAL, "
                         "credit_amount REAL, txn_count INTEGER, updated_at TEXT, PRIMARY KEY (account_id, month))")
        self.buf: dict[str, list[tuple]] = {"customers": [], "accounts": [], "balances": []}
        self.cols = {"customers": CUSTOMER_COLUMNS, "accounts": ACCOUNT_COLUMNS, "balances": BALANCE_COLUMNS}

    def add(self, table: str, rows: list[tuple]) -> None:
        buf = self.buf[table]
        buf.extend(rows)
        if len(buf) >= SQL_BATCH:
            self.flush(table)

    def flush(self, table: str) -> None:
        buf = self.buf[table]
        if buf:
            marks = ", ".join("?" * len(self.cols[table]))
            self.con.executemany(f"INSERT INTO {table} ({', '.join(self.cols[table])}) VALUES ({marks})", buf)
            buf.clear()

    def close(self) -> None:
        for t in self.buf:
            self.flush(t)
        # Distinct stamps (a second per row within the day), as real audit columns mostly are.
        self.con.execute("UPDATE accounts SET updated_at = coalesce(datetime(coalesce(closed_on, opened_on), "
                         "'+' || (rowid % 86400) || ' seconds'), '2000-01-01 00:00:00')")
        self.con.execute("UPDATE balances SET updated_at = coalesce(datetime(month || '-28', "
                         "'+' || (rowid % 86400) || ' seconds'), '2000-01-01 00:00:00')")
        self.con.commit()
        self.con.close()


def _blocks(world: World, entities: int) -> Iterator[list[Entity]]:
    """Whole groups, ``BLOCK_ENTITIES`` entities at a time, until ``entities`` exist."""
    block: list[Entity] = []
    while world.next_idx < entities:
        block.extend(world.group(entities - world.next_idx))
        if len(block) >= BLOCK_ENTITIES:
            yield block
            block = []
    if block:
        yield block


def _write_xml(path: Path, body: Path, head: str, count: int, tail: str) -> None:
    """Assemble an XML file: header (with the record count known only now), streamed body, tail."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(head.replace("{COUNT}", str(count)))
        with body.open("r", encoding="utf-8", newline="\n") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        out.write(tail)
    body.unlink()


def generate(out: Path, entities: int, seed: int = 0) -> dict[str, int]:
    """Write the sample world of ``entities`` legal entities into ``out``; return record counts.

    Counts: ``entities``, ``groups``, one per source of organisation records (``gleif``,
    ``cn_registry``, ``uk_registry``, ``sec`` = distinct CIKs, ``crm`` = customers rows), and
    ``gleif_rr``, ``sec_filings``, ``sec_facts``, ``crm_duplicates``, ``crm_accounts``, ``crm_balances``.
    """
    if entities < 1:
        raise ValueError("entities must be at least 1")
    out = Path(out)
    for sub in ("registry", "financials", "internal"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    world = World(rng)
    counts = dict.fromkeys(("entities", "groups", "gleif", "gleif_rr", "cn_registry", "uk_registry", "sec",
                            "sec_filings", "sec_facts", "crm", "crm_duplicates", "crm_accounts", "crm_balances"), 0)
    lei_body = out / "registry" / ".gleif_lei2.body"
    rr_body = out / "registry" / ".gleif_rr.body"
    db = _Sqlite(out / "internal" / "crm.sqlite")
    with (lei_body.open("w", encoding="utf-8", newline="\n") as f_lei,
          rr_body.open("w", encoding="utf-8", newline="\n") as f_rr,
          (out / "registry" / "cn_registry.csv").open("w", encoding="utf-8", newline="") as f_cn,
          (out / "registry" / "uk_basiccompany.csv").open("w", encoding="utf-8", newline="") as f_ch,
          (out / "financials" / "sub.txt").open("w", encoding="utf-8", newline="") as f_sub,
          (out / "financials" / "num.txt").open("w", encoding="utf-8", newline="") as f_num,
          (out / "truth.csv").open("w", encoding="utf-8", newline="") as f_truth):
        w_cn = csv.writer(f_cn, lineterminator="\r\n")
        w_cn.writerow(CN_HEADER)
        f_ch.write(CH_HEADER + "\n")
        w_ch = csv.writer(f_ch, quoting=csv.QUOTE_ALL, lineterminator="\n")
        w_sub = csv.writer(f_sub, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n", escapechar=None)
        w_num = csv.writer(f_num, delimiter="\t", quoting=csv.QUOTE_NONE, lineterminator="\n", escapechar=None)
        w_sub.writerow(SUB_HEADER)
        w_num.writerow(NUM_HEADER)
        w_truth = csv.writer(f_truth, lineterminator="\n")
        w_truth.writerow(("source", "source_id", "entity_id"))
        for block in _blocks(world, entities):
            _emit_block(block, world, rng, counts, f_lei, f_rr, w_cn, w_ch, w_sub, w_num, w_truth, db)
    db.close()
    lei_head = ('<?xml version="1.0" encoding="UTF-8"?><lei:LEIData xmlns:lei="http://www.gleif.org/data/schema/leidata/2016" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n  <lei:LEIHeader>\n'
                f"    <lei:ContentDate>{CONTENT_DATE}</lei:ContentDate>\n    <lei:FileContent>GLEIF_FULL_PUBLISHED</lei:FileContent>\n"
                "    <lei:RecordCount>{COUNT}</lei:RecordCount>\n  </lei:LEIHeader>\n  <lei:LEIRecords>\n")
    _write_xml(out / "registry" / "gleif_lei2.xml", lei_body, lei_head, counts["gleif"],
               "  </lei:LEIRecords>\n</lei:LEIData>\n")
    rr_head = ('<?xml version="1.0" encoding="UTF-8"?><rr:RelationshipData  xmlns:rr="http://www.gleif.org/data/schema/rr/2016" '
               'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">\n  <rr:Header>\n'
               f"    <rr:ContentDate>{CONTENT_DATE}</rr:ContentDate>\n    <rr:FileContent>GLEIF_FULL_PUBLISHED</rr:FileContent>\n"
               "    <rr:RecordCount>{COUNT}</rr:RecordCount>\n  </rr:Header>\n  <rr:RelationshipRecords>\n")
    _write_xml(out / "registry" / "gleif_rr.xml", rr_body, rr_head, counts["gleif_rr"],
               "  </rr:RelationshipRecords>\n</rr:RelationshipData>\n")
    (out / "mdm.yaml").write_text(MDM_YAML, encoding="utf-8")
    counts["entities"] = world.next_idx
    return counts


def _emit_block(block: list[Entity], world: World, rng: random.Random, counts: dict[str, int], f_lei: TextIO,
                f_rr: TextIO, w_cn: Any, w_ch: Any, w_sub: Any, w_num: Any, w_truth: Any, db: _Sqlite) -> None:
    """Write one block of entities to every source, each source's records in a shuffled order."""
    counts["groups"] += sum(1 for e in block if e.kind == "root")

    def shuffled(pred: Callable[[Entity], bool]) -> list[Entity]:
        chosen = [e for e in block if pred(e)]
        rng.shuffle(chosen)
        return chosen

    for e in shuffled(lambda e: "gleif" in e.sources):
        f_lei.write(gleif_record(e, rng))
        w_truth.writerow(("gleif", e.lei, e.entity_id))
        counts["gleif"] += 1
    for e in shuffled(lambda e: "gleif" in e.sources and e.parent is not None):
        parent, root = e.parent, e.root
        assert parent is not None and root is not None
        if parent.lei and "gleif" in parent.sources:
            f_rr.write(rr_record(e, parent, "IS_DIRECTLY_CONSOLIDATED_BY", rng))
            counts["gleif_rr"] += 1
        if root.lei and "gleif" in root.sources and (root is not parent or rng.random() < 0.7):
            f_rr.write(rr_record(e, root, "IS_ULTIMATELY_CONSOLIDATED_BY", rng))
            counts["gleif_rr"] += 1
    for e in shuffled(lambda e: "cn_registry" in e.sources):
        w_cn.writerow(cn_row(e, rng))
        w_truth.writerow(("cn_registry", e.uscc, e.entity_id))
        counts["cn_registry"] += 1
    for e in shuffled(lambda e: "uk_registry" in e.sources):
        w_ch.writerow(ch_row(e, rng))
        w_truth.writerow(("uk_registry", e.ch_number, e.entity_id))
        counts["uk_registry"] += 1
    for e in shuffled(lambda e: "sec" in e.sources):
        subs, nums = sec_rows(e, rng)
        w_sub.writerows(subs)
        w_num.writerows(nums)
        w_truth.writerow(("sec", e.cik, e.entity_id))
        counts["sec"] += 1
        counts["sec_filings"] += len(subs)
        counts["sec_facts"] += len(nums)
    crm: list[tuple[Entity, bool]] = []
    for e in block:
        if "crm" in e.sources:
            crm.append((e, False))
            if rng.random() < 0.03:
                crm.append((e, True))
    rng.shuffle(crm)
    for e, dup in crm:
        sid = f"CUST{world.ids.next('crm'):08d}"
        row = crm_customer(e, sid, rng)
        db.add("customers", [row])
        w_truth.writerow(("crm", sid, e.entity_id))
        counts["crm"] += 1
        counts["crm_duplicates"] += dup
        accounts, balances = crm_accounts(e, sid, row[14], world.ids, rng)
        db.add("accounts", accounts)
        db.add("balances", balances)
        counts["crm_accounts"] += len(accounts)
        counts["crm_balances"] += len(balances)
