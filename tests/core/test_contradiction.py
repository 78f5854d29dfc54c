import time

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


def test_what_only_looks_like_a_negation_is_not_one():
    for sentence, passage in (
        # Python's None is a value, not "none".
        (
            "Use None as the default and create a new list inside the function when the "
            "argument is None.",
            "Instead, use None as the default value and inside the function, check if the "
            "parameter is None and create a new list if it is.",
        ),
        (
            "The function returns None when the list is empty.",
            "The function returns an empty value when the list is empty.",
        ),
        # "or not" carries no polarity.
        (
            "You can use the is operator to check whether two names refer to the same object.",
            "To know if two variables refer to the same object or not, use the is operator.",
        ),
        # An option or a code span is code.
        (
            "You can look at one with `gitk 7281251ddd --not --all` and, if it's what you "
            "want, bring it back with `git branch recovered-branch 7281251ddd`.",
            "$ git branch recovered-branch 7281251ddd",
        ),
        # "not only … but" affirms; a "no" that answers negates nothing after it.
        (
            "The handle from curl_easy_init() is reusable and you're even encouraged to reuse it.",
            "The handle you get from curl_easy_init() is not only reusable, but you are "
            "even encouraged to reuse it.",
        ),
        (
            "Maybe little by little over time, some of the code could change.",
            "In one go: no. Little by little over time, some of the code could change.",
        ),
        # "and no more" negates nothing that came before it.
        (
            "A timeout longer than 21 seconds makes no difference, because Windows only "
            "sends 3 TCP SYN packets.",
            "Having a timeout longer than 21 seconds makes no difference, as it will only "
            "send 3 TCP SYN packets and no more.",
        ),
        # A condition states nothing: "if that doesn't help" against the Help menu.
        (
            "If that doesn't help, reset the local cache under Help › Reset local cache.",
            "Reset the local cache: Help › Reset local cache.",
        ),
    ):
        assert find(sentence, [passage]) is None, sentence


def test_a_negation_reworded_is_not_a_flip():
    # One negation each side: the same polarity in other words.
    assert (
        find(
            "You should only run git prune on a quiescent repository, much like you wouldn't "
            "fsck a mounted filesystem.",
            [
                "You should only run git prune on a quiescent repository, it is kind of like doing "
                "a filesystem fsck recovery: you don't want to do that while it is mounted."
            ],
        )
        is None
    )
    assert (
        find(
            "Quality relies on full-coverage testing rather than on compiler warnings.",
            ["Quality is done using full-coverage testing, not by compiler warnings."],
        )
        is None
    )
    # A negation added or dropped is still one.
    found = find("The cache does not use compression.", ["The cache uses compression."])
    assert found is not None and found.cue == "negation"


def test_a_negation_passes_through_attempt_to_and_reaches_a_relative_clause_object():
    found = find(
        "Git records file renames explicitly in each commit.",
        ["Git does not attempt to record file renames explicitly, though it can spot them."],
    )
    assert found is not None and found.cue == "negation"
    # "control which we do not have" and "control that borg doesn't have" agree.
    assert (
        find(
            "Handling it would need storage layout information and control that borg doesn't have.",
            [
                "Dealing with this needs low-level storage layout information and control "
                "which we do not have (and also can't get, even if we wanted)."
            ],
        )
        is None
    )


def test_a_negation_flips_over_a_synonym_when_the_embedder_says_so():
    def related(words, vocabulary):
        close = {("needed", "necessary"), ("necessary", "needed")}
        return {w for w in words if any((w, v) in close for v in vocabulary)}

    passage = ["The nonce is not necessary to read the data that is already encrypted."]
    claim = "The nonce is needed to read data that is already encrypted."
    assert find(claim, passage) is None  # no shared negated word
    found = find(claim, passage, related)
    assert found is not None and found.cue == "negation"
    # A word the other side negates is never "stated" by a synonym: with one more
    # negation in the passage ("never"), its negated "copy" does not flip the answer's
    # "doesn't duplicate".
    assert (
        find(
            "copyfile() doesn't duplicate the file permissions.",
            ["copyfile() doesn't copy the file permissions, and never did."],
            lambda words, vocabulary: set(words),
        )
        is None
    )


def test_safe_and_dangerous_are_opposites():
    found = find(
        "That is safe even if the commit has been merged.",
        ["This command can be dangerous if the commit has been merged."],
    )
    assert found is not None and found.cue.startswith("opposite:safe")


def test_a_yes_against_the_passages_no_is_a_contradiction():
    passage = [
        "No.\n\nYou can write your own program that sends a POST and skips waiting for "
        "the response."
    ]
    found = find("Yes, curl can send a POST and skip waiting for the response.", passage)
    assert found is not None and found.cue == "answer:yes/no"
    assert found.passage_sentence == "No."
    # The same answer, and a "no" that only looks like one, are not.
    assert find("No, but you can write a small program with libcurl.", passage) is None
    assert find("No fees at all: you can use it for anything.", ["Yes, it is free."]) is None
    # A passage's "No." answers its own question: only a passage the sentence restates
    # counts.
    assert (
        find(
            "Yes, restic encrypts backups.",
            ["No. Restic has no GUI.", "Restic encrypts all data with AES-256."],
        )
        is None
    )


def test_a_preference_turned_round_is_a_contradiction():
    passage = [
        "The prepared statement recompiles itself when the schema changes. The easiest "
        "way is to always use sqlite3_prepare_v2() instead of sqlite3_prepare()."
    ]
    found = find(
        "Always prepare with sqlite3_prepare() instead of sqlite3_prepare_v2(), because "
        "those statements recompile themselves when the schema changes.",
        passage,
    )
    assert found is not None and found.cue == "swapped:sqlite3_prepar/sqlite3_prepare_v2"
    assert find("Use sqlite3_prepare_v2() instead of sqlite3_prepare().", passage) is None
    # A reversed preference on another subject says nothing about this one.
    other = ["Backups run daily rather than hourly."]
    assert find("The prepared statement is checked hourly rather than daily.", other) is None


def test_a_preference_reads_in_linear_time():
    started = time.perf_counter()
    find("Plans differ " + "-" * 5000 + " instead of " + "." * 5000, ["a " + "-" * 5000])
    assert time.perf_counter() - started < 1.0


def test_faithful_answers_a_reviewer_wrote_against_wider_rules_stay_faithful():
    # Each was stopped by a rule tried on the way (let/stop, enable/stop, allow/stop,
    # same/separate as opposites; "yet" and "actually" closing a negation; "in favour
    # of" read as "instead of"; a "Yes," against the title's question).
    cases = [
        (
            "When your storage is full, contact us and let us know how much space you need.",
            "Uploads stop when your storage is full; contact us if you need more space.",
        ),
        (
            "Enabling two-factor authentication protects you from attackers signing in.",
            "Two-factor authentication stops attackers from signing in with a stolen password.",
        ),
        (
            "Archived projects count toward your storage the same way as active projects.",
            "Archived projects are stored separately and count toward your storage like "
            "active projects.",
        ),
        (
            "You can cancel a refund that is not yet processed from the billing page.",
            "You can cancel a refund from the billing page until it is processed.",
        ),
        (
            "Deleting a project does not even touch its invoices.",
            "Deleting a project keeps its invoices.",
        ),
        (
            "For new installs, use PostgreSQL instead of MySQL.",
            "We dropped MySQL in favour of PostgreSQL for new installs.",
        ),
        (
            "Logs are rotated hourly rather than daily.",
            "Files are synced daily rather than hourly. Logs are rotated hourly rather than "
            "daily on busy servers.",
        ),
        (
            "Yes, no credit card is required for the free trial.",
            "No. You can start the trial with just an email address.",
        ),
    ]
    for said, passage in cases:
        assert find(said, [passage]) is None, said


def test_a_word_that_closes_a_negation_does_not_hide_it():
    passage = ["Using export in a shell script file should be safe, however."]
    found = find("Using export in a shell script file isn't safe either.", passage)
    assert found is not None and found.cue == "negation"
    kept = ["Notes that have synced are downloaded again; notes that have not synced yet are kept."]
    assert find("Notes that have not synced yet are not kept.", kept) is not None
    assert find("Notes that have not synced yet are kept.", kept) is None
