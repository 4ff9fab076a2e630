// The pieces of Internet mail the email channel builds: addresses, header encoding, and the
// multipart message itself (mail_text.hpp, mail_message.hpp).
#include <gtest/gtest.h>

#include <map>

#include "notify/mail_message.hpp"
#include "notify/mail_text.hpp"
#include "testing/mail_reader.hpp"

namespace countersign {
namespace {

const TimePoint kNow = FromUnixMillis(1795255200000);  // 2026-11-21T10:00:00Z, a Saturday

std::string DecodeBase64(std::string_view text) {
  auto decoded = testing::DecodeBase64(text);
  EXPECT_TRUE(decoded.has_value()) << text;
  return decoded.value_or("");
}

std::vector<std::string> HeaderLines(const std::string& message) {
  return testing::ReadMailMessage(message).header_lines;
}

std::map<std::string, std::string> Headers(const std::string& message) {
  return testing::ReadMailMessage(message).headers;
}

using testing::DecodeHeader;

MailMessage Fixture() {
  MailMessage m;
  m.from = {"Countersign", "approvals@example.com"};
  m.to = "alice@example.com";
  m.subject = "Approval needed: Deploy v2.0";
  m.message_id = "<req_1.0123456789abcdef@cs.example.com>";
  m.date = kNow;
  m.text = "Approve: https://cs.example.com/l/abc\n";
  m.html = "<p><a href=\"https://cs.example.com/l/abc\">Approve</a></p>\n";
  return m;
}

TEST(MailTextTest, OnlyPlainWellFormedAddressesAreAccepted) {
  for (const char* good : {"alice@example.com", "a.b+tag@mail.example.co.uk", "ops@localhost",
                           "x_y-z!#$%&'*/=?^`{|}~@example.com"}) {
    EXPECT_TRUE(IsMailAddress(good)) << good;
  }
  for (const char* bad :
       {"", "alice", "@example.com", "alice@", "alice@@example.com", "a@b@example.com",
        "alice @example.com", "alice@example.com\r\nBcc: evil@example.net", "alice@exa\nmple.com",
        "\"alice\"@example.com", ".alice@example.com", "al..ice@example.com", "alice@-example.com",
        "alice@example..com", "alice@exam_ple.com", "ålice@example.com", "<alice@example.com>",
        "alice@example.com,bob@example.com"}) {
    EXPECT_FALSE(IsMailAddress(bad)) << bad;
  }
  EXPECT_FALSE(IsMailAddress(std::string(65, 'a') + "@example.com"));
}

TEST(MailTextTest, MailboxesAreParsedAndWrittenBackQuotedOrEncoded) {
  auto plain = ParseMailbox("approvals@example.com");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->display_name, "");
  EXPECT_EQ(FormatMailbox(*plain), "approvals@example.com");

  auto named = ParseMailbox("  Countersign <approvals@example.com> ");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->display_name, "Countersign");
  EXPECT_EQ(named->address, "approvals@example.com");
  EXPECT_EQ(FormatMailbox(*named), "\"Countersign\" <approvals@example.com>");

  auto quoted = ParseMailbox("\"Ops, \\\"Prod\\\"\" <ops@example.com>");
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->display_name, "Ops, \"Prod\"");
  EXPECT_EQ(FormatMailbox(*quoted), "\"Ops, \\\"Prod\\\"\" <ops@example.com>");

  const std::string encoded = FormatMailbox({"Zoë Ops", "ops@example.com"});
  EXPECT_EQ(encoded, "=?UTF-8?B?Wm/DqyBPcHM=?= <ops@example.com>");

  for (const char* bad : {"Ops <ops@example.com", "Ops\r\n <ops@example.com>", "<bad>",
                          "Ops <ops@example.com>\r\nBcc: evil@example.net",
                          "O\"ps <ops@example.com>", "Ops <ops @example.com>"}) {
    EXPECT_FALSE(ParseMailbox(bad)) << bad;
  }
}

TEST(MailTextTest, AsciiSubjectsStayAndOthersBecomeFoldedEncodedWords) {
  EXPECT_EQ(EncodeHeaderText("Approval needed: Deploy v2.0", 9), "Approval needed: Deploy v2.0");
  // Control characters (a header injection attempt) become spaces before anything else.
  EXPECT_EQ(EncodeHeaderText("Deploy\r\nBcc: evil@example.net", 9),
            "Deploy  Bcc: evil@example.net");
  // Text that looks like an encoded-word is encoded, so it reads back as itself.
  EXPECT_EQ(DecodeHeader(EncodeHeaderText("=?UTF-8?B?SGk=?=", 9)), "=?UTF-8?B?SGk=?=");

  const std::string unicode = "Déployer v2.0 \U0001F680 " + std::string(40, 'x') + " \u00e9t\u00e9";
  const std::string encoded = EncodeHeaderText(unicode, 9);
  EXPECT_EQ(DecodeHeader(encoded), unicode);
  EXPECT_TRUE(encoded.starts_with("=?UTF-8?B?"));
  size_t line_start = 0;
  bool first = true;
  while (line_start <= encoded.size()) {
    size_t end = encoded.find("\r\n", line_start);
    if (end == std::string::npos) end = encoded.size();
    const std::string line = encoded.substr(line_start, end - line_start);
    EXPECT_LE(line.size() + (first ? 9 : 0), 78u) << line;
    if (!first) {
      EXPECT_EQ(line[0], ' ');
    }
    // Every word decodes on its own: no character is split between two.
    const std::string word = first ? line : line.substr(1);
    EXPECT_LE(word.size(), 75u);
    EXPECT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    first = false;
    line_start = end + 2;
  }
  const std::string long_ascii(200, 'a');
  EXPECT_EQ(DecodeHeader(EncodeHeaderText(long_ascii, 9)), long_ascii);
}

TEST(MailTextTest, Base64BodiesAreInLinesOf76AndDatesAreRfc5322) {
  const std::string bytes(200, '\xff');
  const std::string lines = Base64Lines(bytes);
  EXPECT_EQ(DecodeBase64(lines), bytes);
  EXPECT_EQ(lines.substr(76, 2), "\r\n");
  EXPECT_TRUE(lines.ends_with("\r\n"));
  EXPECT_EQ(Base64Lines("Man"), "TWFu\r\n");
  EXPECT_EQ(Base64Lines("Ma"), "TWE=\r\n");
  EXPECT_EQ(MailDate(kNow), "Sat, 21 Nov 2026 10:00:00 +0000");
}

TEST(MailTextTest, MessageIdsAreAngleBracketedWithOneAtAndNoSpaces) {
  EXPECT_TRUE(IsMessageId("<req_1.abc@cs.example.com>"));
  for (const char* bad : {"req_1@cs", "<req_1>", "<req 1@cs>", "<req_1@cs>\r\nBcc: x@y", "<a@b@c>",
                          "<@cs>", "<a@>", "<a<b@c>"}) {
    EXPECT_FALSE(IsMessageId(bad)) << bad;
  }
}

TEST(MailMessageTest, AMessageIsMultipartAlternativeWithATextAndAnHtmlPart) {
  auto serialized = Fixture().Serialize();
  ASSERT_TRUE(serialized.ok()) << serialized.error().message;
  const std::string& m = serialized.value();
  auto headers = Headers(m);
  EXPECT_EQ(headers["Message-ID"], "<req_1.0123456789abcdef@cs.example.com>");
  EXPECT_EQ(headers["Date"], "Sat, 21 Nov 2026 10:00:00 +0000");
  EXPECT_EQ(headers["From"], "\"Countersign\" <approvals@example.com>");
  EXPECT_EQ(headers["To"], "alice@example.com");
  EXPECT_EQ(headers["Subject"], "Approval needed: Deploy v2.0");
  EXPECT_EQ(headers["MIME-Version"], "1.0");
  EXPECT_EQ(headers.count("In-Reply-To"), 0u);
  const std::string type = headers["Content-Type"];
  ASSERT_TRUE(type.starts_with("multipart/alternative; boundary=\"")) << type;
  const std::string boundary = type.substr(33, type.size() - 34);
  EXPECT_NE(boundary.find('_'), std::string::npos);  // never in base64

  // Every line ends in CRLF; no bare LF or CR.
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      EXPECT_EQ(m[i - 1], '\r') << i;
    }
    if (m[i] == '\r') {
      EXPECT_EQ(m[i + 1], '\n') << i;
    }
  }

  // Two parts, text then HTML, each base64 of the body with CRLF line ends.
  const std::string delimiter = "\r\n--" + boundary;
  const size_t first = m.find("--" + boundary + "\r\n");
  const size_t second = m.find(delimiter + "\r\n", first);
  const size_t close = m.find(delimiter + "--\r\n", second);
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  ASSERT_NE(close, std::string::npos);
  EXPECT_TRUE(m.ends_with("--" + boundary + "--\r\n"));
  const auto part = [&](size_t begin, size_t end) {
    const std::string body = m.substr(begin, end - begin);
    const size_t blank = body.find("\r\n\r\n");
    return std::make_pair(body.substr(0, blank), DecodeBase64(body.substr(blank + 4)));
  };
  auto [text_headers, text] = part(first + boundary.size() + 4, second);
  auto [html_headers, html] = part(second + delimiter.size() + 2, close);
  EXPECT_EQ(text_headers,
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64");
  EXPECT_EQ(html_headers,
            "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64");
  EXPECT_EQ(text, "Approve: https://cs.example.com/l/abc\r\n");
  EXPECT_EQ(html, "<p><a href=\"https://cs.example.com/l/abc\">Approve</a></p>\r\n");
  // The same fields give the same bytes (a retry sends what the first attempt did).
  EXPECT_EQ(Fixture().Serialize().value(), m);
}

TEST(MailMessageTest, AReplyNamesTheFirstMessageInInReplyToAndReferences) {
  MailMessage m = Fixture();
  m.message_id = "<req_1.0123456789abcdef.42@cs.example.com>";
  m.in_reply_to = "<req_1.0123456789abcdef@cs.example.com>";
  m.subject = "Re: Approval needed: Deploy v2.0";
  auto headers = Headers(m.Serialize().value());
  EXPECT_EQ(headers["In-Reply-To"], "<req_1.0123456789abcdef@cs.example.com>");
  EXPECT_EQ(headers["References"], "<req_1.0123456789abcdef@cs.example.com>");
  EXPECT_EQ(headers["Subject"], "Re: Approval needed: Deploy v2.0");
}

TEST(MailMessageTest, NoFieldCanAddAHeader) {
  const auto error = [](MailMessage m) {
    auto s = m.Serialize();
    return s.ok() ? std::string("ok") : s.error().message;
  };
  MailMessage to = Fixture();
  to.to = "alice@example.com\r\nBcc: evil@example.net";
  EXPECT_NE(error(to).find("To"), std::string::npos);
  MailMessage from = Fixture();
  from.from.address = "a@example.com>\r\nBcc: evil@example.net";
  EXPECT_NE(error(from).find("From"), std::string::npos);
  MailMessage id = Fixture();
  id.message_id = "<x@y>\r\nBcc: evil@example.net";
  EXPECT_NE(error(id).find("Message-ID"), std::string::npos);
  MailMessage reply = Fixture();
  reply.in_reply_to = "<x@y>\nBcc: evil@example.net";
  EXPECT_NE(error(reply).find("In-Reply-To"), std::string::npos);
  MailMessage extra = Fixture();
  extra.extra_headers = {{"X-Countersign-Request", "req_1\r\nBcc: evil@example.net"}};
  EXPECT_NE(error(extra).find("X-Countersign-Request"), std::string::npos);

  // Free text is folded into the one header it belongs to.
  MailMessage subject = Fixture();
  subject.subject = "Deploy\r\nBcc: evil@example.net\r\n\r\nbody";
  subject.from.display_name = "Ops\r\nBcc: evil@example.net";
  auto m = subject.Serialize();
  ASSERT_TRUE(m.ok());
  for (const auto& line : HeaderLines(m.value())) {
    EXPECT_FALSE(line.starts_with("Bcc")) << line;
  }
  EXPECT_EQ(Headers(m.value())["Subject"], "Deploy  Bcc: evil@example.net    body");
  EXPECT_EQ(Headers(m.value())["From"], "\"Ops  Bcc: evil@example.net\" <approvals@example.com>");
}

}  // namespace
}  // namespace countersign
