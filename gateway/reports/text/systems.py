"""Words for the systems map in the reports (policies/systems.toml): its section, its
columns, what an erasure does to a field, and its gaps, in English and Chinese.
"""

from __future__ import annotations

SYSTEMS: dict[str, tuple[str, str]] = {
    "section.systems": ("Systems that hold personal data", "存储个人信息的系统"),
    "fact.controller_country": (
        "Controller's country (where the gateway's own store runs)",
        "个人信息处理者所在国家（网关自有存储所在地）",
    ),
    "fact.system_transfers": ("Systems abroad", "境外系统"),
    "col.system": ("System", "系统"),
    "col.owner": ("Owner", "负责人"),
    "col.country": ("Country", "国家或地区"),
    "col.erasure": ("On erasure (personal fields)", "删除时的处理（个人信息字段）"),
    "col.activities": ("Activities taken to reach it", "可能涉及的处理活动"),
    "col.transfer_safeguards": (
        "Safeguards the record documents for the country",
        "记录中载明的向该国家传输的保障措施",
    ),
    "col.documented": ("Documented", "已载明"),
    # what an erasure does to a field of a system (the map's `erase`)
    "erase.delete_row": ("row deleted", "删除整行"),
    "erase.null": ("emptied", "清空"),
    "erase.mask": ("masked", "掩码处理"),
    "erase.keep": ("kept under a retention rule", "依保存规则保留"),
    "erase.none": ("not stated", "未规定"),
    # a system abroad among an activity's transfers
    "phrase.system_transfer": (
        "{country}: {name}, a system of the systems map.",
        "{country}：{name}，系统清单中的系统。",
    ),
    "phrase.system_undocumented": (
        "The record documents no transfer to this country.",
        "处理活动记录未载明向该国家的传输。",
    ),
    # gaps of the map
    "where.system": ("system", "系统"),
    "value.country": ("country", "所在国家"),
    "value.record_system_without_erasure": (
        "personal field of a system without erasure treatment",
        "系统中的个人信息字段未规定删除时的处理",
    ),
    "value.record_system_transfer_undocumented": (
        "system abroad without a documented transfer",
        "境外系统缺少已载明的跨境传输",
    ),
    "value.record_system_unplaced": (
        "where the gateway's own store runs is not stated",
        "未载明网关自有存储所在国家",
    ),
    "note.systems_rule": (
        "Every system of the systems map (policies/systems.toml), the gateway's own store first. The controller's country is where the own store runs; a system in another country is a transfer abroad, documented when the record documents a transfer to that country. The map does not say which activity feeds which system: an activity is taken to reach every system that holds one of its personal categories.",
        "系统清单（policies/systems.toml）中的全部系统，网关自有存储列于首位。个人信息处理者所在国家以自有存储所在地为准；位于其他国家的系统即为跨境传输，处理活动记录载明向该国家的传输时视为已载明。系统清单未说明各处理活动流向哪些系统：处理活动视为涉及存储其任一个人信息类别的所有系统。",
    ),
}
