"""A fake Discord REST API and webhook on loopback, and Discord's side of an application's
interactions endpoint (Ed25519-signed POSTs).

Built on FakeChat (fake_chat.py), so scripting, recording and waiting work the same. Speaks
the wire format of docs/PROTOCOLS (the Discord section) and discord.com/developers/docs:

  POST  /api/v10/channels/{channel}/messages            needs "Authorization: Bot <token>";
  PATCH /api/v10/channels/{channel}/messages/{message}  answer the Message object
                                                         {"id","channel_id","content",...}.
  POST  /api/webhooks/{id}/{token}[?wait=true&with_components=true]
  PATCH /api/webhooks/{id}/{token}/messages/{message}[?with_components=true]
      A webhook answers 204 without ?wait=true, else the Message. Without
      ?with_components=true its components are dropped, as Discord drops them; with it, only
      link buttons (style 5) are allowed on a plain webhook (anything else: 400).
  Every body is checked against Discord's limits (content 2000, embed title 256, description
  4096, 25 fields of name 256 / value 1024, footer 2048, 6000 in all; 5 action rows of 5
  buttons; label 80; custom_id 1-100; link url 512): a violation is 400
  {"code":50035,"message":"Invalid Form Body","errors":{...}}. Unknown messages are 404
  {"code":10008,"message":"Unknown Message"}; a wrong bot token 401 {"code":0,...}.

DiscordApp holds an Ed25519 key pair (python3-cryptography) and signs interactions the way
Discord does: X-Signature-Ed25519 = hex(sign(timestamp + body)), X-Signature-Timestamp.
"""

import itertools
import json
import re
import time
import urllib.parse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fake_chat import Answer, FakeChat

_CHANNEL_MESSAGES = re.compile(r"^/api/v10/channels/(\d+)/messages(?:/(\d+))?$")
_WEBHOOK = re.compile(r"^/api/webhooks/(\d+)/([^/]+)(?:/messages/(\d+))?$")


def discord_error(status, code, message, errors=None):
    body = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return Answer(status, body)


def rate_limited(retry_after, global_=False):
    """Discord's 429: retry_after (seconds, fractional) in the body and Retry-After."""
    return Answer(429, {"message": "You are being rate limited.", "retry_after": retry_after,
                        "global": global_},
                  {"Retry-After": str(int(retry_after + 0.999))})


def _length(text):
    return len(text.encode("utf-16-le")) // 2


def check_message(body, plain_webhook, with_components):
    """The Invalid Form Body errors of a message body, or None."""
    errors = {}
    content = body.get("content") or ""
    if _length(content) > 2000:
        errors["content"] = "Must be 2000 or fewer in length."
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        errors["embeds"] = "Must be 10 or fewer in length."
    for i, embed in enumerate(embeds):
        total = 0
        for key, limit in (("title", 256), ("description", 4096)):
            value = embed.get(key) or ""
            total += _length(value)
            if _length(value) > limit:
                errors[f"embeds.{i}.{key}"] = f"Must be {limit} or fewer in length."
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors[f"embeds.{i}.fields"] = "Must be 25 or fewer in length."
        for j, field in enumerate(fields):
            name, value = field.get("name") or "", field.get("value") or ""
            total += _length(name) + _length(value)
            if not name or _length(name) > 256:
                errors[f"embeds.{i}.fields.{j}.name"] = "Must be between 1 and 256 in length."
            if not value or _length(value) > 1024:
                errors[f"embeds.{i}.fields.{j}.value"] = "Must be between 1 and 1024 in length."
        footer = (embed.get("footer") or {}).get("text") or ""
        total += _length(footer)
        if _length(footer) > 2048:
            errors[f"embeds.{i}.footer.text"] = "Must be 2048 or fewer in length."
        if total > 6000:
            errors[f"embeds.{i}"] = "Embed size exceeds maximum size of 6000"
    rows = body.get("components") or []
    if with_components or not plain_webhook:
        if len(rows) > 5:
            errors["components"] = "Must be 5 or fewer in length."
        for i, row in enumerate(rows):
            buttons = row.get("components") or []
            if row.get("type") != 1 or not 1 <= len(buttons) <= 5:
                errors[f"components.{i}"] = "An action row holds 1 to 5 components."
            for j, button in enumerate(buttons):
                where = f"components.{i}.components.{j}"
                if button.get("type") != 2:
                    errors[where] = "Only buttons are supported here."
                    continue
                label = button.get("label") or ""
                if not label or _length(label) > 80:
                    errors[where + ".label"] = "Must be between 1 and 80 in length."
                if button.get("style") == 5:
                    url = button.get("url") or ""
                    if "custom_id" in button or not url or len(url) > 512:
                        errors[where + ".url"] = "A link button needs a url of at most 512."
                else:
                    custom_id = button.get("custom_id") or ""
                    if plain_webhook:
                        errors[where] = "Interactive components cannot be sent by this webhook."
                    elif button.get("style") not in (1, 2, 3, 4) or not 1 <= len(custom_id) <= 100:
                        errors[where + ".custom_id"] = "Must be between 1 and 100 in length."
    return errors or None


class FakeDiscord(FakeChat):
    def __init__(self, bot_token="MTA5ODc2.Gx1a2b.fake-bot-token"):
        super().__init__(bot_token=bot_token)
        self._ids = itertools.count(1150000000000000000)
        self._dc_messages = {}  # message id -> the Message object as it stands

    @property
    def api_base(self):
        return self.url + "/api/v10"

    def webhook_url(self, webhook_id="1234567890", token="wHk-T0ken_abc"):
        return f"{self.url}/api/webhooks/{webhook_id}/{token}"

    def message(self, message_id):
        with self._cond:
            return self._dc_messages.get(message_id)

    def _route(self, method, path, headers, body, query=""):
        params = dict(urllib.parse.parse_qsl(query))
        channel = _CHANNEL_MESSAGES.match(path)
        webhook = _WEBHOOK.match(path)
        if channel:
            if headers.get("authorization") != "Bot " + self.bot_token:
                return discord_error(401, 0, "401: Unauthorized")
            return self._message_call(method, channel.group(1), channel.group(2), body,
                                      plain_webhook=False, with_components=True, wait=True)
        if webhook:
            return self._message_call(method, "1100000000000000002", webhook.group(3), body,
                                      plain_webhook=True,
                                      with_components=params.get("with_components") == "true",
                                      wait=params.get("wait") == "true" or method == "PATCH")
        return discord_error(404, 0, "404: Not Found")

    def _message_call(self, method, channel_id, message_id, body, plain_webhook,
                      with_components, wait):
        try:
            args = json.loads(body)
        except ValueError:
            return discord_error(400, 50109, "The request body contains invalid JSON.")
        errors = check_message(args, plain_webhook, with_components)
        if errors:
            return discord_error(400, 50035, "Invalid Form Body", errors)
        if plain_webhook and not with_components:
            args.pop("components", None)
        if method == "POST" and message_id is None:
            message_id = str(next(self._ids))
            message = {"id": message_id, "channel_id": channel_id, "type": 0,
                       "content": "", "embeds": [], "components": []}
        elif method == "PATCH" and message_id is not None:
            message = self._dc_messages.get(message_id)
            if message is None:
                return discord_error(404, 10008, "Unknown Message")
        else:
            return discord_error(405, 0, "405: Method Not Allowed")
        for key in ("content", "embeds", "components", "message_reference"):
            if key in args:
                message[key] = args[key]
        self._dc_messages[message_id] = message
        if not wait:
            return Answer(204)
        return Answer(200, message)


# -- Discord's side of the interactions endpoint ---------------------------------------------
class DiscordApp:
    """An application's key pair; signs interactions as Discord does."""

    def __init__(self):
        self._key = Ed25519PrivateKey.generate()
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw,
                                                  serialization.PublicFormat.Raw)
        self.public_key_hex = raw.hex()

    def headers(self, body, timestamp=None):
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        if isinstance(body, str):
            body = body.encode()
        signature = self._key.sign(timestamp.encode() + body).hex()
        return {"Content-Type": "application/json", "X-Signature-Ed25519": signature,
                "X-Signature-Timestamp": timestamp}


_interaction_ids = itertools.count(1200000000000000000)


def ping_interaction():
    return json.dumps({"type": 1, "id": str(next(_interaction_ids)),
                       "application_id": "1000000000000000000", "token": "aW50ZXJhY3Rpb24",
                       "version": 1}, separators=(",", ":"))


def component_interaction(custom_id, user_id="80351110224678912", username="alice",
                          channel_id="1100000000000000001", message_id="1150000000000000000",
                          in_guild=True):
    """A button click (type 3, MESSAGE_COMPONENT) as Discord POSTs it."""
    user = {"id": user_id, "username": username, "global_name": username.title(),
            "discriminator": "0"}
    interaction = {
        "type": 3,
        "id": str(next(_interaction_ids)),
        "application_id": "1000000000000000000",
        "token": "aW50ZXJhY3Rpb24tdG9rZW4",
        "version": 1,
        "channel_id": channel_id,
        "message": {"id": message_id, "channel_id": channel_id, "type": 0},
        "data": {"custom_id": custom_id, "component_type": 2},
        "app_permissions": "442368",
        "locale": "en-US",
    }
    if in_guild:
        interaction["guild_id"] = "900000000000000000"
        interaction["member"] = {"user": user, "roles": [], "permissions": "0"}
    else:
        interaction["user"] = user
    return json.dumps(interaction, separators=(",", ":"))
