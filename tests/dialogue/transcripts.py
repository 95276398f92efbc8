"""The intake flows as transcripts: (message, expected substrings of the replies), reusable over any channel.

Each turn's expected substrings must all appear in the turn's replies (rendered as plain text, choices as
"KEY label" lines); SILENT means no reply at all. Dates are relative ("3天前"), so they hold on any day.
"""

from __future__ import annotations

from typing import Final

SILENT: Final = None
Turn = tuple[str, tuple[str, ...] | None]

REPORT_ZH: list[Turn] = [
    ("你好", ("团圆", "1 登记走失孩子")),
    ("1", ("同意", "DNA")),
    ("同意", ("保存孩子和家人的信息",)),
    ("1", ("孩子叫什么名字",)),
    ("李小明", ("李小明是男孩还是女孩", "1 男孩", "2 女孩")),
    ("男", ("几岁",)),
    ("5岁", ("最后一次见到孩子",)),
    ("3天前", ("在哪里",)),
    ("广州火车站", ("穿着",)),
    ("穿红色外套，左脸有痣", ("您本人叫什么名字",)),
    ("王芳", ("您是孩子的", "1 妈妈")),
    ("1", ("请核对", "李小明", "男孩", "5岁", "广州火车站", "王芳", "1 确认")),
    ("1", ("案件号：MC-", "核对码", "不收钱", "现在预约")),
]
REPORT_EN: list[Turn] = [
    ("Hello", ("reunite", "1 Report a missing child")),
    ("1", ("DNA sample", "1 Yes", "2 No")),
    ("yes", ("family's details",)),
    ("1", ("child's full name",)),
    ("Li Ming", ("Is Li Ming a boy or a girl?",)),
    ("girl", ("How old",)),
    ("2019-03-02", ("Date of birth noted: 2 Mar 2019", "last see")),
    ("yesterday", ("Where was the child",)),
    ("Shenzhen bus station", ("Describe",)),
    ("skip", ("your own full name",)),
    ("Wang Wei", ("1 Mother", "2 Father", "3 Grandparent", "6 Other relative")),
    ("2", ("Please check", "Li Ming", "girl", "2 Mar 2019", "Shenzhen bus station", "Wang Wei (father)")),
    ("1", ("case number is MC-", "PIN", "Never pay", "Book a DNA sampling appointment now?")),
]
BOOK_AFTER_REPORT_ZH: list[Turn] = [
    ("1", ("哪个城市或省份",)),
    ("火星", ("没找到",)),
    ("广州", ("请选采血点", "1 演示采血点（广州）")),
    ("1", ("请选演示采血点（广州）的日期", "0 换采血点")),
    ("1", ("确定预约", "1 确认")),
    ("1", ("预约成功（案件MC-", "样本编号", "身份证", "演示采血点", "孩子的爸爸也能来采血吗？")),
    ("不用", ("好的。随时回复“查询”",)),
    ("查询", ("案件MC-", "已预约采血", "还没采")),
]
BOOK_AFTER_REPORT_EN: list[Turn] = [
    ("1", ("Which city or province",)),
    ("Guangdong", ("Choose a lab", "1 Demo sampling point (Guangzhou)")),
    ("1", ("Choose a day at Demo sampling point (Guangzhou)",)),
    ("1", ("Book Demo sampling point (Guangzhou)", "1 Confirm")),
    (
        "1",
        (
            "Booked for case MC-",
            "Sample code",
            "ID card",
            "DEMO lab",
            "Can the child's mother give a DNA sample too?",
        ),
    ),
    ("no", ("OK. Send STATUS at any time",)),
    ("STATUS", ("Case MC-", "sampling appointment booked", "not taken yet")),
]
RESCHEDULE_AND_CANCEL_EN: list[Turn] = [
    ("BOOK", ("Your appointment:", "1 Change it", "2 Cancel it", "3 Keep it")),
    ("1", ("Which city or province",)),
    ("Beijing", ("Demo sampling point (Beijing)",)),
    ("1", ("Choose a day",)),
    ("2", ("Book Demo sampling point (Beijing)",)),
    ("1", ("Booked for case MC-", "Beijing")),
    ("CANCEL", ("Cancel your appointment at Demo sampling point (Beijing)", "1 Yes, cancel")),
    ("2", ("stays as it is",)),
    ("BOOK", ("Your appointment:",)),
    ("2", ("Cancel your appointment",)),
    ("1", ("cancelled", "BOOK")),
    ("STATUS", ("open, waiting for a DNA sample", "send BOOK")),
]
REFUSAL_ZH: list[Turn] = [
    ("报失", ("DNA", "1 同意")),
    ("不同意", ("只记录了您的这个回答", "报失")),
]
REFUSAL_DATA_EN: list[Turn] = [
    ("REPORT", ("DNA sample",)),
    ("1", ("family's details",)),
    ("no", ("kept only your answer", "REPORT")),
]
STOP_START_EN: list[Turn] = [
    ("hi", ("reunite",)),
    ("STOP", ("no more messages", "START")),
    ("REPORT", SILENT),
    ("help", SILENT),
    ("START", ("Welcome back",)),
    ("HELP", ("REPORT", "BOOK", "STATUS")),
]
STOP_START_ZH: list[Turn] = [
    ("报失", ("DNA",)),
    ("退订", ("不会再收到", "还没填完的登记已保留，但尚未提交", "开始")),
    ("1", SILENT),
    ("开始", ("欢迎回来", "登记还没有提交", "上次停下的问题", "DNA", "1 同意")),
    ("帮助", ("报失", "预约", "查询", "免费")),
]
