"""What the /privacy page says, in English and Chinese, and how its language is chosen.

Every entry is a pair (English, Chinese), side by side, so a sentence cannot exist in
one language only. Texts never hold personal data; `{placeholders}` take numbers only.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.privacy.documents import certificate

LANGUAGES = ("en", "zh")
HTML_LANG = {"en": "en", "zh": "zh-CN"}
DEFAULT_LANGUAGE = "en"

_ENTRIES: dict[str, tuple[str, str]] = {
    # --- every page ---------------------------------------------------------------
    # The shop's name (the controller, from the processing record) comes before it.
    "site": ("Privacy requests", "隐私请求"),
    "footer_controller": (  # after the shop's name
        " is responsible for your personal data (the controller).",
        "负责处理您的个人信息（个人信息处理者）。",
    ),
    "privacy_notice": ("Privacy notice", "隐私政策"),
    "privacy_contact": ("Questions:", "咨询："),
    "skip": ("Skip to main content", "跳到主要内容"),
    "switch_to": ("中文", "English"),
    "switch_label": ("Language", "语言"),
    "home": ("Back to the start", "返回首页"),
    "fix_errors": ("Please correct the following:", "请更正以下内容："),
    # --- start page ---------------------------------------------------------------
    "home_title": ("Your personal data", "您的个人数据"),
    "intro": (
        "Ask us to erase your personal data, or to send you a copy of it. We need the phone "
        "number or e-mail address you gave with an order, and that order's number. To make "
        "sure the request comes from you, we send a one-time code to that contact.",
        "您可以要求我们删除您的个人数据，或向您提供一份数据副本。我们需要您下单时留下的手机号码或"
        "电子邮箱，以及该订单的订单号。为确认请求确实由您本人提出，我们会向该联系方式发送一次性验证码。",
    ),
    "new_heading": ("Make a request", "提交请求"),
    "kind_legend": ("What are you asking for?", "您要提出什么请求？"),
    "kind_erasure": ("Erase my personal data", "删除我的个人数据"),
    "kind_erasure_hint": (
        "We delete your data. Records the law makes us keep are stripped of your personal "
        "details, and you receive a signed certificate listing them.",
        "我们将删除您的数据。法律要求保留的记录会去除您的个人信息，您将收到一份列明这些记录的签名证明。",
    ),
    "open_orders_warning": (
        "Is an order still on its way? Erasing takes its delivery address and phone number "
        "too, so it may not reach you, and a return or refund needs you to contact us. Wait "
        "until everything has arrived, unless you want that.",
        "还有订单在配送途中吗？删除也会删去其收货地址和手机号码，订单可能无法送达，退货或退款需要您"
        "联系我们。除非您希望如此，请等所有订单送达后再提交。",
    ),
    "sum_open": (
        "{n} of these orders were not yet delivered or completed: their delivery details were "
        "erased too, so we can no longer deliver them by those details. Contact us about them.",
        "其中 {n} 个订单尚未送达或完成：其收货信息也已删除，我们无法再按这些信息配送。请就这些订单"
        "联系我们。",
    ),
    "kind_access": ("Send me a copy of my data", "给我一份我的数据副本"),
    "kind_access_hint": (
        "You can read everything we hold about you, order by order, on a page, and "
        "download it as a JSON file.",
        "您可以在网页上按订单查看我们持有的关于您的全部数据，也可以下载为 JSON 文件。",
    ),
    "contact_label": ("Phone number or e-mail address", "手机号码或电子邮箱"),
    "contact_hint": (
        "The one you gave with the order. We never show it back to you on this page.",
        "请填写下单时留下的联系方式。本页面不会回显您填写的内容。",
    ),
    "order_label": ("Order number", "订单号"),
    "order_hint": (
        "As shown in your order confirmation, for example WEB-10001.",
        "即订单确认中显示的编号，例如 WEB-10001。",
    ),
    "submit": ("Send request", "提交请求"),
    "lookup_heading": ("Check an existing request", "查询已有请求"),
    "lookup_intro": (
        "Enter the request id and the status token you were given when you made the request.",
        "请输入提交请求时获得的请求编号和状态令牌。",
    ),
    "lookup_id_label": ("Request id", "请求编号"),
    "lookup_token_label": ("Status token", "状态令牌"),
    "lookup_submit": ("Show status", "查看状态"),
    "remembered": ("A request is remembered on this device.", "此设备上保存有一个请求。"),
    "remembered_link": ("Show its status", "查看其状态"),
    # --- status page --------------------------------------------------------------
    "status_title": ("Your request", "您的请求"),
    "keep_heading": ("Keep these two values", "请保存以下两项"),
    "copy_token": ("Copy the status token", "复制状态令牌"),
    "follow_title": ("Open your request", "打开您的请求"),
    "follow_intro": (
        "Enter the request id and the return code from the message we sent when you "
        "confirmed your request (the link in it fills them in).",
        "请输入您确认请求时我们发送的消息中的请求编号和返回码（点击其中的链接会自动填写）。",
    ),
    "follow_code_label": ("Return code", "返回码"),
    "follow_submit": ("Open my request", "打开我的请求"),
    "follow_new_token": (
        "A return code works once. Opening the request gives you a new status token and the "
        "old one stops working.",
        "返回码只能使用一次。打开请求后您将获得新的状态令牌，旧的令牌随即失效。",
    ),
    "err.follow": (
        "This return code was used already, has expired, or does not belong to this request. "
        "Use your request id and status token instead, or make a new request.",
        "此返回码已被使用、已过期或不属于此请求。请改用请求编号和状态令牌，或提交新的请求。",
    ),
    "err.return_code": ("Enter the return code from the message.", "请输入消息中的返回码。"),
    "copied": ("Copied.", "已复制。"),
    "keep_advice": (
        "You need both to follow your request from another device, or after you make this "
        "device forget it. This is the only time the status token is shown: copy it somewhere "
        "safe. Do not share it: anyone who has it can see this request and download its "
        "documents.",
        "在其他设备上查询请求、或让本设备忘记请求后再次查询时，都需要这两项。状态令牌只显示这一次，"
        "请妥善保存。请勿告诉他人：任何持有它的人都能查看此请求并下载相关文件。",
    ),
    "request_id": ("Request id", "请求编号"),
    "status_token": ("Status token", "状态令牌"),
    "kind": ("Request", "请求类型"),
    "kind.erasure": ("Erasure of my data", "删除我的数据"),
    "kind.access": ("Copy of my data", "我的数据副本"),
    "state": ("State", "状态"),
    "received_at": ("Received", "收到时间"),
    "verified_at": ("Confirmed", "确认时间"),
    "started_at": ("Work started", "开始处理"),
    "completed_at": ("Completed", "完成时间"),
    "target_at": ("Our target", "我们的目标时间"),
    "deadline_at": ("Legal deadline", "法定期限"),
    "gdpr_extended": (
        "Extended by our data protection officer (GDPR Art. 12(3)). Reason:",
        "已由我们的数据保护官延期（GDPR 第 12(3) 条）。理由：",
    ),
    "pipl_fixed": ("This deadline cannot be extended.", "此期限不可延长。"),
    "deadlines_which": (
        "Both clocks run and we answer by the earlier one: the GDPR deadline where EU law "
        "applies to your data, the PIPL deadline where Chinese law does.",
        "两个期限同时计算，我们以较早者为准：适用欧盟法律时为 GDPR 期限，适用中国法律时为"
        "《个人信息保护法》期限。",
    ),
    "awaiting_review": (
        "Our data protection officer reviews every confirmed request before work starts. "
        "The deadlines below keep running meanwhile.",
        "我们的数据保护官会在开始处理前审核每一项已确认的请求。审核期间，下列期限照常计算。",
    ),
    "rejection_reason": ("Reason for rejection", "拒绝理由"),
    "rejection_rights": (
        "If you disagree, you may lodge a complaint with a data protection supervisory "
        "authority and seek a judicial remedy (GDPR Art. 12(4)). We sent you this reason too.",
        "如有异议，您可以向履行个人信息保护职责的部门投诉、举报，也可以依法向人民法院提起诉讼"
        "（《个人信息保护法》第五十条）。我们也已将此理由发送给您。",
    ),
    "steps_heading": ("Work done", "已完成的步骤"),
    "no_steps": ("Nothing yet.", "暂无。"),
    "code_heading": ("Confirm with your code", "用验证码确认"),
    "code_intro": (
        "If the contact you gave belongs to the order, we sent a 6-digit code to it. Enter it "
        "here; it is valid for a limited time.",
        "如果您填写的联系方式与该订单相符，我们已向其发送 6 位验证码。请在有效期内在此输入。",
    ),
    "code_label": ("6-digit code", "6 位验证码"),
    "code_submit": ("Confirm", "确认"),
    "done_open_orders": (
        "{n} of your orders were not yet delivered or completed when their data was erased: "
        "their delivery details went too. Contact us about them.",
        "删除数据时，您有 {n} 个订单尚未送达或完成：其收货信息也已删除。请就这些订单联系我们。",
    ),
    "documents_heading": ("Your documents", "您的文件"),
    "certificate_html": ("Erasure certificate (printable page)", "删除证明（可打印页面）"),
    "certificate_json": ("Signed certificate (JSON file)", "签名证明（JSON 文件）"),
    "export_link": ("Download a copy of my data (JSON file)", "下载我的数据副本（JSON 文件）"),
    "copy_link": ("Read a copy of my data (page)", "查看我的数据副本（网页）"),
    # --- the access copy, as a page (GDPR Art. 15: in an intelligible form) -----------
    "copy_title": ("A copy of your data", "您的数据副本"),
    "copy_intro": (
        "Everything we hold about you, order by order, as it was when your request ran: the "
        "JSON file holds the same, for other programs. Made",
        "我们保存的关于您的全部数据，按订单列出，为您的请求执行时的内容；JSON 文件包含相同内容，"
        "可供其他程序使用。生成时间：",
    ),
    "copy_orders": ("Your orders ({n})", "您的订单（{n} 个）"),
    "copy_order": ("Order", "订单"),
    "copy_requests": ("Your privacy requests", "您的隐私请求"),
    "copy_systems": (
        "What our other systems hold about you, as each stores it",
        "我们的其他系统保存的您的数据（按各系统的存储形式）",
    ),
    "copy_system_rows": ("{n} record(s)", "{n} 条记录"),
    "copy_system_manual": (
        "Kept on paper or by a partner: sent to you separately (reference {ref}).",
        "以纸质形式或由合作方保存：将另行提供给您（编号 {ref}）。",
    ),
    "copy_accesses": ("Who read your data ({n} times)", "谁查看过您的数据（{n} 次）"),
    "copy_accesses_intro": (
        "Each time our staff or systems read your orders, from our tamper-evident log.",
        "我们的员工或系统每次读取您订单的记录，来自我们的防篡改日志。",
    ),
    "copy_when": ("When", "时间"),
    "copy_who": ("Who", "读取者"),
    "copy_what": ("What", "操作"),
    "copy_purpose": ("Purpose given", "说明的目的"),
    "field.order_id": ("Our reference", "系统编号"),
    "field.external_id": ("Order number", "订单号"),
    "field.channel": ("Where you ordered", "下单渠道"),
    "field.region": ("Region", "地区"),
    "field.status": ("Status", "状态"),
    "field.created_at": ("Ordered", "下单时间"),
    "field.customer.name": ("Name", "姓名"),
    "field.customer.phone": ("Phone number", "手机号码"),
    "field.customer.email": ("E-mail address", "电子邮箱"),
    "field.customer.id_number": ("Identity number", "身份证件号码"),
    "field.shipping_address.province": ("Province", "省"),
    "field.shipping_address.city": ("City", "市"),
    "field.shipping_address.district": ("District", "区"),
    "field.shipping_address.detail": ("Street address", "详细地址"),
    "field.shipping_address.postal_code": ("Postal code", "邮政编码"),
    "field.total_amount": ("Total", "总金额"),
    "field.currency": ("Currency", "币种"),
    "field.payment.method": ("Payment method", "支付方式"),
    "field.payment.transaction_id": ("Payment reference", "支付流水号"),
    "field.note": ("Your note", "备注"),
    "field.gift_message": ("Gift message", "赠言"),
    "field.item.sku": ("Item code", "商品编码"),
    "field.item.name": ("Item", "商品"),
    "field.item.quantity": ("Quantity", "数量"),
    "field.item.unit_price": ("Unit price", "单价"),
    "status.pending": ("awaiting payment", "待付款"),
    "status.paid": ("paid", "已付款"),
    "status.shipped": ("on its way", "配送中"),
    "status.delivered": ("delivered", "已送达"),
    "status.completed": ("completed", "已完成"),
    "status.cancelled": ("cancelled", "已取消"),
    "status.refunded": ("refunded", "已退款"),
    "export_gone": (
        "The copy of your data is no longer available: downloads are kept for a limited time.",
        "您的数据副本已不可下载：下载文件只保留有限时间。",
    ),
    "refresh": ("Refresh the status", "刷新状态"),
    "forget_hint": (
        "This removes the request from this browser only. The request itself goes on; you can "
        "find it again with its id and status token.",
        "这只会从本浏览器中移除此请求，请求本身仍会继续处理；您可以凭请求编号和状态令牌再次查询。",
    ),
    "forget": ("Forget this request on this device", "在此设备上忘记此请求"),
    "state.received": ("Waiting for your code", "等待验证码"),
    "state.verified": ("Verified", "已验证"),
    "state.in_progress": ("In progress", "处理中"),
    "state.completed": ("Completed", "已完成"),
    "state.rejected": ("Rejected", "已拒绝"),
    "state.on_hold": ("On hold", "暂停处理"),
    "state.expired": ("Expired", "已过期"),
    "state_help.received": (
        "Enter the code we sent to confirm the request.",
        "请输入我们发送的验证码以确认请求。",
    ),
    "state_help.verified": (
        "Your request is confirmed and queued. We work on it before our target time.",
        "您的请求已确认并排队等候处理，我们会在目标时间之前处理。",
    ),
    "state_help.in_progress": ("We are working on your request.", "我们正在处理您的请求。"),
    "state_help.completed": ("Your request is done.", "您的请求已处理完毕。"),
    "state_help.rejected": ("We could not carry out this request.", "我们无法执行此请求。"),
    "state_help.on_hold": (
        "The request is paused, for example because the law requires us to keep the data for "
        "now. It resumes when the reason ends.",
        "请求已暂停，例如法律暂时要求我们保留这些数据。原因消除后将继续处理。",
    ),
    "state_help.expired": (
        "The request was never confirmed in time. Please make a new request.",
        "该请求未在期限内确认，请重新提交。",
    ),
    "step.free_text": ("Free-text notes removed", "已删除备注等自由文本"),
    "step.orders": ("Orders deleted or anonymised", "订单已删除或匿名化"),
    "step.blind_index": ("Search index entries deleted", "搜索索引条目已删除"),
    "step.contact_traces": ("Messages and traces of your contact deleted", "联系方式的痕迹已删除"),
    "step.vault": (
        "Your details we held for our order system destroyed",
        "我们为订单系统代管的您的信息已销毁",
    ),
    "step.data_key": ("Your encryption key destroyed", "您的加密密钥已销毁"),
    "step.verification": ("Checked again that nothing is left", "已复查无残留"),
    "step.export": ("Copy of your data prepared", "数据副本已准备好"),
    # --- certificate --------------------------------------------------------------
    "cert_title": ("Erasure certificate", "个人数据删除证明"),
    "cert_intro": (
        "This page shows the signed certificate of your erasure request. The signed JSON file "
        "is the authoritative version; statements quoted from it are in English.",
        "本页显示您的删除请求的签名证明。签名的 JSON 文件为正式版本；其中引用的说明原文为英文，"
        "此处附中文译文。",
    ),
    "print_hint": (
        "To print or save it as PDF, use your browser's Print command (A4).",
        "如需打印或保存为 PDF，请使用浏览器的“打印”功能（A4 纸）。",
    ),
    "cert_summary": ("The request", "请求信息"),
    "sum_heading": ("In short", "简要说明"),
    "sum_erased_heading": ("What we erased", "我们删除了什么"),
    "sum_erased": (
        "We erased the personal data of the {n} order record(s) that carry your contact.",
        "我们删除了带有您联系方式的 {n} 条订单记录中的个人信息。",
    ),
    "sum_anonymised": (
        "Of these, {n} record(s) stay, without anything that identifies you, because a law "
        "requires the records themselves (below).",
        "其中 {n} 条因法律要求保留记录本身，已去除所有可识别您的信息后保留（见下文）。",
    ),
    "sum_key": (
        "The key that encrypted your data was destroyed: no copy of it in this system can be "
        "read again.",
        "加密您数据的密钥已销毁：本系统中的任何副本都无法再被读取。",
    ),
    "sum_kept_heading": ("What we kept, until when, and why", "我们保留了什么、保留多久、为什么"),
    "sum_kept_none": (
        "Nothing: no law required us to keep any of it.",
        "无：没有法律要求我们保留任何记录。",
    ),
    "sum_kept_records": ("{n} record(s)", "{n} 条记录"),
    "sum_kept_only": ("Only", "仅保留"),
    "sum_kept_readable": ("Readable only by staff in the role", "仅可查阅的员工角色"),
    "sum_kept_until": ("Kept until", "保留至"),
    "sum_kept_because": ("Because the law requires it", "法律依据"),
    "sum_complain_heading": ("If you disagree", "如有异议"),
    "sum_ask_us": ("To ask us about it, write to", "如需咨询，请联系"),
    "sum_complain": (
        "You may also lodge a complaint with a data protection supervisory authority (GDPR "
        "Art. 77) or, under Chinese law, complain to the authorities that protect personal "
        "information or sue in a people's court (PIPL Art. 50).",
        "您也可以向履行个人信息保护职责的部门投诉、举报，或依法向人民法院提起诉讼（《个人信息保护法》"
        "第五十条）；在欧盟，可以向数据保护监管机构投诉（GDPR 第 77 条）。",
    ),
    "sum_evidence_heading": ("The evidence", "技术证据"),
    "sum_evidence_intro": (
        "What follows is what the certificate signs, for you or anyone you show it to.",
        "以下为本证明所签署的内容，供您或您出示证明的对象核查。",
    ),
    "category.order_reference": ("order reference", "订单标识"),
    "category.operational": (
        "processing details (channel, region, status, times)",
        "处理信息（渠道、地区、状态、时间）",
    ),
    "category.name": ("name", "姓名"),
    "category.contact": ("contact details", "联系方式"),
    "category.government_id": ("identity number", "身份证件号码"),
    "category.location_precise": ("street address", "详细地址"),
    "category.location_coarse": ("province, city, district", "省市区"),
    "category.purchase": ("items bought and their prices", "购买的商品及价格"),
    "category.payment_reference": ("payment reference", "支付流水号"),
    "category.payment_method": ("payment method", "支付方式"),
    "category.free_text": ("notes and gift messages", "备注和赠言"),
    "certificate_id": ("Certificate id", "证明编号"),
    "subject_pseudonym": ("Data subject (pseudonym)", "数据主体（假名）"),
    "issued_at": ("Issued", "签发时间"),
    "deadlines_heading": ("Deadlines", "期限"),
    "deadline": ("Deadline", "期限"),
    "date": ("Date", "日期"),
    "met": ("Met?", "是否按期"),
    "met_yes": ("met", "已按期完成"),
    "met_no": ("missed", "已逾期"),
    "target": ("Our target", "我们的目标时间"),
    "legal_deadline": ("Legal deadline (earliest)", "法定期限（最早）"),
    "gdpr_deadline": ("GDPR deadline", "GDPR 期限"),
    "pipl_deadline": ("PIPL deadline", "《个人信息保护法》期限"),
    "extension_reason": ("Reason for extension", "延期理由"),
    "laws_heading": ("Laws applied", "适用法律"),
    "scope_heading": ("Scope", "范围"),
    "stores_searched": ("Places searched", "已检查的位置"),
    "excluded_heading": ("Not searched, and why", "未检查的位置及原因"),
    "store": ("Store", "存储位置"),
    "reason": ("Reason", "原因"),
    "cert_steps_heading": ("What was done", "执行的操作"),
    "step": ("Step", "步骤"),
    "action": ("Action", "操作"),
    "records": ("Records", "记录数"),
    "method": ("Method", "方法"),
    "finished_at": ("Finished", "完成时间"),
    "deleted_n": ("{n} deleted", "删除 {n} 条"),
    "anonymised_n": ("{n} anonymised", "匿名化 {n} 条"),
    "systems_heading": ("In every system that held your data", "在保存您数据的每个系统中"),
    "sum_systems": (
        "It was also erased in {n} other system(s) that held it: {names}.",
        "同时已在保存您数据的其他 {n} 个系统中删除：{names}。",
    ),
    "list_sep": (", ", "、"),
    "system": ("System", "系统"),
    "system_owner": ("Responsible", "负责人"),
    "system_done": ("What was done", "处理结果"),
    "system_evidence": ("Evidence", "证据"),
    "result.erased": ("erased", "已删除"),
    "result.excluded": ("not applicable", "不适用"),
    "result.anonymised": ("anonymised", "已匿名化"),
    "result.nothing_found": ("nothing found", "未发现相关记录"),
    "result.not_reached": ("not reached", "未处理"),
    "found_n": ("{n} found", "找到 {n} 条"),
    "kept_n": ("{n} kept under {rule} until {until}", "按 {rule} 保留 {n} 条，至 {until}"),
    "searched_again": ("searched again: nothing found", "再次搜索：未发现"),
    "searched_found": ("searched again: still found", "再次搜索：仍发现"),
    "receipt": ("the system's receipt", "系统回执"),
    "recorded_by": (
        "recorded by {who} on {day}, reference {ref}",
        "由 {who} 于 {day} 记录，编号 {ref}",
    ),
    "method.sql": ("database, by the gateway", "数据库（由网关执行）"),
    "method.webhook": ("the system's signed answer", "系统的签名答复"),
    "method.manual": ("by a person", "人工处理"),
    "method.gateway": ("this gateway's store", "本网关的存储"),
    "retained_heading": ("Records kept by law", "依法保留的记录"),
    "retained_none": ("None.", "无。"),
    "rule": ("Rule", "规则"),
    "citation": ("Legal basis", "法律依据"),
    "categories_kept": ("What is kept", "保留的内容"),
    "readable_by": ("Readable by", "可查阅者"),
    "until": ("Kept until", "保留至"),
    "backups_heading": ("Backups", "备份"),
    "not_covered_heading": ("What this certificate does not cover", "本证明不涵盖的内容"),
    "chain_heading": ("Audit log", "审计日志"),
    "chain_seq": ("Chain head: entry number", "链头：条目序号"),
    "chain_hash": ("Chain head: hash", "链头：哈希值"),
    "signature_heading": ("Signature", "签名"),
    "issuer": ("Issuer", "签发者"),
    "key_id": ("Key id", "密钥编号"),
    "algorithm": ("Algorithm", "算法"),
    "signature_value": ("Signature value", "签名值"),
    "verify_heading": ("How to verify this certificate", "如何验证本证明"),
    "verify_text": (
        "Anyone you show it to can check that this certificate is genuine and unaltered: the "
        "signed file (JSON) is checked against the shop's published signing key and against "
        "its tamper-evident audit log.",
        "您出示本证明的任何对象都可以核实其真实且未被篡改：签名文件（JSON）将与商家公布的签名密钥"
        "及其防篡改审计日志进行核对。",
    ),
    "verify_link": ("Check a certificate", "验证证明"),
    "verify_print": (
        "To check it: open the privacy page of the shop's website, /privacy/check, and paste "
        "or upload the signed file.",
        "验证方法：打开商家网站的隐私页面 /privacy/check，粘贴或上传签名文件。",
    ),
    # --- checking a certificate ------------------------------------------------------
    "check_title": ("Check an erasure certificate", "验证删除证明"),
    "check_intro": (
        "Paste the signed certificate (the JSON file, as downloaded) or choose the file. It is "
        "checked here, on the server, against this shop's signing key and audit log; nothing "
        "you send is kept.",
        "粘贴签名证明（下载的 JSON 文件内容），或选择该文件。证明将在服务器上与本商家的签名密钥和"
        "审计日志核对；您提交的内容不会被保存。",
    ),
    "check_paste": ("Certificate (JSON)", "证明（JSON）"),
    "check_file": ("Or choose the file", "或选择文件"),
    "check_submit": ("Check", "验证"),
    "check_valid": ("Genuine: this certificate was signed by", "真实：本证明由以下机构签署："),
    "check_valid_log": (
        "and the audit log entry it names is in this shop's log. It was not altered.",
        "其所列的审计日志条目存在于本商家的日志中。证明未被篡改。",
    ),
    "check_invalid": ("Not genuine, or altered:", "不真实或已被篡改："),
    "check_for_request": ("Request", "请求"),
    "err.certificate": (
        "Paste the certificate's JSON, or choose its file (at most 256 KB).",
        "请粘贴证明的 JSON 内容，或选择其文件（不超过 256 KB）。",
    ),
    # --- objection page -----------------------------------------------------------
    "object_title": ("Object to a request", "对请求提出异议"),
    "object_intro": (
        "You received a message that someone confirmed a request about orders that also carry "
        "your phone number or e-mail address. If you did not expect it, enter the objection "
        "code from that message: the request is put on hold, and our data protection officer "
        "looks at it before anything more is done.",
        "您收到消息称，有人确认了一项涉及同样留有您手机号码或电子邮箱的订单的请求。如非您所预期，"
        "请输入消息中的异议码：该请求将被暂停，由我们的数据保护官审核后再作处理。",
    ),
    "object_code_label": ("Objection code", "异议码"),
    "object_code_hint": (
        "20 letters and digits, as in the message (dashes and spaces do not matter).",
        "消息中的 20 位字母和数字（横线和空格可忽略）。",
    ),
    "object_submit": ("Object", "提出异议"),
    "object_done_held": (
        "Thank you. The request is on hold; our data protection officer will look at it.",
        "谢谢。该请求已暂停，我们的数据保护官将进行审核。",
    ),
    "object_done_recorded": (
        "Thank you. The request had already been carried out; your objection was recorded "
        "for our data protection officer.",
        "谢谢。该请求此前已执行完毕；您的异议已记录，并转交我们的数据保护官。",
    ),
    "err.objection_code": (
        "This code is not right, or it was used already. Check the message and try again.",
        "异议码不正确或已被使用。请核对消息后重试。",
    ),
    # --- errors -------------------------------------------------------------------
    "error_title": ("Sorry", "抱歉"),
    "err.kind": ("Choose what you are asking for.", "请选择请求类型。"),
    "err.contact": (
        "Enter the phone number or e-mail address given with the order.",
        "请填写下单时留下的手机号码或电子邮箱。",
    ),
    "err.order_id": (
        "Enter the order number (letters, digits and . _ : - only, at most 64).",
        "请填写订单号（仅限字母、数字和 . _ : -，最多 64 个字符）。",
    ),
    "err.code": ("Enter the 6 digits of the code.", "请输入 6 位数字验证码。"),
    "err.request_id": ("Enter the request id.", "请填写请求编号。"),
    "err.status_token": ("Enter the status token.", "请填写状态令牌。"),
    "err.not_found": (
        "We found no request with this request id and status token.",
        "找不到与此请求编号和状态令牌相符的请求。",
    ),
    "err.no_request": (
        "No request is remembered on this device. Make one, or check an existing one below.",
        "此设备上没有保存的请求。请提交新请求，或在下方查询已有请求。",
    ),
    "err.code_rejected": (
        "This code is not right, or it has expired. Check the message and try again; after "
        "too many wrong codes the request is locked.",
        "验证码不正确或已过期。请核对消息后重试；错误次数过多时请求将被锁定。",
    ),
    "err.code_locked": (
        "Too many wrong codes: this request can no longer be confirmed. Please make a new "
        "request to receive a new code.",
        "验证码错误次数过多，此请求已无法确认。请重新提交请求以获取新的验证码。",
    ),
    "err.rate_limited": (
        "Too many requests. Please try again in about {n} minutes.",
        "请求过于频繁，请约 {n} 分钟后再试。",
    ),
    "err.not_waiting": (
        "This request is no longer waiting for a code.",
        "此请求已不再等待验证码。",
    ),
    "err.no_certificate": ("This request has no certificate (yet).", "此请求（尚）无删除证明。"),
    "err.no_export": (
        "There is no copy of your data to download (not ready yet, or no longer kept).",
        "没有可下载的数据副本（尚未准备好，或已不再保留）。",
    ),
    "err.cross_site": (
        "This form must be sent from this site's own page.",
        "此表单只能从本网站的页面提交。",
    ),
    "err.unavailable": (
        "The service is unavailable for a moment; nothing was changed. Please try again shortly.",
        "服务暂时不可用，未做任何更改。请稍后再试。",
    ),
    "err.bad_request": (
        "This request could not be understood; nothing was changed.",
        "无法处理此请求，未做任何更改。",
    ),
    "err.internal": (
        "Something went wrong on our side; nothing was changed. Please try again later.",
        "我们这边出现了问题，未做任何更改。请稍后再试。",
    ),
}

TEXT: Mapping[str, Mapping[str, str]] = {
    lang: {key: pair[index] for key, pair in _ENTRIES.items()}
    for index, lang in enumerate(LANGUAGES)
}

# Fixed statements of the signed certificate (English there), translated for reading.
_STATEMENTS_ZH = {
    certificate.NOT_A_CERTIFICATE: "不是证明：缺少 certificate 和 signature 两部分",
    certificate.WRONG_FORMAT: f"不是 {certificate.FORMAT} 格式的证明",
    certificate.WRONG_ALGORITHM: f"签名算法必须为 {certificate.ALGORITHM}",
    certificate.UNDECODABLE: "签名或证明无法解码",
    certificate.UNKNOWN_KEY: "由未知密钥签署（key_id 与本商家的公钥不符）",
    certificate.NO_CHAIN_HEAD: "证明未列出审计链头",
    certificate.VALID: "签名有效",
    certificate.ALTERED: "签名不符：证明已被篡改",
    certificate.NOT_IN_LOG: "证明所列的审计链头不在本商家的日志中",
    certificate.BACKUPS: (
        "完成之前制作的数据库副本（备份）中仍有该数据主体的密文及其数据密钥，后者由 data_key "
        "步骤所列版本的密钥加密密钥（KEK）封装。运营方停用该 KEK 版本（轮换 KEK 后删除旧版本）"
        "后，这些副本将无法再解密；备份按运营方的备份保留期限到期。"
        "本数据库中已不存有该数据密钥。"
    ),
    certificate.NOT_COVERED: (
        "本证明仅涵盖本网关订单存储中保存的数据，不涵盖其外部的副本：销售渠道和电商平台的系统、"
        "支付和物流服务商、与客服的邮件或聊天记录、纸质记录，以及在请求之前由应用导出的数据。"
        "此处列出的保留记录将在保留期届满时删除。"
    ),
    certificate.NOT_COVERED_CHAIN: (
        "本证明涵盖本网关订单存储以及下方 systems 所列系统中保存的数据（以经审核的系统清单为准），"
        "并载明各系统所做的处理。不涵盖系统清单未列出的系统、其之外与客服的邮件或聊天记录，"
        "以及在请求之前由应用导出的数据。此处列出的保留记录将在保留期届满时删除。"
    ),
    certificate.AUDIT_LOG_REASON: (
        "不含个人信息值：数据主体仅以带密钥的假名出现（去标识化数据，没有网关的密钥即无意义）；"
        "为履行问责义务（GDPR 第 5(2) 条、《个人信息保护法》第五十四条）并防篡改而保留"
    ),
    certificate.FREE_TEXT_DETECTED: (
        "未与此数据主体的联系方式比对：这些文本以其他顾客各自的密钥加密；写入时在其中发现的个人信息"
        "在任何显示之处均已遮蔽"
    ),
    certificate.FREE_TEXT_UNDETECTED: (
        "未与此数据主体的联系方式比对：这些文本以其他顾客各自的密钥加密；本网关关闭了自由文本检测"
        "（GATEWAY_PII_DETECTION=false），因此这些文本在任何显示之处均整体遮蔽"
    ),
}


def statement(text: str, lang: str) -> str:
    """A fixed certificate statement in the reader's language (unknown text: as signed)."""
    return _STATEMENTS_ZH.get(text, text) if lang == "zh" else text


def choose_language(chosen: str | None, remembered: str | None, accept: str | None) -> str:
    """`?lang=`, else the `opg_lang` cookie, else the best Accept-Language: zh* is Chinese."""
    for value in (chosen, remembered):
        if value in LANGUAGES:
            return value
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for part in (accept or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        tag = tag.strip().lower()
        if tag and q > best_q:
            best, best_q = ("zh" if tag.startswith("zh") else "en"), q
    return best
