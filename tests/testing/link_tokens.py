"""One-click link tokens computed independently of the server, from the format documented in
src/auth/link_signer.hpp (version 1), so tests can assert the exact URLs a channel renders.

  payload = 0x01 || str(tenant) || str(request id) || str(choice) || str(recipient) ||
            uvarint(expiry, whole Unix seconds)
  str(s)  = uvarint(byte length of s) || s
  token   = base64url(payload) "." base64url(first 16 bytes of HMAC-SHA256(key, payload))
"""

import base64
import calendar
import hashlib
import hmac
import os
import time


def _uvarint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _str(text):
    data = text.encode()
    return _uvarint(len(data)) + data


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unix_seconds(rfc3339):
    """Whole Unix seconds of "2026-11-21T10:15:00.000Z"."""
    return calendar.timegm(time.strptime(rfc3339[:19], "%Y-%m-%dT%H:%M:%S"))


def link_token(key, tenant, request_id, choice, recipient, expiry_seconds):
    payload = (b"\x01" + _str(tenant) + _str(request_id) + _str(choice) + _str(recipient) +
               _uvarint(expiry_seconds))
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:16]
    return _b64(payload) + "." + _b64(mac)


def one_click_url(data_dir, public_url, request, choice, recipient):
    """The URL a channel puts on `choice` of `request` (the v1 JSON) for `recipient`: the
    link lives until the request's deadline."""
    with open(os.path.join(data_dir, "link_key"), "rb") as f:
        key = f.read()
    token = link_token(key, request["tenant"], request["id"], choice, recipient,
                       unix_seconds(request["deadline_at"]))
    return public_url + "/l/" + token
