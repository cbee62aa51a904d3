"""Finds the web links in a participant's text and writes each one the same way every
time, so a link shared five times with different tracking tails is listed once.

Pure string work: hashchat never fetches, resolves or follows these addresses.
Percent-encoding, case and query order come from w3lib's ``canonicalize_url`` (Scrapy's);
what it leaves is done here: default ports, trailing slashes, tracking parameters and
any user name or password in the address (never shown on a public page).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Only links with a scheme are taken: "www.example.org" alone may be a sentence's word.
_LINK = re.compile(r"https?://[^\s<>\"'`{}|\\^\[\]]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"\u00bb\u201d\u2019\u2026"  # closing quotes, ellipsis
_DEFAULT_PORTS = {"http": 80, "https": 443}
TRACKING = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "mc_eid", "mc_cid", "igshid", "igsh", "si", "ref", "ref_src", "ref_url", "_hsenc",
        "_hsmi", "mkt_tok", "s_cid", "spm", "share_id", "oly_enc_id", "oly_anon_id",
        "vero_id", "wickedid", "rb_clickid", "__s",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")


def _tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING or lowered.startswith(_TRACKING_PREFIXES)


def _trim(candidate: str) -> str:
    """A link at the end of a sentence or in parentheses loses the punctuation after it;
    a closing bracket stays when the link opened one (Wikipedia's "Foo_(bar)")."""
    while candidate:
        last = candidate[-1]
        if last in _TRAILING or (last == ")" and candidate.count("(") < candidate.count(")")):
            candidate = candidate[:-1]
        else:
            break
    return candidate


def extract(text: str) -> list[str]:
    """The http(s) links in ``text`` as written, in order, each once."""
    found: list[str] = []
    for match in _LINK.finditer(text):
        link = _trim(match.group(0))
        if link not in found:
            found.append(link)
    return found


def normalise(url: str) -> str | None:
    """The link's one spelling, or None when it is not a usable http(s) address."""
    try:
        parts = urlsplit(url)
        if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
            return None
        port = parts.port
        canonical = urlsplit(canonicalize_url(url, keep_fragments=False))
    except ValueError:  # a port out of range, an unbalanced IPv6 bracket
        return None
    scheme = canonical.scheme.lower()
    host = canonical.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = canonical.path.rstrip("/") or "/"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(canonical.query, keep_blank_values=True) if not _tracking(k)]
    )
    return urlunsplit((scheme, host, path, query, ""))
