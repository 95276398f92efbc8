"""The words people answer with, in one place: yes and no, option numbers, sexes and relatives, as parents type them.

Every question with a yes/no answer uses the same words (so "好" confirms a booking as it confirms consent), and
the report flow can read sex and relation from the same tables. Words are compared folded (intake/platform/text.py), so
Traditional characters, full-width letters, case and spaces need no entries of their own. No option word may be
an opt-out keyword, which always wins: tests/dialogue/test_precedence.py checks every option list.
"""

from __future__ import annotations

from intake.dialogue.types import Option
from intake.models import Role, Sex
from intake.platform.i18n import _
from intake.platform.text import fold

YES_WORDS = (
    "y", "yes", "yeah", "yep", "yup", "ok", "okay", "sure", "agree", "i agree", "confirm", "correct", "right",
    "是", "是的", "是啊", "好", "好的", "好啊", "嗯", "嗯嗯", "恩", "行", "可以", "对", "对的", "对啊", "没错",
    "同意", "我同意", "愿意", "要", "确定", "确认", "没问题", "shi", "hao", "haode", "keyi", "tongyi", "dui",
)  # fmt: skip
NO_WORDS = (
    "n", "no", "nope", "don't", "disagree", "refuse",
    "否", "不", "不是", "不要", "不用", "不行", "不好", "不对", "不同意", "不愿意", "不可以", "算了", "bu", "buyao",
)  # fmt: skip
YES_NO = (Option("1", _("Yes"), YES_WORDS), Option("2", _("No"), NO_WORDS))

# Options that mean a keyword's action take all its words, so the option wins at its step (docs/dialogue.md).
CANCEL_WORDS = ("cancel", "取消", "quxiao", "取消预约")
DELETE_WORDS = ("delete", "删除", "shanchu", "确定删除")
KEEP_WORDS = ("keep", "保留", "不变", "baoliu")
CHANGE_WORDS = ("change", "改", "改期", "改时间", "换", "换时间")

# Chinese numerals (and the financial forms) a parent may write for an option number; ①…⑨ fold to digits already.
_NUMERALS = ("零〇", "一壹幺", "二两贰", "三叁", "四肆", "五伍", "六陆", "七柒", "八捌", "九玖")
NUMBER_WORDS: dict[str, str] = (
    {
        word: str(n)
        for n, chars in enumerate(_NUMERALS)
        for char in chars
        for word in (char, f"第{char}", f"第{char}个", f"{char}号")
    }
    | {f"第{n}": str(n) for n in range(10)}
    | {f"第{n}个": str(n) for n in range(10)}
)

SEX_WORDS: dict[Sex, tuple[str, ...]] = {
    Sex.MALE: ("男", "男的", "男孩", "男孩子", "男生", "男娃", "儿子", "小子", "boy", "m", "male", "son", "nan"),
    Sex.FEMALE: ("女", "女的", "女孩", "女孩子", "女生", "女娃", "女儿", "闺女", "girl", "f", "female", "daughter",
                 "nv", "nu"),
}  # fmt: skip

# How the reporter is related to the child, by the names families use; the key is the everyday word. Only blood
# relatives get a kinship role: an aunt or uncle by marriage (婶婶, 舅妈, 姑父) shares no DNA with the child, and
# 阿姨 alone also names a nanny or any woman, so those stay "other relative" for an officer to ask about.
RELATIVE_WORDS: dict[str, Role] = {
    **dict.fromkeys(("妈妈", "妈", "母亲", "娘", "老妈", "亲妈", "mother", "mum", "mom", "mama", "mummy", "mommy",
                     "mami"), Role.MOTHER),
    **dict.fromkeys(("爸爸", "爸", "父亲", "爹", "老爸", "亲爸", "father", "dad", "papa", "daddy", "baba"),
                    Role.FATHER),
    **dict.fromkeys(
        ("奶奶", "爷爷", "外婆", "外公", "姥姥", "姥爷", "祖母", "祖父", "外祖母", "外祖父", "阿婆", "阿公", "grandma",
         "grandmother", "grandpa", "grandfather", "granny", "grandparent", "nainai", "yeye", "waipo", "waigong",
         "laolao", "laoye"),
        Role.GRANDPARENT,
    ),
    **dict.fromkeys(
        ("哥哥", "姐姐", "弟弟", "妹妹", "兄弟", "姐妹", "哥", "姐", "弟", "妹", "亲哥哥", "亲姐姐", "brother", "sister",
         "sibling",
         "gege", "jiejie", "didi", "meimei"),
        Role.FULL_SIBLING,
    ),
    **dict.fromkeys(
        ("同父异母", "同母异父", "同父异母的哥哥", "同父异母的姐姐", "同母异父的哥哥", "同母异父的姐姐",
         "halfbrother", "halfsister", "half-brother", "half-sister", "halfsibling"),
        Role.HALF_SIBLING,
    ),
    **dict.fromkeys(
        ("舅舅", "姑姑", "姑妈", "姨妈", "大姨", "小姨", "叔叔", "伯伯", "伯父", "叔父", "亲叔叔", "舅", "姑", "姨", "uncle",
         "aunt", "auntie", "aunty", "jiujiu", "gugu"),
        Role.AUNT_UNCLE,
    ),
    **dict.fromkeys(
        ("亲戚", "家人", "其他", "其他亲属", "婶婶", "舅妈", "姑父", "姨父", "阿姨", "relative", "other",
         "family"),
        Role.OTHER_RELATIVE,
    ),
}  # fmt: skip

# What people put before the relation ("我是孩子的奶奶", "孩子他妈", "孩他爸", "I'm his grandma"), dropped one by one.
_LEAD_INS = ("我是", "孩子的", "孩子", "孩", "他的", "她的", "他", "她", "的", "iam", "i'm", "i’m", "im", "the",
             "his", "her", "their", "child's")  # fmt: skip


def relative_words(role: Role) -> tuple[str, ...]:
    """Return the everyday words that name `role` (the aliases of its option)."""
    return tuple(word for word, named in RELATIVE_WORDS.items() if named is role)


def relative_of(text: str) -> Role | None:
    """Return the relation a typed answer names ("孩子他妈", "我是奶奶", "I'm his grandma"), or None."""
    word = fold(text)
    while word not in RELATIVE_WORDS:
        lead = next((lead for lead in _LEAD_INS if word.startswith(lead) and len(word) > len(lead)), None)
        if lead is None:
            return None
        word = word[len(lead) :]
    return RELATIVE_WORDS[word]


def number_of(text: str) -> str:
    """Return the option number a folded answer names ("一", "第2个" -> "1", "2"), or the answer unchanged."""
    return NUMBER_WORDS.get(text, text)
