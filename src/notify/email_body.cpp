#include "notify/email_body.hpp"

#include <utility>

#include <boost/json/serialize.hpp>

#include "core/grant_option_text.hpp"
#include "notify/chat_text.hpp"
#include "notify/request_text.hpp"
#include "web/pretty_json.hpp"
#include "web/safe_html.hpp"

namespace countersign {
namespace {

struct Field {
  std::string name;
  std::string value;
};

std::vector<Field> Fields(const Request& r) {
  std::vector<Field> fields{{"Action", r.action},
                            {"Requested by", r.requester},
                            {"Deadline", UtcMinutes(r.deadline_at)},
                            {"Risk", r.risk},
                            {"Policy", r.policy}};
  if (!r.approvers.empty()) {
    std::string who = JoinText(r.approvers, ", ");
    if (r.quorum > 1) who += " (" + std::to_string(r.quorum) + " needed)";
    fields.push_back({"Approvers", who});
  }
  if (r.escalation_level > 0) {
    fields.push_back({"Escalation", "level " + std::to_string(r.escalation_level)});
  }
  for (const auto& [key, value] : r.details) {
    fields.push_back({std::string(key), value.is_string() ? std::string(value.get_string())
                                                          : boost::json::serialize(value)});
  }
  for (auto& f : fields) {
    f.name = TruncateText(f.name, 100);
    f.value = TruncateText(f.value, EmailBody::kMaxField);
  }
  return fields;
}

// "alice: Approve — “ship it”", one per decision.
std::vector<std::string> DecisionLines(const Request& r) {
  std::vector<std::string> lines;
  for (const auto& d : r.decisions) {
    std::string line = d.principal + ": " + DecisionText(r, d);
    if (!d.comment.empty()) line += " \u2014 \u201c" + d.comment + "\u201d";
    lines.push_back(TruncateText(line, EmailBody::kMaxField));
  }
  return lines;
}

std::string ArgumentsText(const Request& r) {
  return TruncateText(PrettyJson(boost::json::value(r.arguments)), EmailBody::kMaxArguments);
}

constexpr char kLinksNote[] =
    "Each link opens a page that asks you to confirm; opening it decides nothing.";

// When r offers standing approvals, the sentence that says the approval page offers them
// (the page has one button per option); empty otherwise, and while the next approval would
// not complete the request (only that one gives a grant, so the page offers none).
std::string GrantsNote(const Request& r) {
  if (r.grant_options.empty() || Approvals(r) + 1 < r.quorum) return "";
  std::string labels;
  for (size_t i = 0; i < r.grant_options.size(); ++i) {
    if (i > 0) labels += i + 1 == r.grant_options.size() ? " or " : ", ";
    labels += "“" + GrantOptionLabel(r, r.grant_options[i]) + "”";
  }
  return "The approval page also lets you choose a standing approval instead of approving once: " +
         labels + ".";
}

std::string PlainText(const Request& r, std::string_view event, const std::vector<EmailLink>& links,
                      std::string_view decides_as, std::string_view inbox_url) {
  std::string out = RequestHeadline(r, event) + "\n\n" + r.title + "\n\n";
  for (const auto& f : Fields(r)) {
    std::string name = f.name + ":";
    if (name.size() < 14) name.resize(14, ' ');
    out += name + " " + f.value + "\n";
  }
  if (!r.arguments.empty()) out += "\nArguments:\n" + ArgumentsText(r) + "\n";
  const auto decisions = DecisionLines(r);
  if (!decisions.empty()) {
    out += "\nDecisions:\n";
    for (const auto& line : decisions) out += "- " + line + "\n";
  }
  if (r.pending()) {
    if (links.empty()) {
      out +=
          "\nThis message carries no decision links: decide in countersign or where your "
          "team decides.\n";
    } else {
      out += "\nChoose:\n";
      for (const auto& link : links) out += "  " + link.label + ": " + link.url + "\n";
      if (const std::string grants = GrantsNote(r); !grants.empty()) out += "\n" + grants + "\n";
      out += "\n" + std::string(kLinksNote) + "\nThese links decide as " + std::string(decides_as) +
             ". Do not forward this message.\n";
    }
  }
  if (!inbox_url.empty()) out += "\nOpen in the inbox: " + std::string(inbox_url) + "\n";
  out += "\n-- \ncountersign request " + r.id + "\n";
  return ShowBidiControls(out);
}

const char* ButtonColor(std::string_view style) {
  if (style == "primary") return "#2eb886";
  if (style == "danger") return "#d13438";
  return "#605e5c";
}

std::string Html(const Request& r, std::string_view event, const std::vector<EmailLink>& links,
                 std::string_view decides_as, std::string_view inbox_url) {
  const auto e = [](std::string_view text) { return HtmlEscape(ShowBidiControls(text)).str(); };
  std::string out =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + e(EmailSubject(r)) +
      "</title></head>\n<body style=\"font-family:sans-serif;font-size:14px;color:#201f1e\">\n";
  out += "<p style=\"color:#605e5c;margin:0\">" + e(RequestHeadline(r, event)) + "</p>\n";
  out += "<h2 style=\"margin:4px 0 12px 0\">" + e(r.title) + "</h2>\n";
  out += "<table style=\"border-collapse:collapse\">\n";
  for (const auto& f : Fields(r)) {
    out += "<tr><th style=\"text-align:left;padding:2px 12px 2px 0;vertical-align:top\">" +
           e(f.name) + "</th><td style=\"padding:2px 0\">" + e(f.value) + "</td></tr>\n";
  }
  out += "</table>\n";
  if (!r.arguments.empty()) {
    out +=
        "<h3 style=\"margin:16px 0 4px 0\">Arguments</h3>\n<pre style=\"background:#f3f2f1;"
        "padding:8px;white-space:pre-wrap\">" +
        e(ArgumentsText(r)) + "</pre>\n";
  }
  const auto decisions = DecisionLines(r);
  if (!decisions.empty()) {
    out += "<h3 style=\"margin:16px 0 4px 0\">Decisions</h3>\n<ul>\n";
    for (const auto& line : decisions) out += "<li>" + e(line) + "</li>\n";
    out += "</ul>\n";
  }
  if (r.pending()) {
    if (links.empty()) {
      out +=
          "<p>This message carries no decision links: decide in countersign or where your "
          "team decides.</p>\n";
    } else {
      out += "<p style=\"margin:16px 0\">\n";
      for (const auto& link : links) {
        out += "<a href=\"" + e(link.url) +
               "\" style=\"display:inline-block;padding:8px 16px;"
               "margin-right:8px;border-radius:4px;color:#ffffff;text-decoration:none;"
               "background:" +
               ButtonColor(link.style) + "\">" + e(link.label) + "</a>\n";
      }
      out += "</p>\n";
      if (const std::string grants = GrantsNote(r); !grants.empty()) {
        out += "<p>" + e(grants) + "</p>\n";
      }
      out += "<p style=\"color:#605e5c;font-size:12px\">" + e(kLinksNote) +
             " These links decide as " + e(decides_as) + ". Do not forward this message.</p>\n";
    }
  }
  if (!inbox_url.empty()) {
    out += "<p><a href=\"" + e(inbox_url) + "\">Open in the inbox</a></p>\n";
  }
  out += "<p style=\"color:#a19f9d;font-size:12px\">countersign request " + e(r.id) + "</p>\n";
  out += "</body></html>\n";
  return out;
}

}  // namespace

std::string EmailSubject(const Request& r) {
  const char* asks = r.kind == Kind::kVerification ? "Please confirm"
                     : r.kind == Kind::kQuestion   ? "Question"
                                                   : "Approval needed";
  return std::string(asks) + ": " +
         TruncateText(ShowBidiControls(r.title.empty() ? r.action : r.title), EmailBody::kMaxTitle);
}

EmailBody RenderEmailBody(const Request& r, std::string_view event,
                          const std::vector<EmailLink>& links, std::string_view decides_as,
                          std::string_view inbox_url) {
  return {PlainText(r, event, links, decides_as, inbox_url),
          Html(r, event, links, decides_as, inbox_url)};
}

}  // namespace countersign
