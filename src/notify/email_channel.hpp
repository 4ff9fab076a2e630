// EmailChannel: a [[channel]] of type "email". Mails each recipient of a request a message of
// their own over SMTP (libcurl), with one one-click link per choice bound to that recipient,
// and a follow-up in the same thread when the request resolves, expires or is cancelled.
//
// Settings: `smtp_url` (required: smtp://host[:port] upgraded with STARTTLS, or
// smtps://host[:port]); `starttls` = "required" (default: a server that does not offer
// STARTTLS is refused and nothing is sent) or "off" (plain SMTP, only to a loopback relay);
// `username` and `password` (env:/file: secrets, resolved by the config reader); `ca_file`
// (a PEM bundle to verify the server with); `from` (required: "addr" or "Name <addr>");
// `to` (a comma-separated list: addresses that get every request that names the channel);
// `addresses.PRINCIPAL` = address (config: addresses = { alice = "alice@example.com" }),
// each address used once; `allow_domains` (a comma-separated list); `principal`, whom the
// links in mail to `to` decide as (default "channel:NAME").
//
// Recipients (TargetsFor): a request that names the channel mails each of its approvers
// (groups expanded by the notifier) that has an address, then every `to` address, once
// each. A request that names "email:ADDRESS" mails that address only. Whom a message's links
// decide as follows from the address alone (Decider()): a principal's own address decides
// as that principal; a `to` address as `principal`; any other address whose domain is in
// `allow_domains` gets the message without decision links (the address was chosen by whoever
// created the request, who must not be able to mail themselves a vote); any other address is
// refused (the row fails). Every message, to any recipient and in any state of the request,
// links to the request's page in the web inbox (LinkBuilder::InboxUrl) after the choices.
//
// Rows: "post" for request.created, request.escalated and request.reminded; "update" for
// request.resolved, request.expired and request.cancelled; one row per recipient (its target
// is the address), so each is retried or fails alone. Threading: the created post has
// Message-ID <REQUEST_ID.H@DOMAIN> (H: 16 hex digits of SHA-256 of the lower-cased address;
// DOMAIN: the public URL's host), every later message <REQUEST_ID.H.EVENT_SEQ@DOMAIN> with
// In-Reply-To and References naming the first and the subject "Re: " + the first's subject.
// The same row gives the same message on every attempt (Date is the row's creation time).
// SMTP outcomes: accepted → delivered; a 4xx reply, no answer or a dropped connection →
// retried; a 5xx reply, a refused login or a missing STARTTLS → failed.
//
// Thread-safe (immutable after Create()). The LinkBuilder passed to Create() must outlive the
// channel.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "notify/channel.hpp"
#include "notify/channel_settings.hpp"
#include "notify/link_builder.hpp"
#include "notify/mail_text.hpp"
#include "notify/smtp_client.hpp"

namespace countersign {

class EmailChannel final : public Channel {
 public:
  // Validates and takes the settings; errors name the offending key. `links` must outlive
  // the channel.
  static Result<std::unique_ptr<EmailChannel>> Create(ChannelSettings settings,
                                                      const LinkBuilder& links);

  const std::string& name() const override { return name_; }
  std::string_view type() const override { return "email"; }
  std::vector<std::string> KindsFor(std::string_view event_type) const override;
  std::vector<std::string> TargetsFor(const Request& request,
                                      const std::vector<std::string>& principals,
                                      std::string_view address) const override;
  // Email is not HTTP: always kInvalid (Deliver() does the work).
  Result<OutboundCall> Render(const OutboxRow& row, const Request& request,
                              std::string_view message_ref) const override;
  DeliveryOutcome Deliver(const OutboxRow& row, const Request& request,
                          std::string_view message_ref, HttpTransport& transport,
                          std::chrono::milliseconds timeout) const override;

  // Whom links in a message to `address` decide as: a principal, the channel's principal,
  // "" for a message without decision links; nullopt when this channel does not mail the
  // address.
  std::optional<std::string> Decider(std::string_view address) const;
  // The message `row` sends, exactly as it goes over SMTP; kInvalid when the row's target is
  // not a recipient of this channel or a header would be unacceptable.
  Result<std::string> Compose(const OutboxRow& row, const Request& request) const;
  // The Message-ID of the first message about `request_id` to `address`.
  std::string ThreadId(std::string_view request_id, std::string_view address) const;

  const SmtpSettings& smtp() const { return smtp_.settings(); }

 private:
  EmailChannel(std::string name, const LinkBuilder& links, SmtpSettings smtp);

  std::string name_;
  const LinkBuilder& links_;
  SmtpClient smtp_;
  Mailbox from_;
  std::vector<std::string> to_;
  std::map<std::string, std::string> addresses_;  // principal -> address
  std::map<std::string, std::string> owners_;     // lower-cased address -> principal
  std::vector<std::string> allow_domains_;        // lower-cased
  std::string principal_;
  std::string id_domain_;  // the right-hand side of Message-IDs
};

}  // namespace countersign
