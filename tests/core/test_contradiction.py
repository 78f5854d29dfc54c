from bot.core.contradiction import clauses, find

PASSAGE = (
    "Debian's su uses PAM. Usually a widget is given the keyboard focus by clicking in it "
    "(but not for labels). There exist no procedures or tools that we know of to recover "
    "that data. The newer Pikchr-based syntax diagrams first landed on trunk in 2020. "
    "Many historical versions of the documentation used a different process."
)


def test_a_negation_added_or_dropped_is_found_with_its_passage_sentence():
    found = find("Debian's su does not use PAM.", [PASSAGE])
    assert found is not None and found.cue == "negation"
    assert found.passage_sentence == "Debian's su uses PAM."
    found = find(
        "You can read everything offline, but not edit it.",
        ["You can read and edit everything offline."],
    )
    assert found is not None and found.cue == "negation"


def test_faithful_restatements_are_not_contradictions():
    for sentence in (
        "No, there are no known tools or procedures to recover it.",
        "A widget usually gets focus when you click in it, but labels don't.",
        "The Pikchr-based diagrams first landed on trunk in 2020; older versions of the "
        "documentation used a different process.",
    ):
        assert find(sentence, [PASSAGE]) is None, sentence


def test_a_clause_too_short_to_align_stays_with_the_one_before():
    assert clauses("You can read everything offline, but not edit it.") == [
        "You can read everything offline not edit it."
    ]
