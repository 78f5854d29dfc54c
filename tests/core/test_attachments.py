from datetime import UTC, datetime

from bot.core.attachments import (
    Upload,
    UploadStatus,
    build_query,
    line_weight,
    nothing_to_go_on_reply,
    screenshot_lines,
    spoken_codes,
    unreadable,
)

DIALOG = """Nimbus Notes
File  Edit  View
Sync failed
Error E-2041: Your notes could not be synced
Retry
Cancel"""


def test_screenshot_lines_put_codes_and_errors_first_and_drop_labels():
    lines = screenshot_lines(DIALOG)
    assert lines[0] == "Error E-2041: Your notes could not be synced"
    assert lines[1] == "Sync failed"
    assert "Retry" not in lines and "Cancel" not in lines and "File  Edit  View" not in lines


def test_a_screenshot_of_labels_only_still_gives_its_text():
    assert screenshot_lines("Settings\nStorage\nOK") == ["Settings", "Storage", "OK"]


def test_screenshot_text_is_kept_within_its_budget():
    text = "\n".join(f"Error E-{1000 + i}: something failed on line {i}" for i in range(100))
    lines = screenshot_lines(text, budget=200)
    assert sum(len(line) + 1 for line in lines) <= 201 and lines


def test_line_weights():
    assert line_weight("Error E-2041") == 3
    assert line_weight("Payment declined") == 2
    assert line_weight("Your card was charged on the first day") == 1
    assert line_weight("Settings") == 0
    assert line_weight("Page 2") == 0  # bare numbers are not codes
    assert line_weight("Error 404") == 2


def test_spoken_codes_are_written_as_help_centers_write_them():
    assert spoken_codes("it says E 2041 and then E3020") == ["E-2041", "E-3020"]
    assert spoken_codes("I got a 500 error after 2 minutes") == []


def test_the_query_joins_text_transcript_codes_and_screenshot_errors_in_that_order():
    attachments = [
        {"kind": "image", "text": DIALOG},
        {"kind": "audio", "transcript": "My notes won't sync, it says E 2041."},
    ]
    query = build_query("help please", attachments).splitlines()
    assert query[0] == "help please"
    assert query[1] == "My notes won't sync, it says E 2041."
    assert query[2] == "E-2041"
    assert query[3].startswith("Error E-2041")


def test_unreadable_attachments_and_what_the_bot_says_about_them():
    silent = {"kind": "audio", "transcript": ""}
    blank = {"kind": "image", "text": "  "}
    failed = {"kind": "image", "error": "could not be read"}
    assert unreadable([silent, blank, failed, {"kind": "audio", "transcript": "hi"}]) == [
        silent,
        blank,
        failed,
    ]
    assert "voice note" in nothing_to_go_on_reply([silent]) and "screenshot" not in (
        nothing_to_go_on_reply([silent])
    )
    assert "screenshot" in nothing_to_go_on_reply([blank])
    both = nothing_to_go_on_reply([silent, blank])
    assert "voice note" in both and "screenshot" in both


def test_an_upload_becomes_the_attachment_clients_see():
    upload = Upload(
        id="u1",
        conversation_id="c1",
        kind="audio",
        mime="audio/wav",
        bytes=1234,
        path="c1/u1.wav",
        created_at=datetime.now(UTC),
        meta={"duration_s": 3.2},
        status=UploadStatus.READY,
        result={"transcript": "hello", "confidence": 0.9, "speech_s": 2.0},
    )
    assert upload.attachment() == {
        "upload_id": "u1",
        "kind": "audio",
        "mime": "audio/wav",
        "bytes": 1234,
        "duration_s": 3.2,
        "status": "ready",
        "transcript": "hello",
        "confidence": 0.9,
    }
