#include "notify/curl_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace countersign {
namespace {

struct ReplySink {
  OutboundReply* reply;
  size_t limit;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<ReplySink*>(user);
  const size_t n = size * count;
  std::string& body = sink->reply->body;
  if (body.size() < sink->limit) body.append(data, std::min(n, sink->limit - body.size()));
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<ReplySink*>(user);
  const size_t n = size * count;
  std::string line(data, n);
  const size_t colon = line.find(':');
  if (colon == std::string::npos) {
    // A new status line (after a 100 Continue): forget the headers seen so far.
    if (line.rfind("HTTP/", 0) == 0) sink->reply->headers.clear();
    return n;
  }
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string value = line.substr(colon + 1);
  const size_t begin = value.find_first_not_of(" \t");
  const size_t end = value.find_last_not_of(" \t\r\n");
  value = begin == std::string::npos ? std::string() : value.substr(begin, end - begin + 1);
  if (sink->reply->headers.size() < 100) sink->reply->headers[name] = value;
  return n;
}

// What the connect-time check needs, and what it found.
struct SocketGate {
  const OutboundPolicy* policy;
  std::string host;
  std::string refusal;  // set when an address was refused
};

curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* gate = static_cast<SocketGate*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  Status allowed = gate->policy->CheckAddress(gate->host, &address->addr);
  if (!allowed.ok()) {
    gate->refusal = allowed.error().message;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// CURLOPT_XFERINFOFUNCTION: abort once the call's cancel flag is set.
int OnProgress(void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
}

}  // namespace

CurlTransport::CurlTransport(OutboundPolicy policy, size_t max_reply_bytes)
    : policy_(std::move(policy)), max_reply_bytes_(max_reply_bytes) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlTransport::~CurlTransport() = default;

OutboundReply CurlTransport::Send(const OutboundCall& call, std::chrono::milliseconds timeout) {
  OutboundReply reply;
  if (Status allowed = policy_.CheckUrl("the URL", call.url); !allowed.ok()) {
    reply.refused = true;
    reply.error = "refused by the outbound policy: " + allowed.error().message;
    return reply;
  }
  SocketGate gate{&policy_, OutboundPolicy::HostOf(call.url).value_or(""), {}};
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) {
    reply.error = "cannot create a libcurl handle";
    return reply;
  }
  CURL* h = easy.get();
  // libcurl would otherwise send "Expect: 100-continue" for larger bodies and wait for it.
  std::unique_ptr<curl_slist, ListDeleter> headers(curl_slist_append(nullptr, "Expect:"));
  for (const auto& [name, value] : call.headers) {
    const std::string line = name + ": " + value;
    // Appending to a non-empty list returns its head, or null (and leaves it intact).
    if (!headers || !curl_slist_append(headers.get(), line.c_str())) {
      reply.error = "out of memory building headers";
      return reply;
    }
  }
  ReplySink sink{&reply, max_reply_bytes_};
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(h, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  if (call.method != "GET") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, OnOpenSocket);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &gate);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<int64_t>(timeout.count(), 10000)));
  curl_easy_setopt(h, CURLOPT_USERAGENT, "countersign");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  if (call.cancelled) {
    // libcurl asks about once a second, and at every transfer: a non-zero answer aborts.
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, call.cancelled);
  }
  const CURLcode code = curl_easy_perform(h);
  if (!gate.refusal.empty()) {
    reply.status = 0;
    reply.refused = true;
    reply.error = gate.refusal;
    return reply;
  }
  if (code == CURLE_ABORTED_BY_CALLBACK) {
    reply.status = 0;
    reply.error = "cancelled";
    return reply;
  }
  if (code != CURLE_OK) {
    reply.status = 0;
    reply.error = error_buffer[0] != '\0' ? std::string(error_buffer) : curl_easy_strerror(code);
    return reply;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  reply.status = static_cast<int>(status);
  return reply;
}

}  // namespace countersign
