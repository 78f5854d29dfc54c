"""Numbers, versions, dates, links, options and code: the facts a customer acts on.

A small model invents them most easily and a paraphrase must never change them, so
each one in an answer sentence must be *stated* by the cited passages:

* a link, a version, a date or a number of three or more digits: verbatim, as a whole
  token ("50" is not found inside "500-million");
* a short number ("0", "30"): verbatim *and* next to the same words: "or 0 if the
  table is empty" is not stated by a passage that says "or 1 if the table is empty"
  and "'0' and '0.0'" elsewhere. One shared content word among the four on the same
  side is enough ("on Free, 25 MB" for "Free: 25 MB");
* a number written as a word ("three times", "twice"): as that word, another word for
  it ("two", "double") or its digits (a number in digits only as digits: "Two-factor"
  states no 2);
* a command-line option ("-R", "--location") and a code span: verbatim (code compared
  with its whitespace squashed and shell line continuations dropped), because a
  customer types them as they are: "usually -L" for "usually -R" sends them wrong.

A version is the same fact with or without its "v" ("v2.6.17", "2.6.17"); typographic
dashes are hyphens ("15–16"). Pure functions: no I/O.
"""

from __future__ import annotations

import re

from bot.core.text import content_terms, plain

# A number that is part of a name ("sqlite3", "SQL92", "EAR99") is not a fact on its own;
# a version is one whole, its "v" included ("v2.6.17", not "6.17").
_FACT = re.compile(r"https?://[^\s)\]>]+|(?<!\w)(?<!\w\.)[vV]?\d+(?:[.,:/-]\d+)*")
# Typographic dashes are a hyphen in a fact ("15–16" in the passage, "15-16" in the answer).
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})
_NUMBER_WORDS = {
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "twice": "2",
    "thrice": "3",
    "double": "2",
    "triple": "3",
    "dozen": "12",
}
# What a customer types as it is written: an option ("-L", "--location") and code.
_OPTION = re.compile(r"(?<![\w.-])--?[A-Za-z][\w-]*")
_CODE = re.compile(r"`[^`\n]+`")
# A whole word: the "two" of "two-step" or "Two-factor" counts nothing.
_WORD_NUMBER = re.compile(r"(?<![\w-])(" + "|".join(_NUMBER_WORDS) + r")(?![\w-])", re.IGNORECASE)
SHORT = 2  # digits up to which a number needs its context to count as stated
CONTEXT = 4  # content words either side that make a short number's context


def in_text(sentence: str) -> list[str]:
    """The facts of a sentence: links and numbers, numbers written as words, command-line
    options and code spans (kept with their backticks)."""
    found = [f.rstrip(".,;:") for f in _FACT.findall(sentence.translate(_DASHES))]
    found += [w.lower() for w in _WORD_NUMBER.findall(sentence)]
    return found + _OPTION.findall(_CODE.sub(" ", sentence)) + _CODE.findall(sentence)


def _squash(text: str) -> str:
    """Code as a reader compares it: no code marks, no shell line continuations."""
    return plain(re.sub(r"\\\s", " ", text))


def _stated_verbatim(fact: str, evidence: str) -> bool | None:
    """For a code span or an option, whether the evidence holds it exactly; None for
    other facts."""
    if fact.startswith("`"):
        return _squash(fact) in _squash(evidence)
    if fact.startswith("-"):
        return re.search(rf"(?<![\w-]){re.escape(fact)}(?![\w-])", evidence) is not None
    return None


def _occurrences(fact: str, text: str) -> list[re.Match[str]]:
    if fact.startswith("http"):
        return [m for m in re.finditer(re.escape(fact), text)]
    if fact in _NUMBER_WORDS:  # "double" is stated by "two", "twice" or "2", not the reverse
        digits = _NUMBER_WORDS[fact]
        spelled = "|".join(w for w, value in _NUMBER_WORDS.items() if value == digits)
        # A whole word: "Two-factor" and "double-click" state no number.
        pattern = rf"(?<![\w-])(?:{spelled})(?![\w-])|(?<![\d.,]){digits}(?![\d])"
        return list(re.finditer(pattern, text, re.IGNORECASE))
    # "v2.6.17" and "2.6.17" are one version.
    number = fact[1:] if fact[:1] in "vV" else fact
    return list(re.finditer(rf"(?<![\w.,])[vV]?{re.escape(number)}(?![\d])", text))


_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def _context(text: str, start: int, end: int) -> tuple[set[str], set[str]]:
    """A few content terms before and after, within the number's own sentence (stopwords
    do not count: "1w is not a recognized duration" has "recognized" next to its number).
    Only a bounded stretch is read either side: a table of numbers stays linear."""
    reach = CONTEXT * 4
    before = " ".join(
        _SENTENCE_END.split(text[max(0, start - reach * 12) : start])[-1].split()[-reach:]
    )
    after = " ".join(_SENTENCE_END.split(text[end : end + reach * 12])[0].split()[:reach])
    return set(content_terms(before)[-CONTEXT:]), set(content_terms(after)[:CONTEXT])


def stated(fact: str, sentence: str, evidence: str) -> bool:
    """Whether ``evidence`` (the cited passages' text) states ``fact`` as ``sentence``
    uses it."""
    verbatim = _stated_verbatim(fact, evidence)
    if verbatim is not None:
        return verbatim
    sentence, evidence = sentence.translate(_DASHES), evidence.translate(_DASHES)
    found = _occurrences(fact, evidence)
    if not found:
        return False
    short = fact in _NUMBER_WORDS or (fact.isdigit() and len(fact) <= SHORT)
    if not short:
        return True
    mine = next(iter(_occurrences(fact, sentence)), None)
    if mine is None:
        return True
    before, after = _context(sentence, mine.start(), mine.end())
    if not before | after:
        return True  # nothing around it to compare
    # On the same side: "expire after 5 days" is not "5 GB … and links expire".
    for m in found:
        says_before, says_after = _context(evidence, m.start(), m.end())
        if before & says_before or after & says_after:
            return True
    return False
