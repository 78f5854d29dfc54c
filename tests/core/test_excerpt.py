from collections.abc import Sequence

from bot.core.excerpt import choose, render, units
from bot.models.extractive import excerpt

KEEPALIVE = """When I do a borg extract, after a while all activity stops.

This may happen when the SSH connection is stuck on server side. You can configure SSH \
on client side to prevent this by sending keep-alive requests, for example in ~/.ssh/config:

```
Host borg.example.com
ServerAliveInterval 30
```

You can also do the opposite and configure SSH on server side in /etc/ssh/sshd_config."""

RELEASE = """Python versions are numbered "A.B.C" or "A.B":

- A is the major version number.
- B is the minor version number.
- C is the micro version number.

See PEP 6 for more information about bugfix releases. Many alpha, beta and release \
candidates are also released. Alphas are early releases in which interfaces are not \
yet finalized; it's not unexpected to see an interface change between two alpha \
releases. Betas are more stable, preserving existing interfaces but possibly adding \
new modules. Release candidates are frozen, making no changes except as needed to fix \
critical bugs. The suffix for a release candidate version is "rc"."""


def test_a_passage_reads_as_sentences_items_and_whole_code_blocks():
    found = units(KEEPALIVE)
    assert [u.kind for u in found] == ["sentence", "sentence", "sentence", "code", "sentence"]
    assert found[3].text == "Host borg.example.com\nServerAliveInterval 30"
    assert found[2].introduces and not found[1].introduces
    assert [u.kind for u in units(RELEASE)][:4] == ["sentence", "item", "item", "item"]


def test_a_sentence_that_introduces_a_command_keeps_it():
    window = choose("how do I send keep-alive requests from the client?", units(KEEPALIVE), 100)
    text = render(window)
    assert (
        "for example in ~/.ssh/config:\n`Host borg.example.com`\n`ServerAliveInterval 30`" in text
    )
    # On the phone the code is left out and nothing is rendered as markdown.
    spoken = render(
        choose("keep-alive on the client?", [u for u in units(KEEPALIVE) if u.kind != "code"], 40),
        False,
    )
    assert "`" not in spoken and "ServerAliveInterval" not in spoken


def test_the_excerpt_is_one_stretch_of_the_passage_never_a_splice():
    passage = units(RELEASE)
    for question in (
        "what does rc mean in 3.13.0rc1?",
        "what is a beta release?",
        "what is the minor version number?",
    ):
        window = choose(question, passage, 60)
        indexes = [passage.index(u) for u in window]
        assert indexes == list(range(indexes[0], indexes[-1] + 1)), question
    rc = render(choose("what does rc mean in 3.13.0rc1?", passage, 60))
    assert 'The suffix for a release candidate version is "rc".' in rc


def test_a_list_item_comes_with_the_sentence_that_introduces_its_list():
    window = choose("which number is the minor version?", units(RELEASE), 40)
    assert render(window).startswith('Python versions are numbered "A.B.C" or "A.B":\n- A is')
    assert "- B is the minor version number." in render(window)


def test_a_bare_yes_or_no_does_not_open_the_answer():
    passage = units(
        "No.\n\nStatic type checkers such as Mypy check type hints. Pylint and "
        "Pyflakes do basic checking."
    )
    assert render(choose("are there tools to find bugs?", passage, 100)).startswith("Static")


def test_semantic_similarity_finds_a_sentence_that_shares_no_word():
    passage = units(
        "Python may have been installed by an application. If so you can remove "
        "it without hurting anything. Otherwise ask your administrator. It is "
        "long and boring. More text follows here. And here. And more here."
    )
    similarity = [0.1, 0.9, 0.1, 0.0, 0.0, 0.0, 0.0]
    window = choose("is uninstalling ok?", passage, 12, similarity=similarity)
    assert render(window) == "If so you can remove it without hurting anything."


def test_a_follow_up_gets_the_next_part_of_the_article_not_the_same_one():
    passage = units(KEEPALIVE + "\n\n```\nClientAliveInterval 30\n```")
    first = render(choose("restore over ssh just stops, nothing downloading", passage, 100, 45))
    assert "ServerAliveInterval 30" in first and "ClientAliveInterval" not in first
    then = render(
        choose("and what do I change on the server side instead?", passage, 100, 45, shown=first)
    )
    assert then.startswith("You can also do the opposite and configure SSH on server side")
    assert then.endswith("`ClientAliveInterval 30`")


EDITOR = """Git uses vi by default when you have not configured an editor, neither for Git \
nor in the VISUAL or EDITOR environment variables of your shell. Many people find vi \
hard to use, and some only meet it the first time Git opens it to ask for a commit \
message, with no hint on the screen about how to save the message or quit.

If you want another editor for Git, set the core.editor configuration value."""


def test_a_chat_answer_goes_on_to_the_fix_that_follows_the_problem():
    def relevance(question: str, texts: Sequence[str]) -> list[float]:
        return [0.8 if "by default" in t else 0.3 for t in texts]  # the problem matches best

    question = "git opens vi every time, how do I get nano?"
    answer = excerpt(question, EDITOR, "chat", relevance)
    assert answer.startswith("Git uses vi by default") and "set the core.editor" in answer
    # The paragraph alone (what a 45-word minimum quoted) is the problem without its fix.
    assert "core.editor" not in render(choose(question, units(EDITOR), 100, 45, [0.8, 0.3, 0.3]))


def test_a_word_every_unit_holds_does_not_choose_the_answer():
    passage = units(
        "Borg keeps a cache of chunks. Borg rebuilds the cache index on sync.\n\n"
        "Deleting that directory with Borg is safe."
    )
    # The first and the last sentence share two words each with the question; "borg" is
    # in every sentence and "cache" in two, so "delete" decides.
    window = choose("can I delete the borg cache?", passage, 8)
    assert render(window) == "Deleting that directory with Borg is safe."


def test_a_long_code_block_keeps_the_sentence_that_introduces_it():
    script = "\n".join(f"# step {n} of the rebase list" for n in range(20))
    passage = units(f"Run the command below.\n\nThis opens your editor.\n\n```\n{script}\n```")
    window = choose("what are the steps of the rebase list?", passage, 40)
    text = render(window)
    assert text.startswith("This opens your editor.\n`# step 0")
    assert text.count("\n") == 15  # the code is shown cut at 15 lines


def test_the_fill_takes_no_long_code_block_that_nothing_introduced():
    purge = "\n".join(f"supportctl purge --workspace W{n} --force --yes" for n in range(15))
    passage = units(
        "Export your notes as CSV from Settings › Export. The file holds every note "
        f"with its tags.\n\nAdmins can also purge workspaces.\n\n```\n{purge}\n```"
    )
    text = render(choose("how do I export my notes to csv?", passage, 100, 100))
    assert text.startswith("Export your notes as CSV") and "purge" in text
    assert "supportctl" not in text  # 75 words of commands would pass the budget


def test_a_window_does_not_end_on_a_sentence_that_promises_what_follows():
    passage = units(
        "Reset your password from the sign-in page. The link is valid for one hour.\n\n"
        "To change the email address of your account, follow these steps:\n\n"
        + "\n".join(f"{n}. Open the settings page number {n} and confirm it twice." for n in (1, 2))
    )
    text = render(choose("how do I reset my password?", passage, 30, 100))
    assert text == "Reset your password from the sign-in page. The link is valid for one hour."


def test_a_code_block_spends_only_the_lines_shown():
    script = "\n".join(f"step {n} of the long list" for n in range(30))  # 15 shown: 90 words
    passage = units(f"```\n{script}\n```\n\nThe list ends with a summary line.")
    window = choose("what are the steps of the long list?", passage, 100, 100)
    assert [u.kind for u in window] == ["code", "sentence"]
