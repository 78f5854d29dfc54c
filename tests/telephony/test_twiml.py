"""The TwiML of the voice webhooks (parsed back as XML: what Twilio reads)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bot.telephony import twiml


def test_connect_greets_then_streams_with_parameters_escaped():
    root = ET.fromstring(
        twiml.connect("Hi & welcome", "wss://h/s", "https://h/after", {"token": 'a"<b>&'})
    )
    assert [child.tag for child in root] == ["Say", "Connect"]
    assert root.findtext("Say") == "Hi & welcome"
    assert root.find("Connect").get("action") == "https://h/after"
    stream = root.find("Connect/Stream")
    assert stream.get("url") == "wss://h/s"
    assert stream.find("Parameter").attrib == {"name": "token", "value": 'a"<b>&'}


def test_transfer_dials_a_number_or_a_sip_address_or_enqueues():
    assert ET.fromstring(twiml.transfer("+15550100")).findtext("Dial/Number") == "+15550100"
    assert ET.fromstring(twiml.transfer("sip:a@pbx.example")).findtext("Dial/Sip") == (
        "sip:a@pbx.example"
    )
    assert ET.fromstring(twiml.transfer("queue:support")).findtext("Enqueue") == "support"


def test_hang_up():
    root = ET.fromstring(twiml.hang_up("Goodbye."))
    assert [child.tag for child in root] == ["Say", "Hangup"]
