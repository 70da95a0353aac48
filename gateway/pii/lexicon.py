"""Word lists the recognizers share: cue words, surnames, given names, stop words.

Kept apart from the patterns so that a reviewer can read (and extend) what the
detector looks for without reading regular expressions. Changing any list
changes the detector version, so `privacy-gateway pii redetect` picks it up.
"""

from __future__ import annotations

# Common single-character Chinese surnames (the ~250 that cover almost everyone),
# and the compound ones still in use.
SURNAMES_1 = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥"
    "南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支"
    "卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印"
    "逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
) - frozenset("和母")  # also "and" and "mother": too often not a name
SURNAMES_2 = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "轩辕", "呼延",
    }
)  # fmt: skip # a word table: one entry per line, grouped for reading

# Two-character words that start with a surname character but are not names;
# after a cue word ("客户马上来取") they must not be taken for one.
NOT_NAMES_ZH = frozenset(
    {
        "马上", "高度", "金额", "周末", "方便", "方式", "方法", "万一", "文件", "于是",
        "白天", "常用", "任何", "任意", "余额", "黄色", "白色", "蓝色", "明天", "明早",
        "明晚", "明日", "时间", "时候", "安排", "安装", "安全", "关于", "关注", "全部",
        "全额", "平台", "平时", "强烈", "原因", "原来", "原价", "和我", "和您", "来电",
        "来取", "来拿", "要求", "国内", "国外", "都是", "都要", "信息", "信用", "华为",
        "成功", "成为", "快递", "程序", "应该", "司机", "申请", "包装", "包裹", "通知",
        "简单", "管理", "解决", "海关", "江苏", "江西", "湖南", "云南", "广东", "北京",
        "上海", "重新", "单号", "车上", "门口", "卫生", "路上", "宁波", "温州", "苏州",
        "杭州", "武汉", "成都", "重庆", "长沙", "郑州", "沈阳", "南京", "南昌", "贵阳",
        "昆明", "兰州", "福州", "石家", "太原", "合肥", "齐全", "米色", "支付", "支持",
        "花费", "商品", "商家", "权益", "保证", "保持", "保存", "可以", "师傅", "车牌",
        "戴上", "计划", "付款", "付费", "付钱", "元旦", "阳台", "雷雨", "龙虾", "牛奶",
        "毛巾", "巴黎", "富有", "谢谢", "尽快", "晚上", "早上", "下午", "上午", "中午",
        "关系", "储值", "顺丰", "申通", "韵达", "圆通", "中通", "京东", "邮政", "公司",
        "贺卡", "欧洲", "房号", "房间", "顾客", "银行", "辛苦", "查询", "查一", "查看",
        "单位", "单据",
        "连续", "连接", "车辆", "路过", "邮件", "邮寄", "邮箱", "成本", "曾经", "文字",
        "方面", "方向", "向前", "高兴", "高铁", "金属", "黄金", "都可", "都行", "易碎",
    }
)  # fmt: skip # a word table: one entry per line, grouped for reading

# Characters that start the word after a Chinese name ("王芳来电", "收件人张伟电话"):
# a third character from this set is not part of the name.
AFTER_NAME_ZH = frozenset(
    "电手联地号身邮请的先女小收在您和已要帮送放给说来会是打寄不也都就还转家签取到拿代本收"
    "备与及或跟同被把让叫对向从自于为用已将可能需麻谢您你他她我们这那有没无很太更最再又才"
    "先生女士小姐老师总经理同学阿姨师傅"
    # greetings that follow a name: "祝王芳生日快乐", "祝严晖六一快乐", "王芳新年好"
    "一二三四五六七八九十生新节快早幸圣春端元"
)

# Characters that never start a given name: pronouns and particles ("祝您", "王的").
NOT_GIVEN_ZH = frozenset("您你我他她它们的了是在和与及或也都就还把被给让")

# Cue words after which a name follows, Chinese. Longest first is not needed: each
# is matched as a whole and the name pattern itself decides where the name ends.
CUES_ZH = (
    "收件人", "收货人", "联系人", "户名", "开户名", "开户人", "代收人", "签收人", "取件人",
    "寄件人", "发件人", "持卡人", "姓名", "名字", "客户", "顾客", "买家", "用户", "本人",
    "我是", "我叫", "爱你的", "你的", "亲爱的", "送给", "署名", "落款", "经办人",
    "负责人", "来自", "收款人", "付款人", "购买人", "下单人", "订购人", "申请人", "致电",
    "找", "转交", "交给", "留给", "通知", "联系", "实名", "自称", "账户名", "名字", "名叫",
    "对接人", "联络人", "客服", "专员", "业务员", "紧急联系人", "收件方", "称呼",
    "应该是", "不是", "应为", "个人", "委托", "邻居", "同学", "老同学", "同事", "朋友",
    "我妈", "我爸", "妈妈", "爸爸", "姑姑", "阿姨", "叔叔", "舅舅", "姐姐", "哥哥",
    "弟弟", "妹妹", "老婆", "老公", "总经理", "经理", "财务", "主管", "订购人", "支付人",
    "提货人", "此致", "会员", "收礼人", "送礼人", "署名写", "快递员", "司机", "谢谢", "感谢",
    "跟进", "转告", "用药人", "患者", "病人", "前台", "对接", "女儿", "儿子", "贺卡写",
    "卡片写",
)  # fmt: skip # a word table: one entry per line, grouped for reading

# "致" and "祝" start names ("致王芳:", "祝严晖六一快乐") but also words (一致, 祝贺).
CUE_PATTERNS_ZH = (
    r"(?<![一导以所大细精兴极标景别雅招])致",
    r"祝(?![贺福愿])",
    r"(?<![A-Za-z0-9._%+\-])@",  # a mention ("@石萍"), never an e-mail's @
)

# Words that may stand between a cue and the name ("收货人改为王芳", "名字是…").
CONNECTORS_ZH = ("改为", "改成", "换成", "是", "为", "叫")

# Honorifics after a Chinese surname ("王先生"): the surname is personal data.
HONORIFICS_ZH = ("先生", "女士", "小姐", "太太", "老师", "阿姨", "师傅", "同学", "总", "经理")

# Cue words after which a name follows, Latin script (matched case-insensitively).
# "strong" cues take a one-word name ("Dear Anna"); "weak" ones, which also start
# ordinary phrases ("for Christmas"), need two capitalised words or a known first name.
CUES_EN_STRONG = (
    "dear", "hi", "hello", "hey", "thanks", "thank you", "thx", "regards", "best regards",
    "kind regards", "warm regards", "best wishes", "best", "cheers", "love", "lots of love",
    "with love", "all my love", "yours", "yours truly", "sincerely", "xoxo", "hugs",
    "customer", "client", "recipient", "receiver", "consignee", "contact",
    "contact person", "name", "full name", "attn", "attention", "c/o", "account holder",
    "account name", "cardholder", "card holder", "beneficiary", "signed", "signature",
    "my name is", "i am", "i'm", "this is", "ask for", "mr", "mrs", "ms", "miss", "mx",
    "dr", "prof", "herr", "frau", "mme", "mlle", "monsieur", "madame", "sig", "sig.ra",
    "signor", "signora", "sr", "sra", "señor", "señora", "pan", "pani", "mevrouw", "meneer",
    "dhr", "mevr", "xx", "name on card", "name on account", "consignee", "it's", "it is",
    "addressee", "holder", "agent", "buyer", "sender", "shipper", "third party", "courier",
    "my name",
)  # fmt: skip # a word table: one entry per line, grouped for reading
CUES_EN_WEAK = (
    "for", "gift for", "present for", "to", "from", "call", "deliver to", "ship to",
    "send to", "hand to", "give to", "leave with", "with", "and", "by", "via",
    "neighbour", "neighbor", "friend", "colleague", "sister", "brother", "mother",
    "father", "mom", "mum", "dad", "wife", "husband", "son", "daughter", "aunt", "uncle",
    "cousin", "boss", "manager", "in-laws", "partner", "grandma", "grandpa", "flatmate",
    "roommate", "housemate", "try",
)  # fmt: skip # a word table: one entry per line, grouped for reading

# Verbs a name stands before at the start of a reported line ("François wrote: …").
VERBS_AFTER_NAME_EN = ("wrote", "writes", "said", "says", "asked", "called", "replied", "texted")

# Street words: a name right after one is a street's ("rue Victor Hugo").
STREET_WORDS = (
    "rue", "via", "viale", "piazza", "avenue", "av.", "calle", "plaza", "paseo", "rua",
    "straße", "strasse", "str.", "allee", "platz", "weg", "laan", "plein", "gracht",
    "ulica", "ul.", "boulevard", "bd", "place", "quai", "street", "st.", "road", "lane",
    "路", "街", "大道",
)  # fmt: skip # a word table: one entry per line, grouped for reading

# Words that may stand between a Latin cue and the name ("Thanks a lot, Anna").
CONNECTORS_EN = (
    "a lot", "again", "so much", "very much", "in advance", "once more", "is", "in china",
    "on card", "my", "dear", "always", "forever",
)  # fmt: skip # a word table: one entry per line, grouped for reading

# Capitalised words that are not names, though they often follow a cue word.
NOT_NAMES_EN = frozenset(
    {
        "A", "An", "The", "This", "That", "These", "Those", "My", "Our", "Your", "His",
        "Her", "Their", "Its", "Please", "Thanks", "Thank", "Happy", "Merry", "Birthday",
        "Christmas", "Easter", "New", "Year", "Valentine", "Valentines", "Anniversary",
        "Mother", "Father", "Mothers", "Fathers", "Mom", "Mum", "Dad", "Grandma",
        "Grandpa", "Everyone", "All", "You", "Me", "Him", "Them", "Us", "It", "We", "They",
        "She", "He", "I", "Order", "Orders", "Customer", "Client", "Team", "Support",
        "Service", "Services", "Delivery", "Warehouse", "Shop", "Store", "Company",
        "Office", "Home", "Work", "Reception", "Security", "Concierge", "Neighbour",
        "Neighbor", "Door", "Front", "Back", "Gate", "Floor", "Room", "Building",
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December", "Today", "Tomorrow", "Tonight",
        "Morning", "Evening", "Afternoon", "Noon", "Weekend", "Invoice", "Refund",
        "Payment", "Card", "Bank", "Account", "Phone", "Email", "Mail", "Tel", "Mobile",
        "Call", "Gift", "Present", "Note", "Message", "Tracking", "Reference", "Package",
        "Parcel", "Box", "Item", "Items", "Product", "Size", "Color", "Colour", "Paid",
        "Send", "Ship", "Deliver", "Leave", "Ring", "Knock", "Keep", "Do", "Not", "No",
        "Yes", "Ok", "Okay", "Hi", "Hello", "Dear", "Best", "Love", "Regards", "Cheers",
        "Sincerely", "Yours", "Amazon", "Alipay", "WeChat", "Wechat", "PayPal", "Visa",
        "Mastercard", "UnionPay", "DHL", "UPS", "FedEx", "EMS", "IBAN", "EUR", "USD",
        "CNY", "RMB", "GBP", "Europe", "China", "Germany", "France", "Italy", "Spain",
        "Poland", "Netherlands", "Berlin", "Paris", "Rome", "Madrid", "Amsterdam",
        "Warsaw", "Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Guangzhou", "God",
        "Santa", "Sir", "Madam", "Mr", "Mrs", "Ms", "Dr", "Miss", "Herr", "Frau",
        "Street", "Road", "Avenue", "Lane", "Via", "Rue", "Calle", "Straße", "Strasse",
        "Asked", "Called", "Wants", "Said", "Requested", "Will", "Would", "Can", "Could",
        "Care", "Relations", "Success", "Experience", "Bye", "Thx", "Hope", "See", "Enjoy",
        "Welcome", "Sorry", "Congratulations", "Congrats", "I'm", "I'd", "I'll", "I've",
        "If", "When", "Then", "But", "And", "Or", "So", "As", "At", "In",
        "On", "Of", "For", "By", "From", "With", "Without", "After", "Before", "Is",
        "Are", "Was", "Recipient", "Receiver", "Sender", "Buyer", "Seller", "Driver", "Agent",
        "Contact", "Consignee", "Addressee", "Holder", "Cardholder", "Signed", "Signature",
        "Courier",
        "Attn", "Beneficiary", "Name", "Mobil", "To", "Subject", "Re", "Fwd",
    }
)  # fmt: skip # a word table: one entry per line, grouped for reading

# Words of organisations, places and titles: a capitalised run holding one is not a
# person's name ("Nordlicht GmbH", "Xihu District", "Managing Director").
NOT_IN_NAMES = frozenset(
    """
    GmbH AG KG Ltd Limited Inc LLC Corp Co SA SAS SARL SpA Srl BV NV Oy AB ApS Plc
    Logistics Trading Group Holdings Holding Company Services Solutions Systems
    Technologies Technology Electronics Studio Atelier Boutique Shop Store Market
    District Province City County Street Road Avenue Square Park Plaza Tower Building
    Day Eve Valentine Valentine's
    Director Manager Department Dept Office Accounts Payable Receivable Billing Finance
    Purchasing Procurement Sales Marketing Legal Operations Customs Warehouse
    Support Team Desk Center Centre Hotel Restaurant University School Hospital Bank
    """.split()  # noqa: SIM905
)

# Given names common in the markets the store sells to (Europe and the English-
# speaking world): "Anna Kowalski" is a name even without a cue word before it.
FIRST_NAMES = frozenset(
    """
    Aaron Adam Adrian Agnes Aidan Aiden Alan Albert Alberto Alejandro Aleksandra Alessandra
    Alessandro Alex Alexander Alexandra Alexis Alfred Alice Alicia Alina Alma Amelia Amelie
    Amy Ana Andrea Andreas Andrew Andrzej Angela Angelika Anja Ann Anna Anne
    Annika Anton Antoine Antonio Arthur Astrid Aurora Axel Barbara Bart Bas Beatrice
    Ben Benjamin Bernard Bianca Bram Brian Bruno Camille Carla Carlos Carmen Caroline
    Catherine Cecilia Charles Charlotte Chiara Chloe Christian Christina Christine
    Christopher Claire Clara
    Claudia Colin Daan Daniel Daniela David Davide Denis Diana Diego Dominik Dorothy
    Dylan Edward Elena Eleonora Elias Elif Elisa Elisabeth Elizabeth Ella Ellen Emil
    Emile Emilia Emily Emma Enzo Eric Erik Eva Eve Ewa Fabian Federica
    Felix Femke Filip Finn Florian Francesca Francesco Francisco Frank Franz Freya Gabriel
    Gabriele Gabriela George Georg Gerard Giorgia Giovanni Giulia Giuseppe Grace Greta Hannah
    Hans Harry Heinz Helena Helen Henry Hugo Ida Ines Inès Irene Isabel
    Isabella Isabelle Jack Jacob Jakob Jakub James Jan Jana Jane Javier Jens
    Jessica Joanna Johan Johanna John Jonas Jonathan Jordi Jorge José Josef Joseph
    Juan Julia Julian Julie Julien Justyna Karl Karolina Katarzyna Kate Katharina Kevin
    Klaus Lara Laura Lea Leo Leon Leonie Liam Lily Lina Linda Lisa
    Lorenzo Louis Louise Luca Lucas Lucia Lucía Luis Luisa Luka Lukas Łukasz
    Maciej Magdalena Maja Manon Manuel Marc Marco Marcel Margaret Maria María Marie
    Marina Mario Mark Marta Martin Martina Mary Mateo Matteo Matthew Matthias Max
    Maxime Maximilian Mia Michael Michał Michel Michelle Mila Milan Nathalie Nicolas Nicola
    Niels Nina Noah Noémie Nora Oliver Olivia Oscar Oskar Pablo Paola Patrick
    Paul Paula Pauline Pedro Peter Petra Philip Philipp Pierre Piotr Rachel Rafael
    Raphael Rebecca Richard Robert Roberto Rosa Ruben Ruth Sara Sarah Sebastian Simon
    Simone Sofia Sofía Sophia Sophie Stefan Stefano Stella Sven Tessa Thomas Tim
    Timo Tobias Tom Tomasz Valentina Valentin Vera Victor Victoria Vincent Wiktoria Willem
    William Wojciech Xavier Yasmin Yusuf Zoe Zofia Zuzanna
    Chloé Søren Tiago João Inês Inés Clément Eszter Zuzana Federica Joost Uwe Andrés
    Krzysztof Åsa Anouk Magnus Lotte Fleur Maarten Matteo Noémie François Hélène Jérôme
    Björn Lars Nils Ingrid Sigrid Mette Pieter Sanne Thijs Jesper Mikkel Kasper Frederik
    Dominika Agnieszka Marek Pavel Petr Tereza Lucie Jiří Miroslav Bogdan Vlad Ioana
    Andrei Mihai Dimitri Nikos Eleni Giorgos Sofie Emilie Laurent Sébastien Théo Léa
    Alessia Riccardo Leonardo Jürgen Günter Sabine Ursula Wolfgang Dieter Helmut Renate
    Monika Stefanie Pilar Raúl Sergio Álvaro Rocío Nuno Rui Beatriz Gonçalo Duarte
    Oliwia Kacper Szymon Bartosz Olga Irina Dmitri Sergei Mateusz Nicolò Tomáš Noor Zoë
    Jean-Luc Marie-Claire Jan-Peter Ana-Maria Hannah Aoife Siobhan Niamh Ciarán Oisín
    Seán Mats Linnea Elin Ebba Maja Wiebke Jannik Lennart Malte Henrik Signe Freja
    María Harriet Fenna Chiara Siobhán Klaus Pablo
    """.split()  # noqa: SIM905 - a word list reads better as words
)

# Chinese surnames in pinyin: "Liu Yang", "CHEN Hao" in Latin-script text.
PINYIN_SURNAMES = frozenset(
    """
    Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Gao Lin Luo
    Zheng Liang Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Yuan Pan Yu
    Jiang Cai Du Ye Cheng Su Wei Lyu Lv Ding Ren Shen Yao Lu Cui Zhong Tan Fan Jin Shi
    Liao Jia Xia Fu Fang Bai Zou Meng Xiong Qin Qiu Yin Xue Yan Duan Lei Hou Long Tao
    Gu Mao Hao Gong Shao Wan Qian Dai Mo Kong Xiang Chang Wen Kang Niu Ge Xing An Qi
    Yi Qiao Wu Pang Ni Zhuang Nie Zhan Ou Geng Guan Jiao Zuo Liu Gan Zhuo Rong Sima
    Ouyang Shangguan Zhuge Dongfang Situ Murong Huangfu Ximen Nangong
    """.split()  # noqa: SIM905
)

# Labels of numbers that are not personal data: a number right after one of these
# (in the same clause) is an order, tracking, member or reference number.
NUMBER_LABELS = (
    "单号", "编号", "订单", "运单", "快递", "物流", "会员", "流水", "工单", "发票", "批次",
    "货号", "条码", "序列号", "型号", "券", "兑换码", "取件码", "验证码", "密码", "编码",
    "积分卡", "会员卡", "礼品卡", "购物卡", "储值卡", "提货卡", "推荐码", "邀请码", "优惠码",
    "积分", "gift card", "loyalty card", "loyalty",
    "order", "tracking", "track", "reference", "ref", "member", "membership", "invoice",
    "sku", "serial", "batch", "parcel", "shipment", "waybill", "item", "article",
    "coupon", "voucher", "code", "ticket", "case", "参考号", "参考", "单据", "账单",
)  # fmt: skip # a word table: one entry per line, grouped for reading

# Labels of member numbers: many shops use the member's mobile as the number.
MEMBER_LABELS = frozenset({"会员", "积分", "member", "membership", "loyalty", "会员卡", "积分卡"})

# What may follow a label before its number: "Reference number", "订单号:", "No. ".
LABEL_TAILS = ("number", "no.", "no", "nr.", "nr", "num", "id", "#", "号", "码", "号码")

# Words that say a phone number follows.
PHONE_CUES = (
    "电话", "手机", "联系", "致电", "来电", "号码", "短信", "拨打", "打我", "微信",
    "tel", "phone", "mobile", "cell", "mobil", "handy", "móvil", "cellulare", "portable",
    "tél", "tlf", "fon", "mob",
    "call", "contact", "whatsapp", "telefon", "téléphone", "telefono", "teléfono",
    "telefoon", "ring", "sms", "text",
)  # fmt: skip # a word table: one entry per line, grouped for reading

# Words that say a card number follows (an 18-digit card is taken only after one).
CARD_CUES = (
    "卡", "银行", "银联", "储蓄", "借记", "信用", "card", "bank", "visa", "mastercard",
    "unionpay", "debit", "credit", "maestro", "amex",
)  # fmt: skip # a word table: one entry per line, grouped for reading
