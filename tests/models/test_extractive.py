from bot.core.types import Passage
from bot.models.base import AnswerRequest
from bot.models.extractive import ExtractiveModel, excerpt

PASSAGE = """Use os.remove() to delete a file:

```
os.remove("notes.txt")
```

To remove a directory and everything in it, use shutil.rmtree()."""


def request(question: str, style: str = "chat") -> AnswerRequest:
    p = Passage("library.html", "Files", "delete", PASSAGE, 0.9, "library.html#1")
    return AnswerRequest(question=question, passages=[p], style=style)


async def test_the_answer_quotes_one_stretch_with_its_code_and_cites_it():
    pieces = [p async for p in ExtractiveModel().stream(request("how do I delete a file?"))]
    assert pieces == [
        'Use os.remove() to delete a file:\n`os.remove("notes.txt")`\nTo remove a directory '
        "and everything in it, use shutil.rmtree(). [1]"
    ]


async def test_the_relevance_scorer_sees_every_unit_and_moves_the_choice():
    seen = []

    def relevance(question, texts):
        seen.append(list(texts))
        return [1.0 if "directory" in t else 0.0 for t in texts]

    model = ExtractiveModel(relevance)
    pieces = [p async for p in model.stream(request("get rid of a folder", style="phone"))]
    assert seen == [
        [
            "Use os.remove() to delete a file:",
            "To remove a directory and everything in it, use shutil.rmtree().",
        ]
    ]  # no code on the phone
    assert "shutil.rmtree()" in pieces[0] and "`" not in pieces[0]


def test_an_empty_passage_gives_no_excerpt():
    assert excerpt("anything?", "") == ""
