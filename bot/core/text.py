"""Text helpers shared by the chunker, the retriever, the answerer and the gate.

Pure functions: no I/O. The stemmer is Snowball (PyStemmer), the same one the
lexical index uses, so "refunds" in a question meets "refund" in a passage.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?(?:[-_.][a-z0-9]+)*", re.IGNORECASE)
# A sentence ends at . ! ? followed by space and something that can start a sentence.
# Common abbreviations are protected first so "e.g. the" does not split.
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|vs|approx|Mr|Mrs|Ms|Dr|No|Fig)\.", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9`*])")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")

# English function words: they carry no topic, so they neither match nor count.
_STOPWORD_TEXT = """
a about above after again against all am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't
doing don't down during each few for from further had hadn't has hasn't have haven't having
he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm
i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor not
of off on once only or other ought our ours ourselves out over own same shan't she she'd
she'll she's should shouldn't so some such than that that's the their theirs them themselves
then there there's these they they'd they'll they're they've this those through to too under
until up very was wasn't we we'd we'll we're we've were weren't what what's when when's
where where's which while who who's whom why why's with won't would wouldn't you you'd
you'll you're you've your yours yourself yourselves im ive dont doesnt cant wont isnt hey hi
hello thanks thank please pls plz just really also still get got gets getting like want
wanted need needs way thing things something anyone someone anything know tell say said says
use used using make makes made one ok okay yes yeah wtf lol btw etc e.g i.e vs
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_TEXT.split())


def normalize_whitespace(text: str) -> str:
    """Collapse runs of spaces, keep paragraph breaks (one blank line), trim."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def plain(text: str) -> str:
    """The words of a text as a reader sees them: code marks (`) dropped, whitespace
    collapsed (to compare quoted text with its source)."""
    return " ".join(text.replace("`", "").split())


def split_paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _BLANK_LINES.split(text) if p.strip()]


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; newlines inside a paragraph also end a sentence."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        protected = _ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", "\x00"), line)
        for sentence in _SENTENCE_END.split(protected):
            sentence = sentence.replace("\x00", ".").strip()
            if sentence:
                out.append(sentence)
    return out


def words(text: str) -> list[str]:
    """Lower-cased word tokens (keeps codes such as E-1042 and file.txt together)."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def stem_all(tokens: Iterable[str]) -> list[str]:
    return list(_stemmer().stemWords(list(tokens)))


def content_words(text: str) -> list[str]:
    """The topic-bearing words of a text, unstemmed: stopwords dropped, order kept."""
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1]


def content_terms(text: str) -> list[str]:
    """Stemmed topic-bearing terms of a text: stopwords dropped, order kept."""
    return stem_all(content_words(text))


_IDENTIFIER = re.compile(r"(?=.*\d)(?=.*[a-z])[a-z0-9]+(?:[-_.][a-z0-9]+)*|\d{3,}")


def is_identifier(term: str) -> bool:
    """Error codes, versions and the like: E-2041, 0x80070005, v2.3, 429."""
    return bool(_IDENTIFIER.fullmatch(term))


def slugify(text: str) -> str:
    """A GitHub-style heading slug: lower case, punctuation dropped, spaces to hyphens."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text.lower()).strip()
    return re.sub(r"[\s]+", "-", text)
