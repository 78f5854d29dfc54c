"""Host-name matching of bot/server/hosts.py, without a server (tests/e2e/test_hosts.py
has the real one)."""

from bot.server.hosts import AllowedHosts, default_hosts, host_name


def _allowed(patterns, header):
    return AllowedHosts(None, patterns).allowed(header)


def test_a_host_header_is_compared_by_its_name_alone():
    assert host_name("Support.Example.com:8443") == "support.example.com"
    assert host_name("[::1]:8000") == "::1" and host_name("::1") == "::1"


def test_patterns_are_read_as_host_headers_are():
    # An operator who writes a port or brackets still allows the name.
    assert _allowed(["support.example.com:8443"], "support.example.com:8443")
    assert _allowed(["[2001:db8::1]"], "[2001:db8::1]:8000")
    assert _allowed(["*.example.com"], "eu.example.com") and not _allowed(
        ["*.example.com"], "example.com.evil.test"
    )


def test_configured_names_are_added_to_the_defaults_not_put_in_their_place():
    hosts = [*default_hosts("0.0.0.0", "https://support.example.com"), "10.0.0.5"]
    for header in ("support.example.com", "localhost:8000", "10.0.0.5:8000"):
        assert _allowed(hosts, header), header
    assert not _allowed(hosts, "evil.example")
