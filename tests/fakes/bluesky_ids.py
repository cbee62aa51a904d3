"""Identifiers as the AT Protocol writes them, so the real ``atproto`` SDK accepts what
the Bluesky stand-in answers: DIDs, record keys (TIDs), content ids (CIDs), URIs, and
session tokens shaped as JWTs (the SDK reads their expiry; it never checks a signature)."""

from __future__ import annotations

import base64
import hashlib
import json
import time

_S32 = "234567abcdefghijklmnopqrstuvwxyz"


def did_for(handle: str) -> str:
    digest = hashlib.sha256(handle.encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def tid(time_us: int, clock_id: int = 7) -> str:
    """A record key that sorts by time, as PDSes make them."""
    value = (time_us << 10) | (clock_id & 0x3FF)
    out = ""
    for _ in range(13):
        out = _S32[value & 31] + out
        value >>= 5
    return out


def cid_for(data: object) -> str:
    """A CIDv1 (dag-cbor, sha-256) in base32 over the record's JSON: unique per record."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).digest()
    raw = bytes([0x01, 0x71, 0x12, 0x20]) + digest
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def post_uri(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(did: str, scope: str, lifetime: float) -> str:
    now = int(time.time())
    header = {"typ": "at+jwt", "alg": "HS256"}
    jti = _b64(hashlib.sha256(f"{did}{time.time_ns()}".encode()).digest()[:12])
    body = {"scope": scope, "sub": did, "iat": now, "exp": int(now + lifetime),
            "aud": "did:web:standin.test", "jti": jti}  # fmt: skip
    parts = [_b64(json.dumps(x).encode()) for x in (header, body)]
    return ".".join([*parts, _b64(b"standin-signature")])
