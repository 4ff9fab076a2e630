#include "notify/email_channel.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/ascii.hpp"
#include "core/choice_meaning.hpp"
#include "core/sha256.hpp"
#include "notify/email_body.hpp"
#include "notify/mail_message.hpp"

namespace countersign {
namespace {

// The items of a comma-separated list, trimmed; empty items dropped.
std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(begin, end - begin);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) {
      item.remove_prefix(1);
    }
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) {
      item.remove_suffix(1);
    }
    if (!item.empty()) out.emplace_back(item);
    begin = end + 1;
  }
  return out;
}

// The host of "scheme://host[:port][/...]", without brackets; "" when there is none.
std::string UrlHost(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    return close == std::string_view::npos ? std::string() : std::string(rest.substr(1, close - 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

// A host name usable on the right of a Message-ID; else a reserved name.
std::string IdDomain(const std::string& public_url) {
  const std::string host = AsciiLower(UrlHost(public_url));
  if (!host.empty() && IsMailAddress("x@" + host)) return host;
  return "countersign.invalid";
}

bool IsAskingEvent(std::string_view event) {
  return event == "request.created" || event == "request.escalated" || event == "request.reminded";
}

bool IsClosingEvent(std::string_view event) {
  return event == "request.resolved" || event == "request.expired" || event == "request.cancelled";
}

}  // namespace

EmailChannel::EmailChannel(std::string name, const LinkBuilder& links, SmtpSettings smtp)
    : name_(std::move(name)), links_(links), smtp_(std::move(smtp)) {}

Result<std::unique_ptr<EmailChannel>> EmailChannel::Create(ChannelSettings settings,
                                                           const LinkBuilder& links) {
  const std::string where = settings.source + ": channel '" + settings.name + "' (email)";
  SmtpSettings smtp;
  auto url = settings.TakeRequired("smtp_url");
  if (!url.ok()) return std::move(url).error();
  smtp.url = std::move(url).value();
  const bool implicit_tls = smtp.url.starts_with("smtps://");
  if (!implicit_tls && !smtp.url.starts_with("smtp://")) {
    return Error::Invalid(settings.At("smtp_url") +
                          ": smtp_url must be an smtp:// or smtps:// URL");
  }
  const std::string host = UrlHost(smtp.url);
  if (host.empty()) return Error::Invalid(settings.At("smtp_url") + ": smtp_url has no host");
  const std::string starttls = settings.Take("starttls").value_or("required");
  if (starttls == "required") {
    smtp.require_tls = true;
  } else if (starttls == "off") {
    if (implicit_tls) {
      return Error::Invalid(settings.At("starttls") +
                            ": starttls = \"off\" makes no sense with smtps://");
    }
    if (!IsLoopbackHost(host)) {
      return Error::Invalid(where +
                            ": starttls = \"off\" is only allowed for a relay on "
                            "loopback (localhost, 127.0.0.1, ::1), not '" +
                            host + "': mail and the password would cross the network in clear");
    }
    smtp.require_tls = false;
  } else {
    return Error::Invalid(settings.At("starttls") + ": starttls must be \"required\" or \"off\"");
  }
  smtp.username = settings.Take("username").value_or("");
  smtp.password = settings.Take("password").value_or("");
  if (!smtp.password.empty() && smtp.username.empty()) {
    return Error::Invalid(settings.At("password") + ": password is set but username is not");
  }
  smtp.ca_file = settings.Take("ca_file").value_or("");
  if (!smtp.ca_file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(smtp.ca_file, ec)) {
      return Error::Invalid(settings.At("ca_file") + ": ca_file " + smtp.ca_file +
                            " is not a readable file");
    }
  }

  std::unique_ptr<EmailChannel> c(new EmailChannel(settings.name, links, std::move(smtp)));
  auto from_text = settings.TakeRequired("from");
  if (!from_text.ok()) return std::move(from_text).error();
  auto from = ParseMailbox(from_text.value());
  if (!from) {
    return Error::Invalid(settings.At("from") +
                          ": from must be an address or \"Name <address>\" (got '" +
                          from_text.value() + "')");
  }
  c->from_ = std::move(*from);

  for (auto& address : SplitList(settings.Take("to").value_or(""))) {
    if (!IsMailAddress(address)) {
      return Error::Invalid(settings.At("to") + ": to has '" + address +
                            "', which is not an address");
    }
    if (std::find(c->to_.begin(), c->to_.end(), address) == c->to_.end()) {
      c->to_.push_back(std::move(address));
    }
  }
  for (auto& domain : SplitList(settings.Take("allow_domains").value_or(""))) {
    domain = AsciiLower(domain);
    if (!IsMailAddress("x@" + domain)) {
      return Error::Invalid(settings.At("allow_domains") + ": allow_domains has '" + domain +
                            "', which is not a domain");
    }
    c->allow_domains_.push_back(std::move(domain));
  }
  // addresses = { alice = "..." } arrives flattened as "addresses.alice".
  constexpr std::string_view kAddresses = "addresses.";
  for (auto it = settings.values.begin(); it != settings.values.end();) {
    if (!it->first.starts_with(kAddresses)) {
      ++it;
      continue;
    }
    const std::string principal = it->first.substr(kAddresses.size());
    const std::string address = it->second;
    if (principal.empty())
      return Error::Invalid(settings.At("addresses") + ": addresses has an empty principal");
    if (!IsMailAddress(address)) {
      return Error::Invalid(settings.At("addresses") + ": addresses." + principal + " = '" +
                            address + "' is not an address");
    }
    auto [owner, added] = c->owners_.emplace(AsciiLower(address), principal);
    if (!added) {
      return Error::Invalid(settings.At("addresses") + ": addresses gives " + address +
                            " to both " + owner->second + " and " + principal +
                            " (a link decides as one person)");
    }
    c->addresses_[principal] = address;
    it = settings.values.erase(it);
  }
  c->principal_ = settings.Take("principal").value_or("channel:" + settings.name);
  if (c->principal_.empty())
    return Error::Invalid(settings.At("principal") + " has an empty principal");
  c->id_domain_ = IdDomain(links.public_url());
  CS_RETURN_IF_ERROR(settings.RejectUnknown());
  return c;
}

std::vector<std::string> EmailChannel::KindsFor(std::string_view event_type) const {
  if (IsAskingEvent(event_type)) return {"post"};
  if (IsClosingEvent(event_type)) return {"update"};
  return {};
}

std::vector<std::string> EmailChannel::TargetsFor(const Request& /*request*/,
                                                  const std::vector<std::string>& principals,
                                                  std::string_view address) const {
  if (!address.empty()) return {std::string(address)};
  std::vector<std::string> out;
  std::vector<std::string> seen;  // lower-cased
  const auto add = [&](const std::string& a) {
    std::string key = AsciiLower(a);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) return;
    seen.push_back(std::move(key));
    out.push_back(a);
  };
  for (const auto& p : principals) {
    auto found = addresses_.find(p);
    if (found != addresses_.end()) add(found->second);
  }
  for (const auto& a : to_) add(a);
  return out;
}

std::optional<std::string> EmailChannel::Decider(std::string_view address) const {
  if (!IsMailAddress(address)) return std::nullopt;
  const std::string key = AsciiLower(address);
  if (auto owner = owners_.find(key); owner != owners_.end()) return owner->second;
  for (const auto& a : to_) {
    if (AsciiLower(a) == key) return principal_;
  }
  const std::string domain = key.substr(key.find('@') + 1);
  if (std::find(allow_domains_.begin(), allow_domains_.end(), domain) != allow_domains_.end()) {
    return std::string();
  }
  return std::nullopt;
}

std::string EmailChannel::ThreadId(std::string_view request_id, std::string_view address) const {
  return "<" + std::string(request_id) + "." + Sha256Hex(AsciiLower(address)).substr(0, 16) + "@" +
         id_domain_ + ">";
}

Result<std::string> EmailChannel::Compose(const OutboxRow& row, const Request& request) const {
  const std::string& address = row.target;
  const auto decider = Decider(address);
  if (!decider) {
    return Error::Invalid("'" + address + "' is not a recipient of email channel '" + name_ +
                          "': it is not in addresses or to, and its domain is not in "
                          "allow_domains");
  }
  std::vector<EmailLink> links;
  if (request.pending() && !decider->empty()) {
    for (const Choice& c : request.choices) {
      links.push_back({ChoiceMeaning::Caption(c), links_.Url(request, c.id, *decider),
                       ChoiceMeaning::Style(c)});
    }
  }
  EmailBody body =
      RenderEmailBody(request, row.event, links, *decider, links_.InboxUrl(request.id));

  MailMessage m;
  m.from = from_;
  m.to = address;
  m.date = row.created_at;
  m.subject = EmailSubject(request);
  const std::string thread = ThreadId(request.id, address);
  if (row.kind == "post" && row.event == "request.created") {
    m.message_id = thread;
  } else {
    m.message_id = thread.substr(0, thread.find('@')) + "." + std::to_string(row.event_seq) +
                   thread.substr(thread.find('@'));
    m.in_reply_to = thread;
    m.subject = "Re: " + m.subject;
  }
  m.extra_headers = {{"Auto-Submitted", "auto-generated"},
                     {"X-Auto-Response-Suppress", "All"},
                     {"X-Countersign-Request", request.id}};
  m.text = std::move(body.text);
  m.html = std::move(body.html);
  return m.Serialize();
}

Result<OutboundCall> EmailChannel::Render(const OutboxRow& /*row*/, const Request& /*request*/,
                                          std::string_view /*message_ref*/) const {
  return Error::Invalid("email channel '" + name_ + "' delivers over SMTP, not HTTP");
}

DeliveryOutcome EmailChannel::Deliver(const OutboxRow& row, const Request& request,
                                      std::string_view /*message_ref*/,
                                      HttpTransport& /*transport*/,
                                      std::chrono::milliseconds timeout) const {
  if (row.kind != "post" && row.kind != "update") {
    return DeliveryOutcome::Failed("email channel '" + name_ + "' cannot deliver a '" + row.kind +
                                   "' row");
  }
  auto message = Compose(row, request);
  if (!message.ok()) return DeliveryOutcome::Failed("cannot compose: " + message.error().message);
  const SmtpResult sent = smtp_.Send(from_.address, row.target, message.value(), timeout);
  switch (sent.kind) {
    case SmtpResult::Kind::kSent:
      return DeliveryOutcome::Delivered();
    case SmtpResult::Kind::kTransient:
      return DeliveryOutcome::Retry(sent.error);
    case SmtpResult::Kind::kNoStartTls:
    case SmtpResult::Kind::kPermanent:
      return DeliveryOutcome::Failed(sent.error);
  }
  return DeliveryOutcome::Failed(sent.error);
}

}  // namespace countersign
