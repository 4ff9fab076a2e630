"""A fake Telegram Bot API on loopback, and Telegram's side of a bot webhook.

Stdlib only; built on FakeChat (fake_chat.py), so scripting (script(path, Answer(...))),
recording and waiting (wait_for, wait_until) work the same. Speaks the wire format of
docs/PROTOCOLS (the Telegram section) and of core.telegram.org/bots/api:

  POST /bot<token>/<method>  with a JSON body. A wrong token answers 401
      {"ok":false,"error_code":401,"description":"Unauthorized"}; errors are
      {"ok":false,"error_code":N,"description":"..."} (429 adds parameters.retry_after).
  sendMessage        chat_id, text (1-4096 characters once the HTML entities are parsed),
                     parse_mode "HTML" (tags must be Telegram's and nest properly, else 400
                     "can't parse entities"), reply_markup.inline_keyboard (callback_data 1-64
                     bytes, else 400 BUTTON_DATA_INVALID), reply_parameters. Answers
                     {"ok":true,"result":Message} with increasing message_ids.
  editMessageText    chat_id + message_id of a message it sent (else 400 "message to edit not
                     found"); the same text and keyboard again is 400 "message is not
                     modified". Omitting reply_markup removes the keyboard, as Telegram does.
  answerCallbackQuery callback_query_id, text <= 200 characters. Answers {"ok":true,
                     "result":true}.
  setWebhook         url, secret_token (1-256 of A-Z a-z 0-9 _ -), allowed_updates; kept in
                     `webhook`. Answers {"ok":true,"result":true,"description":"Webhook was set"}.

Helpers build the updates Telegram POSTs to a webhook (callback_query_update) and their
headers (telegram_headers, with X-Telegram-Bot-Api-Secret-Token).
"""

import html.parser
import itertools
import json
import re

from fake_chat import Answer, FakeChat

_ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
                 "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"}
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def telegram_error(status, description, retry_after=None):
    body = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return Answer(status, body)


def utf16_length(text):
    return len(text.encode("utf-16-le")) // 2


class _EntityParser(html.parser.HTMLParser):
    """Telegram's HTML mode: its tags, properly nested; only &lt; &gt; &amp; &quot; and
    numeric entities. Collects the visible text."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack = []
        self.text = []
        self.error = None

    def handle_starttag(self, tag, attrs):
        if tag not in _ALLOWED_TAGS:
            self.error = self.error or f"unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f"can't find end tag corresponding to start tag \"{tag}\""
        else:
            self.stack.pop()

    def handle_data(self, data):
        if "<" in data or ">" in data or "&" in data:
            self.error = self.error or "unescaped <, > or &"
        self.text.append(data)

    def handle_entityref(self, name):
        known = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
        if name not in known:
            self.error = self.error or f"unsupported entity &{name};"
        self.text.append(known.get(name, "?"))

    def handle_charref(self, name):
        self.text.append("?")


def parse_html(text):
    """(visible text, error or None) for a message in parse_mode HTML."""
    parser = _EntityParser()
    parser.feed(text)
    parser.close()
    if parser.stack and not parser.error:
        parser.error = f"can't find end tag corresponding to start tag \"{parser.stack[-1]}\""
    return "".join(parser.text), parser.error


class FakeTelegram(FakeChat):
    def __init__(self, bot_token):
        super().__init__(bot_token=bot_token)
        self._message_ids = itertools.count(1)
        self._tg_messages = {}  # (chat_id, message_id) -> {"text", "reply_markup"}
        self.webhook = None  # the last setWebhook arguments

    @property
    def api_base(self):
        """What the channel's api_base is set to: calls go to {api_base}/bot<token>/<method>."""
        return self.url

    def method_path(self, method):
        return f"/bot{self.bot_token}/{method}"

    def message(self, chat_id, message_id):
        """The message as last sent or edited: {"text", "reply_markup"}, or None."""
        with self._cond:
            return self._tg_messages.get((chat_id, message_id))

    # -- serving -----------------------------------------------------------------------------
    def _route(self, method, path, headers, body, query=""):
        match = re.match(r"^/bot([^/]+)/([A-Za-z]+)$", path)
        if method != "POST" or not match:
            return telegram_error(404, "Not Found")
        if match.group(1) != self.bot_token:
            return telegram_error(401, "Unauthorized")
        if not headers.get("content-type", "").startswith("application/json"):
            return telegram_error(400, "Bad Request: this fake only takes JSON")
        try:
            args = json.loads(body)
        except ValueError:
            return telegram_error(400, "Bad Request: can't parse JSON")
        handler = {
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "answerCallbackQuery": self._answer_callback_query,
            "setWebhook": self._set_webhook,
        }.get(match.group(2))
        if handler is None:
            return telegram_error(404, "Not Found")
        return handler(args)

    def _check_text(self, args):
        text = args.get("text")
        if not isinstance(text, str) or not text:
            return telegram_error(400, "Bad Request: message text is empty")
        visible = text
        if args.get("parse_mode") == "HTML":
            visible, error = parse_html(text)
            if error:
                return telegram_error(400, "Bad Request: can't parse entities: " + error)
        if utf16_length(visible) > 4096:
            return telegram_error(400, "Bad Request: message is too long")
        markup = args.get("reply_markup")
        if markup is not None:
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data", "")
                    if not button.get("text") or not 1 <= len(data.encode()) <= 64:
                        return telegram_error(400, "Bad Request: BUTTON_DATA_INVALID")
        return None

    def _result(self, chat_id, message_id, args):
        chat = ({"id": chat_id, "type": "supergroup", "title": "Ops"} if isinstance(chat_id, int)
                else {"id": -1009999999999, "type": "channel", "username": chat_id[1:]})
        message = {"message_id": message_id, "date": 1795255200, "chat": chat,
                   "text": parse_html(args["text"])[0] if args.get("parse_mode") == "HTML"
                   else args["text"]}
        if args.get("reply_markup", {}).get("inline_keyboard"):
            message["reply_markup"] = args["reply_markup"]
        return Answer(200, {"ok": True, "result": message})

    def _send_message(self, args):
        chat_id = args.get("chat_id")
        if not isinstance(chat_id, int) and not (isinstance(chat_id, str) and
                                                 chat_id.startswith("@")):
            return telegram_error(400, "Bad Request: chat not found")
        problem = self._check_text(args)
        if problem:
            return problem
        message_id = next(self._message_ids)
        if not args.get("reply_parameters"):
            self._tg_messages[(chat_id, message_id)] = {
                "text": args["text"], "reply_markup": args.get("reply_markup")}
        return self._result(chat_id, message_id, args)

    def _edit_message_text(self, args):
        key = (args.get("chat_id"), args.get("message_id"))
        if key not in self._tg_messages:
            return telegram_error(400, "Bad Request: message to edit not found")
        problem = self._check_text(args)
        if problem:
            return problem
        markup = args.get("reply_markup")
        if markup is not None and not markup.get("inline_keyboard"):
            markup = None
        current = self._tg_messages[key]
        if current["text"] == args["text"] and current["reply_markup"] == markup:
            return telegram_error(400, "Bad Request: message is not modified: specified new "
                                       "message content and reply markup are exactly the same "
                                       "as a current content and reply markup of the message")
        self._tg_messages[key] = {"text": args["text"], "reply_markup": markup}
        return self._result(key[0], key[1], args)

    def _answer_callback_query(self, args):
        if not args.get("callback_query_id"):
            return telegram_error(400, "Bad Request: query is too old and response timeout "
                                       "expired or query ID is invalid")
        if utf16_length(args.get("text", "")) > 200:
            return telegram_error(400, "Bad Request: MESSAGE_TOO_LONG")
        return Answer(200, {"ok": True, "result": True})

    def _set_webhook(self, args):
        if not args.get("url"):
            return telegram_error(400, "Bad Request: bad webhook: URL must not be empty")
        secret = args.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.match(secret):
            return telegram_error(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = args
        return Answer(200, {"ok": True, "result": True, "description": "Webhook was set"})


# -- Telegram's side of the webhook ----------------------------------------------------------
_update_ids = itertools.count(100000)


def callback_query_update(data, user_id=123456789, username="alice", chat_id=-1001234567890,
                          message_id=1, query_id=None):
    """The update Telegram POSTs when someone presses an inline button (compact JSON)."""
    update_id = next(_update_ids)
    update = {
        "update_id": update_id,
        "callback_query": {
            "id": query_id or f"{4382000000000000000 + update_id}",
            "from": {"id": user_id, "is_bot": False, "first_name": username.title(),
                     "username": username, "language_code": "en"},
            "message": {"message_id": message_id, "date": 1795255200,
                        "chat": {"id": chat_id, "title": "Ops", "type": "supergroup"},
                        "text": "Approval needed"},
            "chat_instance": "-8204528415012345678",
            "data": data,
        },
    }
    return json.dumps(update, separators=(",", ":"))


def telegram_headers(secret_token):
    """What Telegram sends with every update to a webhook set with `secret_token`."""
    headers = {"Content-Type": "application/json"}
    if secret_token is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    return headers
