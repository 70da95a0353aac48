"""Every text a data subject is sent, in one place, in their language.

A request made on the page remembers the page's language; one made through the API
may name it (`lang`). With no language known (an API request that named none, or the
other contacts of an order, whose language nobody asked) a notice comes in Chinese
then English. Each text is signed with the shop's name, privacy notice and contact
(`Voice`), and its times read in the reader's zone with the zone named. A DPO's reason
is sent as written; only the fixed text around it is translated.
"""

from __future__ import annotations

from datetime import datetime

from gateway.privacy.model.states import Kind
from gateway.privacy.notify.voice import Voice

Pair = tuple[str, str]  # (English, Chinese)


def _compose(voice: Voice, lang: str | None, *parts: Pair) -> str:
    """The parts in the reader's language (or Chinese, then English), then the sign-off."""
    langs = ("zh", "en") if lang not in ("en", "zh") else (lang,)
    blocks = []
    for each in langs:
        body = "".join(en if each == "en" else zh for en, zh in parts)
        blocks.append(f"{body}\n{_signed(voice, each)}".rstrip())
    return "\n\n".join(blocks)


def _signed(voice: Voice, lang: str) -> str:
    shop = voice.controller
    parts = [part for part in (shop.name(lang), shop.privacy_notice, shop.contact) if part]
    return ("— " + " · ".join(parts)) if parts else ""


def code_text(voice: Voice, lang: str | None, kind: Kind, code: str, minutes: int) -> str:
    what: Pair = (
        ("erase your personal data", "删除您的个人信息")
        if kind is Kind.ERASURE
        else ("send you a copy of your personal data", "获取您的个人信息副本")
    )
    return _compose(
        voice,
        lang,
        (
            f"Your code: {code} (valid {minutes} minutes), ",
            f"您的验证码：{code}（{minutes}分钟内有效），",
        ),
        (f"to confirm the request to {what[0]}. ", f"用于确认请求：{what[1]}。"),
        (
            "Never share this code; if you did not ask, ignore this message.",
            "请勿将验证码告诉任何人；如非本人操作，请忽略本消息。",
        ),
    )


def confirmation_text(
    voice: Voice, lang: str | None, kind: Kind, request_id: str, return_code: str
) -> str:
    """Sent to the verified contact: how to come back to the request after the tab is
    closed. It carries a one-time return code, never the status token; in the link the
    code sits after `#`, which never reaches a server or a log."""
    what: Pair = ("erasure", "删除") if kind is Kind.ERASURE else ("copy of your data", "数据副本")
    where: Pair = ("the shop's privacy page /privacy/follow", "商家的隐私页面 /privacy/follow")
    if voice.public_url is not None:
        link = f"{voice.public_url}/privacy/follow#{request_id}:{return_code}"
        where = (
            f"{link} (or {voice.public_url}/privacy/follow",
            f"{link}（或 {voice.public_url}/privacy/follow",
        )
    closing: Pair = (")", "）") if voice.public_url is not None else ("", "")
    return _compose(
        voice,
        lang,
        (
            f"Your privacy request ({what[0]}) is confirmed. To come back to it later, open ",
            f"您的隐私请求（{what[1]}）已确认。如需稍后查看，请打开 ",
        ),
        where,
        (
            f" and enter request id {request_id} and return code {return_code}",
            f" 并输入请求编号 {request_id} 和返回码 {return_code}",
        ),
        closing,
        (
            ". The code works once, for 30 days, and gives you a new status token. Never share it.",
            "。返回码可使用一次，30 天内有效，使用后您将获得新的状态令牌。请勿告诉他人。",
        ),
    )


def objection_text(
    voice: Voice, kind: Kind, verified_kind: str, until: datetime | None, code: str
) -> str:
    """What the other contacts of the records read: what happened, and how to object.
    Their language is unknown, so it comes in both."""
    what: Pair = ("erase", "删除") if kind is Kind.ERASURE else ("send a copy of", "获取副本")
    by: Pair = ("phone number", "手机号") if verified_kind == "phone" else ("e-mail", "邮箱")
    when: Pair = ("", "")
    if until is not None:
        when = (
            f" It runs after {voice.time(until, 'en')} unless someone objects before.",
            f"该请求将于 {voice.time(until, 'zh')} 之后执行，此前可提出异议。",
        )
    return _compose(
        voice,
        None,
        (
            f"A privacy request to {what[0]} the data of orders that also carry your contact "
            f"was confirmed through another {by[0]}.",
            f"有人通过另一{by[1]}验证了一项隐私请求：{what[1]}含有您联系方式的订单数据。",
        ),
        when,
        (
            f" If you did not expect this, enter the objection code {code} on the privacy "
            "page (/privacy/object): the request is put on hold for the data protection "
            "officer.",
            f"如非您本人或家人所为，请在隐私页面 /privacy/object 输入异议码 {code}，"
            "请求将暂停并交由数据保护官审核。",
        ),
    )


def extension_text(
    voice: Voice,
    lang: str | None,
    *,
    reason: str,
    gdpr_before: datetime,
    gdpr_after: datetime,
    pipl: datetime,
) -> str:
    """GDPR Art. 12(3): the new deadline and why. The PIPL deadline cannot move, and the
    notice says so, as the status page does."""
    t = voice.time
    return _compose(
        voice,
        lang,
        (
            f"The GDPR deadline of your privacy request was extended from "
            f"{t(gdpr_before, 'en')} to {t(gdpr_after, 'en')} (GDPR Art. 12(3)). ",
            f"您的隐私请求的 GDPR 处理期限已由 {t(gdpr_before, 'zh')} 延长至 {t(gdpr_after, 'zh')}"
            "（GDPR 第 12(3) 条）。",
        ),
        (f"Reason: {reason}\n", f"理由：{reason}\n"),
        (
            f"The PIPL deadline, {t(pipl, 'en')}, cannot be extended and still applies "
            "where Chinese law applies to your data.",
            f"《个人信息保护法》规定的期限 {t(pipl, 'zh')} 不可延长，适用中国法律时仍以此为准。",
        ),
    )


def rejection_text(voice: Voice, lang: str | None, reason: str) -> str:
    """GDPR Art. 12(4), PIPL Art. 50: the reason, and where to turn if they disagree."""
    return _compose(
        voice,
        lang,
        (
            f"Your privacy request was rejected. Reason: {reason}\n",
            f"您的隐私请求已被拒绝。原因：{reason}\n",
        ),
        (
            "If you disagree, you may lodge a complaint with a data protection supervisory "
            "authority and seek a judicial remedy (GDPR Art. 12(4)); under Chinese law you "
            "may complain to the authorities that protect personal information or sue in a "
            "people's court (PIPL Art. 50).",
            "如有异议，您可以向履行个人信息保护职责的部门投诉、举报，也可以依法向人民法院提起诉讼"
            "（《个人信息保护法》第五十条）；在欧盟，您可以向数据保护监管机构投诉并寻求司法救济"
            "（GDPR 第 12(4) 条）。",
        ),
    )
