import math

from bot.core.confidence import confidence, dense_scale, term_coverage


def idf(term: str) -> float:
    return {"refund": 1.0, "annual": 2.0}.get(term, math.log(100))


def test_coverage_is_the_idf_weighted_share_of_query_terms_found():
    assert term_coverage(["refund", "annual"], ["refund", "annual", "plan"], idf) == 1.0
    assert term_coverage(["refund", "annual"], ["annual"], idf) == 2.0 / 3.0


def test_terms_the_knowledge_base_never_uses_dominate_coverage():
    # "django" is unknown to the KB: it gets the largest weight, so coverage collapses.
    assert term_coverage(["refund", "django"], ["refund"], idf) < 0.25


def test_confidence_stays_within_zero_and_one():
    for similarity in (-1.0, 0.0, 0.4, 0.99, 1.5):
        for coverage in (0.0, 0.5, 1.0):
            assert 0.0 <= confidence(similarity, coverage) <= 1.0
    assert dense_scale(0.0) == 0.0
    assert dense_scale(1.0) == 1.0
    assert confidence(0.7, 0.9) > confidence(0.4, 0.9) > confidence(0.4, 0.1)


def test_a_quoted_identifier_found_in_the_passage_raises_confidence():
    assert confidence(0.4, 0.3, identifiers=1.0) > confidence(0.4, 0.3) + 0.2
    assert confidence(0.9, 1.0, identifiers=1.0) == 1.0
