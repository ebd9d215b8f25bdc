"""Reference pools of the sample world: name stems, industries, cities, streets, legal forms, LOUs, people.

Hard-coded reference codes are explained in :mod:`pipelines.sample`.
"""

from __future__ import annotations

import random
from functools import cache

from pipelines.sample import synth

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
_QUALIFIERS: tuple[tuple[str, str, str, str, bool], ...] = tuple(  # noqa: RUF005 - two literal parts
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


def _cn_person(rng: random.Random) -> str:
    given = _CN_GIVEN[rng.randrange(len(_CN_GIVEN))]
    if rng.random() < 0.6:
        given += _CN_GIVEN[rng.randrange(len(_CN_GIVEN))]
    return _CN_SURNAMES[rng.randrange(len(_CN_SURNAMES))] + given


def _en_person(rng: random.Random) -> str:
    return f"{_FIRST[rng.randrange(len(_FIRST))]} {_LAST[rng.randrange(len(_LAST))]}"
