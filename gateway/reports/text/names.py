"""Words for the names the policy files use (roles, erasure steps, retention rules,
transfer safeguards, legal bases), in English and Chinese.

A name an operator adds to the policy without words here is shown as itself, as
code: reports never fail for want of a translation of the operator's own names.
"""

from __future__ import annotations

NAMES: dict[str, tuple[str, str]] = {
    # safeguards of a transfer abroad (GDPR Chapter V, PIPL Art. 38)
    "value.adequacy": ("adequacy decision (GDPR Art. 45)", "充分性认定（GDPR第45条）"),
    "value.scc": (
        "standard contractual clauses (GDPR Art. 46(2)(c))",
        "标准合同条款（GDPR第46条第2款(c)项）",
    ),
    "value.bcr": ("binding corporate rules (GDPR Art. 47)", "有约束力的公司规则（GDPR第47条）"),
    "value.derogation": ("derogation (GDPR Art. 49)", "特定情形下的例外（GDPR第49条）"),
    "value.pipl_standard_contract": (
        "CAC standard contract (PIPL Art. 38(1)(3))",
        "个人信息出境标准合同（《个人信息保护法》第三十八条第一款第（三）项）",
    ),
    "value.pipl_security_assessment": (
        "CAC security assessment (PIPL Art. 38(1)(1), Art. 40)",
        "国家网信部门安全评估（《个人信息保护法》第三十八条第一款第（一）项、第四十条）",
    ),
    "value.pipl_certification": (
        "personal information protection certification (PIPL Art. 38(1)(2))",
        "个人信息保护认证（《个人信息保护法》第三十八条第一款第（二）项）",
    ),
    # roles of the policy (policies/policy.csv); a role without words here shows its name
    "role.admin": ("administrator", "管理员"),
    "role.analyst": ("analyst", "分析人员"),
    "role.auditor": ("auditor", "审计员"),
    "role.channel": ("sales channel", "销售渠道"),
    "role.customer_service": ("customer service", "客服"),
    "role.dpo": ("data protection officer", "数据保护官"),
    "role.finance": ("finance", "财务"),
    "role.warehouse": ("warehouse", "仓储"),
    "role.none": ("no role (command line)", "无角色（命令行）"),
    # steps of an erasure (gateway.privacy)
    "step.free_text": ("free-text notes", "自由文本备注"),
    "step.orders": ("orders deleted or anonymised", "删除或匿名化的订单"),
    "step.blind_index": ("search index entries", "检索索引条目"),
    "step.contact_traces": ("traces of the contact", "联系方式痕迹"),
    "step.data_key": ("data keys destroyed", "销毁的数据密钥"),
    "step.verification": ("checked again afterwards", "事后复查"),
    # retention rules (policies/retention.toml)
    "rule.tax_record": ("tax records", "税务记录"),
    "rule.ecommerce_transaction": ("e-commerce transaction records", "电子商务交易记录"),
    # where a gap is
    "where.controller": ("controller", "个人信息处理者"),
    "where.dpo": ("data protection officer", "数据保护官"),
    "where.pipl_officer": ("personal information protection officer", "个人信息保护负责人"),
    "where.activity": ("activity", "处理活动"),
    "where.field": ("field", "字段"),
    "where.role": ("role", "角色"),
}

BASES: dict[str, tuple[str, str]] = {
    "gdpr.a": ("Art. 6(1)(a) consent", "第6条第1款(a)项 同意"),
    "gdpr.b": ("Art. 6(1)(b) performance of a contract", "第6条第1款(b)项 履行合同"),
    "gdpr.c": ("Art. 6(1)(c) legal obligation", "第6条第1款(c)项 法定义务"),
    "gdpr.d": ("Art. 6(1)(d) vital interests", "第6条第1款(d)项 重大利益"),
    "gdpr.e": ("Art. 6(1)(e) public task", "第6条第1款(e)项 公共任务"),
    "gdpr.f": ("Art. 6(1)(f) legitimate interests", "第6条第1款(f)项 正当利益"),
    "pipl.1": ("Art. 13(1)(1) consent", "第十三条第一款第（一）项 取得个人同意"),
    "pipl.2": (
        "Art. 13(1)(2) necessary for a contract",
        "第十三条第一款第（二）项 订立、履行合同所必需",
    ),
    "pipl.3": (
        "Art. 13(1)(3) legal duty or obligation",
        "第十三条第一款第（三）项 履行法定职责或者法定义务所必需",
    ),
    "pipl.4": (
        "Art. 13(1)(4) public health emergency",
        "第十三条第一款第（四）项 应对突发公共卫生事件",
    ),
    "pipl.5": (
        "Art. 13(1)(5) news reporting in the public interest",
        "第十三条第一款第（五）项 为公共利益实施新闻报道",
    ),
    "pipl.6": (
        "Art. 13(1)(6) information already lawfully public",
        "第十三条第一款第（六）项 处理已合法公开的个人信息",
    ),
    "pipl.7": ("Art. 13(1)(7) other laws", "第十三条第一款第（七）项 法律、行政法规规定的其他情形"),
}
