"""Keys of the per-address and per-account limits (bot/server/abuse.py), without a server."""

from starlette.requests import HTTPConnection

from bot.server.abuse import SocketLimits, client_key
from bot.settings import Settings


def _key(host: str) -> str:
    return client_key(HTTPConnection({"type": "http", "client": (host, 4321), "headers": []}))


def test_an_ipv6_host_cannot_rotate_its_way_past_a_per_address_limit():
    # One host is given a whole /64: each of its addresses counts as the same client.
    assert _key("2001:db8:1:2::1") == _key("2001:db8:1:2:ffff::7") == "2001:db8:1:2::/64"
    assert _key("2001:db8:1:3::1") != _key("2001:db8:1:2::1")
    assert _key("203.0.113.9") == "203.0.113.9" == _key("::ffff:203.0.113.9")


def test_sign_in_attempts_count_under_the_name_sign_in_matches():
    limits = SocketLimits(Settings())
    variants = ["alice", " alice", "alice ", "ALICE", "alice\t", "  alice"]
    refused = [limits.login(name, "203.0.113.9") for name in variants]
    # Five attempts at once, whatever the spelling: the sixth is refused.
    assert refused[:5] == [None] * 5 and refused[5] is not None
    assert limits.login("bob", "203.0.113.9") is None  # another account is not held to it
