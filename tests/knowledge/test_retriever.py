from bot.knowledge.ingest import Ingestor
from bot.knowledge.retriever import HybridKnowledgeBase
from bot.knowledge.store import ChromaStore
from tests.conftest import eventually


def test_demo_questions_find_the_right_article(demo_kb: HybridKnowledgeBase):
    top = demo_kb.search("I forgot my password and can't log in", 3)
    assert top[0].source == "account/reset-password.md"
    assert top[0].title == "Reset your password"
    assert all(0.0 <= p.score <= 1.0 for p in top)
    assert top[0].score >= top[-1].score


def test_an_error_code_alone_finds_its_section(demo_kb: HybridKnowledgeBase):
    # Embeddings barely see "E-4015"; the lexical side must bring the section in.
    top = demo_kb.search("E-4015", 3)
    assert top[0].anchor == "e-4015-authentication-required"
    assert "3-D Secure" in top[0].text


def test_a_section_split_into_chunks_comes_back_whole(
    store: ChromaStore, ingestor: Ingestor, knowledge: HybridKnowledgeBase, write_files
):
    body = "\n\n".join(
        f"Step {i}: restart the sync service and wait for the green icon "
        "before you continue with the next step of this procedure."
        for i in range(30)
    )
    root = write_files({"sync.md": f"# Sync\n\n## Recovery procedure\n\n{body}\n"})
    ingestor.run([root])
    assert store.count() > 2
    top = knowledge.search("recovery procedure for the sync service", 1)[0]
    assert top.title == "Sync › Recovery procedure"
    assert top.text.startswith("Step 0:") and "Step 29:" in top.text


def test_off_topic_questions_score_low(demo_kb: HybridKnowledgeBase):
    on_topic = demo_kb.search("how do I get a refund for my yearly plan", 1)[0].score
    off_topic = demo_kb.search("what's the weather like in Berlin tomorrow", 1)[0].score
    assert on_topic > 0.6 > 0.3 > off_topic


def test_writes_from_another_process_refresh_the_lexical_index(tmp_path, embedder, write_files):
    path = tmp_path / "shared"
    reader = HybridKnowledgeBase(ChromaStore("shared-kb", path=path), embedder, refresh_seconds=0)
    assert reader.search("anything", 3) == []
    # A second client on the same data, as `supportbot ingest` in another process would be.
    Ingestor(ChromaStore("shared-kb", path=path), embedder).run(
        [write_files({"codes.md": "# Codes\n\n## E-9999\n\nThe flux capacitor overheated.\n"})]
    )
    # The reader had nothing to serve: it waits for the new data at once.
    assert reader.search("E-9999 flux capacitor", 1)[0].anchor == "e-9999"

    Ingestor(ChromaStore("shared-kb", path=path), embedder).run(
        [write_files({"more.md": "# More\n\n## E-8888\n\nThe warp core is offline.\n"})]
    )
    # Now it has data: it keeps answering from the old snapshot while the new one builds.
    assert eventually(lambda: reader.search("E-8888 warp core", 1)[0].anchor == "e-8888")


def test_searches_stay_consistent_while_the_index_is_rebuilt(demo_kb: HybridKnowledgeBase):
    import threading

    errors: list[BaseException] = []
    stop = threading.Event()

    def rebuild() -> None:
        while not stop.is_set():
            demo_kb.refresh()

    thread = threading.Thread(target=rebuild)
    thread.start()
    try:
        for _ in range(40):
            try:
                top = demo_kb.search("error E-4010 card expired", 3)
                assert top[0].anchor == "e-4010-card-expired"
            except BaseException as exc:
                errors.append(exc)
    finally:
        stop.set()
        thread.join()
    assert errors == []
