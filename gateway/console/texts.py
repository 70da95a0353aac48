"""The console's words in English and Chinese: one entry per text, both languages."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("en", "zh")
HTML_LANG = {"en": "en", "zh": "zh-CN"}

TEXT: Mapping[str, tuple[str, str]] = {
    "title": ("Privacy console", "隐私控制台"),
    "skip": ("Skip to the content", "跳到正文"),
    "nav.inbox": ("Inbox", "待办请求"),
    "nav.sign_out": ("Sign out", "退出"),
    "lang.switch": ("中文", "English"),
    "signed_in_as": ("Signed in as", "当前用户"),
    "sign_in.title": ("Sign in", "登录"),
    "sign_in.intro": (
        "Sign in with your gateway token and a current code from your authenticator app.",
        "请使用网关令牌和身份验证器应用中的当前验证码登录。",
    ),
    "sign_in.token": ("Gateway token", "网关令牌"),
    "sign_in.code": ("One-time code", "一次性验证码"),
    "sign_in.submit": ("Sign in", "登录"),
    "err.sign_in": (
        "The token or the code was not accepted.",
        "令牌或验证码未被接受。",
    ),
    "err.no_entry": (
        "Your role does not enter the console.",
        "您的角色无权进入控制台。",
    ),
    "err.no_factor": (
        "You have no active second factor: enrol one with POST /v1/auth/totp/enroll first.",
        "您尚未启用第二因素：请先通过 POST /v1/auth/totp/enroll 注册。",
    ),
    "err.locked": (
        "Too many wrong codes: your second factor is locked for now.",
        "错误验证码过多：第二因素暂时被锁定。",
    ),
    "err.expired": ("Your session has ended: sign in again.", "会话已结束，请重新登录。"),
    "err.forbidden": ("This is not something your role may do.", "您的角色无权执行此操作。"),
    "err.cross_site": ("That form came from another site.", "该表单来自其他网站。"),
    "err.invalid": ("Some of what was sent is not valid.", "提交的部分内容无效。"),
    "err.unavailable": (
        "The audit log cannot be written now, so nothing was shown. Try again shortly.",
        "审计日志暂时无法写入，因此未显示任何内容。请稍后重试。",
    ),
    "err.internal": ("Something went wrong on our side.", "系统内部出错。"),
    "inbox.title": ("Open requests", "未完成的请求"),
    "inbox.count": ("open", "未完成"),
    "inbox.overdue": ("overdue", "已逾期"),
    "inbox.due_soon": ("due within 24 hours", "24 小时内到期"),
    "inbox.none": ("No open request.", "没有未完成的请求。"),
    "inbox.filter": ("Filter", "筛选"),
    "inbox.state": ("State", "状态"),
    "inbox.kind": ("Kind", "类型"),
    "inbox.any": ("any", "全部"),
    "inbox.only_overdue": ("Overdue only", "仅逾期"),
    "inbox.search": ("Request id", "请求编号"),
    "inbox.apply": ("Apply", "应用"),
    "col.request": ("Request", "请求"),
    "col.kind": ("Kind", "类型"),
    "col.state": ("State", "状态"),
    "col.received": ("Received", "收到时间"),
    "col.target": ("72 h target", "72 小时目标"),
    "col.deadline": ("Legal deadline", "法定期限"),
    "left": ("left", "剩余"),
    "late": ("late", "已超"),
    "req.title": ("Request", "请求"),
    "req.clocks": ("Clocks", "时限"),
    "req.target": ("72-hour target", "72 小时目标"),
    "req.gdpr": ("GDPR deadline", "GDPR 期限"),
    "req.pipl": ("PIPL deadline", "PIPL 期限"),
    "req.timeline": ("Timeline", "进度"),
    "req.received": ("received", "收到"),
    "req.verified": ("verified", "已验证"),
    "req.completed": ("completed", "已完成"),
    "req.systems": ("Systems", "系统"),
    "req.no_systems": ("No system step yet.", "尚无系统步骤。"),
    "req.holds": ("Holds", "暂停记录"),
    "req.held_up_by": ("Held up by", "阻塞于"),
    "col.system": ("System", "系统"),
    "col.method": ("Method", "方式"),
    "col.status": ("Status", "状态"),
    "col.attempts": ("Attempts", "尝试次数"),
    "col.last_error": ("Last error", "最近错误"),
    "col.waiting_for": ("Waiting for", "等待"),
    "act.title": ("Actions", "操作"),
    "act.reason": (
        "Reason (logged; a rejection's and an extension's are sent to the subject)",
        "理由（记入日志；拒绝与延期的理由会告知数据主体）",
    ),
    "act.months": ("Months", "月数"),
    "act.confirm": ("I confirm this action", "我确认执行此操作"),
    "act.hold": ("Put on hold", "暂停"),
    "act.lift": ("Lift the hold", "解除暂停"),
    "act.extend": ("Extend the deadline", "延长期限"),
    "act.reject": ("Reject", "拒绝"),
    "act.retry": ("Retry", "重试"),
    "act.done": ("Done: the action is in the log.", "已完成：该操作已记入日志。"),
    "err.unconfirmed": ("Tick the confirmation to act.", "请勾选确认后再执行。"),
    "err.transition": (
        "The request's state does not allow that now.",
        "请求当前的状态不允许此操作。",
    ),
    "err.not_found": ("No such request, report or copy.", "没有这个请求、报告或副本。"),
    "nav.audit": ("Audit log", "审计日志"),
    "audit.title": ("Audit log", "审计日志"),
    "audit.search": ("Search", "搜索"),
    "audit.actor": ("Person or principal", "人员或主体"),
    "audit.action": ("Action", "操作"),
    "audit.outcome": ("Outcome", "结果"),
    "audit.order": ("Order id", "订单编号"),
    "audit.subject": ("Subject pseudonym", "数据主体假名"),
    "audit.since": ("From (UTC)", "起始（UTC）"),
    "audit.until": ("Until (UTC)", "截止（UTC）"),
    "audit.none": ("No entry matches.", "没有匹配的条目。"),
    "audit.older": ("Older entries", "更早的条目"),
    "audit.export": ("Export", "导出"),
    "audit.export_intro": (
        "The entries of a time range (all of them if none is given) and their signed checkpoints as JSON Lines, to verify offline: privacy-gateway audit verify --export FILE --public-key FILE.",
        "某一时间范围（未指定则为全部）的条目及其签名检查点，以 JSON Lines 格式导出，可离线验证：privacy-gateway audit verify --export FILE --public-key FILE。",
    ),
    "audit.verify": ("Verify now", "立即验证"),
    "audit.verify_intro": (
        "Checks every entry's hash chain and every signed checkpoint.",
        "检查每个条目的哈希链和每个签名检查点。",
    ),
    "audit.intact": ("The log is intact", "日志完整"),
    "audit.broken": ("The log is broken at entry", "日志在以下条目处损坏"),
    "audit.checked": ("entries checked", "条已检查"),
    "col.seq": ("#", "序号"),
    "col.at": ("Time (UTC)", "时间（UTC）"),
    "col.actor": ("Who", "人员"),
    "col.action": ("Action", "操作"),
    "col.outcome": ("Outcome", "结果"),
    "col.resource": ("Resource", "资源"),
    "col.details": ("Details", "详情"),
    "nav.matrix": ("Who sees what", "谁能看到什么"),
    "matrix.title": ("Who sees what", "谁能看到什么"),
    "matrix.intro": (
        "Each field at the level each role's plan shows it, compiled from the policy now in force.",
        "按当前生效的策略编译：每个角色看到的每个字段的级别。",
    ),
    "matrix.version": ("Policy version", "策略版本"),
    "matrix.scope": ("Row scope", "行范围"),
    "col.field": ("Field", "字段"),
    "col.category": ("Category", "类别"),
    "level.hidden": ("hidden", "隐藏"),
    "level.masked": ("masked", "掩码"),
    "level.clear": ("clear", "明文"),
    "level.clear_after_2fa": ("clear after second factor", "二次验证后明文"),
    "nav.reports": ("Reports", "报告"),
    "reports.title": ("Reports", "报告"),
    "reports.intro": (
        "Generate a report for a period, in English or Chinese. HTML opens print-ready (A4): print it to PDF from the browser.",
        "生成某一期间的报告（英文或中文）。HTML 格式可直接打印（A4）：在浏览器中打印为 PDF。",
    ),
    "reports.generate": ("Generate", "生成"),
    "reports.format": ("Format", "格式"),
    "reports.lang": ("Language", "语言"),
    "reports.kept": ("Kept copies (PIPL Art. 56)", "留存副本（《个人信息保护法》第五十六条）"),
    "reports.none_kept": ("No kept copy yet.", "尚无留存副本。"),
    "col.report": ("Report", "报告"),
    "col.period": ("Period", "期间"),
    "col.generated": ("Generated", "生成于"),
    "col.by": ("By", "生成人"),
    "col.sha256": ("SHA-256", "SHA-256"),
    "col.keep_until": ("Keep until", "保留至"),
    "nav.health": ("Health", "运行状况"),
    "health.title": ("Health", "运行状况"),
    "health.keys": ("Keys", "密钥"),
    "health.kek_versions": ("Key-encryption key versions", "密钥加密密钥版本"),
    "health.active": ("Active version", "当前版本"),
    "health.audit_key": ("Audit signing key id", "审计签名密钥标识"),
    "health.data_pending": ("Data keys still under an older version", "仍在旧版本下的数据密钥"),
    "health.factors_pending": (
        "Second factors still under an older version",
        "仍在旧版本下的第二因素",
    ),
    "health.log": ("Audit log", "审计日志"),
    "health.head": ("Head", "链头"),
    "health.checkpoint": ("Last signed checkpoint", "最近签名检查点"),
    "health.none": ("none yet", "尚无"),
    "health.systems": ("Systems of the map", "系统地图中的系统"),
    "health.no_systems": ("Only the gateway's own store.", "只有网关自身的存储。"),
    "cert.title": ("Erasure certificate", "删除证明"),
    "cert.open": ("Certificate", "证明"),
    "cert.valid": (
        "Verified: signed by this gateway, and its chain head is in the log.",
        "已验证：由本网关签名，其链头在日志中。",
    ),
    "cert.invalid": ("Not verified", "未通过验证"),
    "cert.download": ("Download the signed certificate (JSON)", "下载已签名的证明（JSON）"),
    "kind.erasure": ("erasure", "删除"),
    "kind.access": ("access", "查阅"),
}


def choose_language(accept_language: str | None, chosen: str | None) -> str:
    """The reader's choice (cookie) if any, else the browser's first known language."""
    if chosen in LANGUAGES:
        return str(chosen)
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def text(key: str, lang: str) -> str:
    en, zh = TEXT[key]
    return zh if lang == "zh" else en
