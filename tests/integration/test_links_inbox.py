"""The link to a request's page in the web inbox, end to end, on a server whose public URL has
a path (https://example.com/approvals): every channel's fake receives
https://example.com/approvals/ui/requests/<id> for a created request (Slack, Teams, Discord,
Telegram, email), and the signed webhook and callback_url bodies carry it as "inbox_url".

Each fake speaks its platform's wire format on loopback (tests/testing/) and records what it
got; the tests wait for the fakes to see the calls, never for a fixed time.
"""

import os
import shutil
import sys
import tempfile
import unittest

from harness import Server

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from fake_chat import FakeChat  # noqa: E402
from fake_discord import FakeDiscord  # noqa: E402
from fake_smtp import SmtpSink  # noqa: E402
from fake_telegram import FakeTelegram  # noqa: E402

PUBLIC_URL = "https://example.com/approvals"
SLACK_BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TELEGRAM_BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TELEGRAM_CHAT = -1001234567890
WORKFLOW = "/teams/workflows/ops"
RECEIVER = "/hooks/audit"
CALLBACK = "/agent/callback"

CONFIG = """
[server]
public_url = "{public_url}"

# The fake servers of this test listen on loopback over http, which the outbound policy
# refuses unless the config names it.
[outbound]
allow = ["127.0.0.1/32"]

[outbox]
max_attempts = 4
retry_base = "50ms"
retry_max = "500ms"
callback_secret = "cbsec-0123456789abcdef"

[[channel]]
name = "slack-ops"
type = "slack"
bot_token = "{slack_token}"
signing_secret = "{slack_secret}"
channel = "C0123456789"
api_base = "{slack_api}"

[[channel]]
name = "slack-hook"
type = "slack"
webhook_url = "{chat}/services/T0001/B0001/XXXX"

[[channel]]
name = "teams-ops"
type = "teams"
webhook_url = "{chat}{workflow}"

[[channel]]
name = "teams-legacy"
type = "teams"
webhook_url = "{chat}/connector/legacy"
format = "messagecard"

[[channel]]
name = "dc-hook"
type = "discord"
webhook_url = "{discord_hook}"

[[channel]]
name = "tg-ops"
type = "telegram"
bot_token = "{telegram_token}"
chat_id = "{telegram_chat}"
secret_token = "s3cr3t_T0ken"
api_base = "{telegram_api}"

[[channel]]
name = "email-ops"
type = "email"
smtp_url = "{smtp_url}"
starttls = "off"
from = "approvals@example.com"
to = "ops@example.com"

[[webhook]]
name = "audit"
url = "{chat}{receiver}"
secret = "whsec-0123456789abcdef"
"""

ALL_CHANNELS = ["slack-ops", "slack-hook", "teams-ops", "teams-legacy", "dc-hook", "tg-ops",
                "email-ops"]


class InboxLinkTest(unittest.TestCase):
    def setUp(self):
        self.chat = FakeChat(bot_token=SLACK_BOT_TOKEN).start()
        self.addCleanup(self.chat.stop)
        self.discord = FakeDiscord().start()
        self.addCleanup(self.discord.stop)
        self.telegram = FakeTelegram(TELEGRAM_BOT_TOKEN).start()
        self.addCleanup(self.telegram.stop)
        self.smtp = SmtpSink().start()
        self.addCleanup(self.smtp.stop)
        self.dir = tempfile.mkdtemp(prefix="countersign-inbox-links-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.discord_hook = self.discord.webhook_url()
        config = os.path.join(self.dir, "countersign.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(
                public_url=PUBLIC_URL, slack_token=SLACK_BOT_TOKEN, slack_secret=SLACK_SECRET,
                slack_api=self.chat.api_base, chat=self.chat.url, workflow=WORKFLOW,
                discord_hook=self.discord_hook, telegram_token=TELEGRAM_BOT_TOKEN,
                telegram_chat=TELEGRAM_CHAT, telegram_api=self.telegram.api_base,
                smtp_url=self.smtp.url, receiver=RECEIVER))
        self.server = Server(data_dir=self.dir, extra_args=["--config", config])
        self.server.start()
        self.addCleanup(self._stop_server)
        self.agent = self.server.create_token("ci-bot", "agent")
        self.carol = self.server.create_token("carol", "approver")

    def _stop_server(self):
        result = getattr(self._outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.errors + result.failures):
            print(self.server.read_log()[-6000:])
        self.server.stop()

    def create(self, notify, **fields):
        body = {"action": "deploy_staging", "title": "Deploy v2.0",
                "arguments": {"ref": "v2.0"}, "notify": list(notify)}
        body.update(fields)
        return self.server.create_request(token=self.agent, **body)

    def test_every_channel_links_to_the_request_s_page_under_the_public_url_s_path(self):
        r = self.create(ALL_CHANNELS)
        url = PUBLIC_URL + "/ui/requests/" + r["id"]
        self.assertEqual(url, "https://example.com/approvals/ui/requests/" + r["id"])

        slack = self.chat.wait_for(1, path="/api/chat.postMessage")[0]
        self.assertIn(f"<{url}|Open in the inbox>", slack.json["blocks"][-2]["elements"][0]["text"])
        slack_hook = self.chat.wait_for(1, path="/services/T0001/B0001/XXXX")[0]
        self.assertIn(f"<{url}|Open in the inbox>",
                      slack_hook.json["blocks"][-2]["elements"][0]["text"])

        teams = self.chat.wait_for(1, path=WORKFLOW)[0]
        self.assertEqual(teams.json["attachments"][0]["content"]["actions"][-1],
                         {"type": "Action.OpenUrl", "title": "Open in the inbox", "url": url})
        legacy = self.chat.wait_for(1, path="/connector/legacy")[0]
        self.assertEqual(legacy.json["potentialAction"][-1],
                         {"@type": "OpenUri", "name": "Open in the inbox",
                          "targets": [{"os": "default", "uri": url}]})

        discord = self.discord.wait_for(1, path=self.discord_hook[len(self.discord.url):])[0]
        self.assertEqual(discord.answer_status, 200, discord.answer_json)
        self.assertEqual(discord.json["components"][-1]["components"][-1],
                         {"type": 2, "style": 5, "label": "Open in the inbox", "url": url})

        telegram = self.telegram.wait_for(1, path=self.telegram.method_path("sendMessage"))[0]
        self.assertEqual(telegram.answer_status, 200, telegram.answer_json)
        self.assertTrue(telegram.json["text"].endswith(f'<a href="{url}">Open in the inbox</a>'),
                        telegram.json["text"])

        [mail] = self.smtp.wait_for(1, to="ops@example.com")
        self.assertIn("Open in the inbox: " + url, mail.part("text/plain").splitlines())
        self.assertIn(f'<a href="{url}">Open in the inbox</a>', mail.part("text/html"))

    def test_webhook_and_callback_bodies_carry_the_inbox_url(self):
        r = self.create([], callback_url=self.chat.url + CALLBACK)
        decided = self.server.call("POST", f"/v1/requests/{r['id']}/decisions",
                                   {"choice": "approve"}, token=self.carol)
        self.assertEqual(decided.status, 200, decided)
        url = "https://example.com/approvals/ui/requests/" + r["id"]
        events = self.chat.wait_until(
            lambda c: c.json.get("event") == "request.resolved", path=RECEIVER)
        self.assertEqual(events.json["inbox_url"], url)
        created = self.chat.requests(path=RECEIVER)[0]
        self.assertEqual(created.json["event"], "request.created")
        self.assertEqual(created.json["inbox_url"], url)
        [callback] = self.chat.wait_for(1, path=CALLBACK)
        self.assertEqual(callback.json["event"], "request.resolved")
        self.assertEqual(callback.json["inbox_url"], url)


if __name__ == "__main__":
    unittest.main()
