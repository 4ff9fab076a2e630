#include "notify/smtp_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

namespace countersign {
namespace {

struct Upload {
  std::string_view data;
  size_t pos = 0;
};

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->data.size() - upload->pos);
  std::memcpy(buffer, upload->data.data() + upload->pos, n);
  upload->pos += n;
  return n;
}

// Keeps the server's last reply line (libcurl hands SMTP replies to the header callback).
size_t OnReply(char* data, size_t size, size_t count, void* user) {
  auto* last = static_cast<std::string*>(user);
  const size_t n = size * count;
  std::string line(data, std::min<size_t>(n, 300));
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  // Printable ASCII only: the line ends up in logs and in the outbox's last_error.
  for (char& c : line) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
  if (!line.empty()) *last = std::move(line);
  return n;
}

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// "the SMTP server answered \"550 5.1.1 no such user\" (RCPT failed: 550)", or libcurl's
// message alone when the server said nothing decisive.
std::string Describe(long reply_code, std::string_view reply, std::string_view detail) {
  if (reply_code < 400) return "SMTP: " + std::string(detail);
  std::string out = "the SMTP server answered ";
  out += reply.empty() ? std::to_string(reply_code) : "\"" + std::string(reply) + "\"";
  if (!detail.empty()) out += " (" + std::string(detail) + ")";
  return out;
}

}  // namespace

SmtpResult ClassifySmtpFailure(int curl_code, long reply_code, std::string_view reply,
                               std::string_view detail) {
  using Kind = SmtpResult::Kind;
  const auto code = static_cast<CURLcode>(curl_code);
  if (code == CURLE_USE_SSL_FAILED) {
    return {Kind::kNoStartTls, reply_code,
            "the SMTP server does not offer STARTTLS and starttls = \"required\": nothing was "
            "sent (use smtps://, enable STARTTLS on the server, or starttls = \"off\" for a "
            "loopback relay)"};
  }
  if (reply_code >= 400 && reply_code < 500) {
    return {Kind::kTransient, reply_code, Describe(reply_code, reply, detail)};
  }
  if (reply_code >= 500 && reply_code < 600) {
    return {Kind::kPermanent, reply_code, Describe(reply_code, reply, detail)};
  }
  switch (code) {
    case CURLE_LOGIN_DENIED:
    case CURLE_AUTH_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
      return {Kind::kPermanent, reply_code, Describe(reply_code, reply, detail)};
    default:
      return {Kind::kTransient, reply_code, Describe(reply_code, reply, detail)};
  }
}

SmtpClient::SmtpClient(SmtpSettings settings) : settings_(std::move(settings)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

SmtpResult SmtpClient::Send(std::string_view from, std::string_view to, std::string_view message,
                            std::chrono::milliseconds timeout) const {
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) return {SmtpResult::Kind::kTransient, 0, "cannot create a libcurl handle"};
  CURL* h = easy.get();
  const std::string rcpt = "<" + std::string(to) + ">";
  std::unique_ptr<curl_slist, ListDeleter> rcpts(curl_slist_append(nullptr, rcpt.c_str()));
  if (!rcpts) return {SmtpResult::Kind::kTransient, 0, "out of memory"};
  const std::string mail_from = "<" + std::string(from) + ">";
  Upload upload{message, 0};
  std::string last_reply;
  char error[CURL_ERROR_SIZE] = {};
  const long millis = static_cast<long>(std::max<int64_t>(1, timeout.count()));

  curl_easy_setopt(h, CURLOPT_URL, settings_.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, millis);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, millis);
  curl_easy_setopt(h, CURLOPT_USE_SSL,
                   static_cast<long>(settings_.require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  if (!settings_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, settings_.ca_file.c_str());
  if (!settings_.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, settings_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, settings_.password.c_str());
  }
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts.get());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, OnRead);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnReply);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &last_reply);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);

  const CURLcode code = curl_easy_perform(h);
  long reply_code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply_code);
  if (code == CURLE_OK) return {SmtpResult::Kind::kSent, reply_code, ""};
  return ClassifySmtpFailure(code, reply_code, last_reply,
                             error[0] ? std::string_view(error) : curl_easy_strerror(code));
}

}  // namespace countersign
