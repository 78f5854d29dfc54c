"""Agent names: one account per name as people read it, and no look-alikes.

Customers and colleagues see an agent's name, so two accounts must never look the same:
``carol`` and ``Carol``, or a Cyrillic ``Аlice`` beside the Latin ``Alice``, would let
one person pass for another. A name is compared by its *key* (NFKC, case-folded,
whitespace collapsed: what sign-in matches, so ``CAROL`` signs in as ``carol``), and a
new name is refused when

* it holds invisible or control characters (a zero-width space makes two equal-looking
  names differ),
* its letters mix scripts (Latin with Cyrillic or Greek, say): apart from the Han, kana
  and Hangul mixes that Japanese and Korean names use, no real name needs that,
* its *skeleton* equals an existing name's: Cyrillic and Greek letters that look like
  Latin ones are read as those, as are ``rn`` (m), ``vv`` (w), ``I``/``1``/``|`` (l) and
  ``0`` (O). This is a small subset of Unicode's confusables (UTS #39): the look-alikes
  of the scripts an agent name is likely to be written in, without a dependency.

Pure functions; the store applies them to the names it holds (no stored key column, so
names stored before these rules are compared the same way).
"""

from __future__ import annotations

import unicodedata

from bot.errors import InvalidInput

MAX_NAME_CHARS = 128

# Cyrillic and Greek letters drawn like Latin ones (upper and lower case as drawn).
_CROSS_SCRIPT = str.maketrans(
    "АВЕКМНОРСТХУЅІЈԚԜҮҺЬаеорсухѕіјԁһԛԝӏүьɡΑΒΕΖΗΙΚΜΝΟΡΤΥΧοναικρυχϲϳ",
    "ABEKMHOPCTXYSIJQWYhbaeopcyxsijdhqwlybgABEZHIKMNOPTYXovaikpuxcj",
)
# Within Latin (and digits): drawn alike in many fonts.
_SAME_SCRIPT = str.maketrans({"I": "l", "1": "l", "|": "l", "0": "O"})
_SEQUENCES = (("rn", "m"), ("vv", "w"))
# Drawn as nothing or as a blank (Unicode's default-ignorables and fillers): each lets two
# names that look the same differ. Categories Cc, Cf, Co, Cn, Cs cover the rest.
_INVISIBLE = frozenset(
    [
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0),
        *range(0x180B, 0x1810),  # Mongolian variation selectors and vowel separator
        *range(0xFE00, 0xFE10),  # variation selectors
        *range(0xE0100, 0xE01F0),  # variation selectors supplement
    ]
)
_HIDDEN_CATEGORIES = ("Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp")
# Scripts that legitimately share one name (Japanese: Han + kana; Korean: Hangul + Han).
_ALLOWED_MIXES = ({"CJK", "HIRAGANA", "KATAKANA"}, {"CJK", "HANGUL"})


def name_key(name: str) -> str:
    """What two names are compared by: NFKC, case-folded, inner whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())


def _script(char: str) -> str:
    first = unicodedata.name(char, "UNKNOWN").split(" ")[0]
    return "KATAKANA" if first == "KATAKANA-HIRAGANA" else first


def scripts(name: str) -> set[str]:
    """The scripts of the letters of ``name`` (by their Unicode names: LATIN, CYRILLIC…)."""
    text = unicodedata.normalize("NFKC", name)
    return {_script(c) for c in text if unicodedata.category(c).startswith("L")}


def skeleton(name: str) -> str:
    """``name`` with look-alikes replaced by the Latin letter they look like."""
    text = unicodedata.normalize("NFKC", name).translate(_CROSS_SCRIPT)
    text = text.translate(_SAME_SCRIPT)
    for seq, like in _SEQUENCES:
        text = text.replace(seq, like)
    return " ".join(text.split())


def confusable(a: str, b: str) -> bool:
    """The two names would be read as the same: the same key, the same skeleton, or the
    same key once other scripts' look-alikes are read as Latin (``СОСО`` and ``coco``)."""
    if name_key(a) == name_key(b) or skeleton(a) == skeleton(b):
        return True
    cross = (unicodedata.normalize("NFKC", n).translate(_CROSS_SCRIPT) for n in (a, b))
    return len({name_key(n) for n in cross}) == 1


def _hidden(char: str) -> bool:
    """Invisible, a control, or an accent left loose after NFKC (a Latin, Greek or
    Cyrillic letter with its accent is one character by then)."""
    code = ord(char)
    loose_accent = 0x0300 <= code <= 0x036F
    return unicodedata.category(char) in _HIDDEN_CATEGORIES or code in _INVISIBLE or loose_accent


def check_name(name: str) -> str:
    """The name to store (NFKC, trimmed), or :class:`InvalidInput` saying what is wrong."""
    name = unicodedata.normalize("NFKC", name).strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"An agent name has 1 to {MAX_NAME_CHARS} characters.")
    if any(_hidden(c) for c in name):
        raise InvalidInput("An agent name cannot hold invisible or control characters.")
    found = scripts(name)
    if len(found) > 1 and not any(found <= mix for mix in _ALLOWED_MIXES):
        raise InvalidInput(
            f"An agent name mixes scripts ({', '.join(sorted(found)).lower()}): "
            "write it in one script, so it cannot pass for another agent's name."
        )
    return name
