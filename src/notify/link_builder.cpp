#include "notify/link_builder.hpp"

namespace countersign {

std::string LinkBuilder::Url(const Request& request, const std::string& choice,
                             const std::string& recipient) const {
  LinkClaims claims{request.tenant, request.id, choice, recipient,
                    std::chrono::time_point_cast<std::chrono::seconds>(request.deadline_at)};
  return public_url_ + "/l/" + signer_.Sign(claims);
}

std::vector<OneClickLink> LinkBuilder::LinksFor(const Request& request) const {
  std::vector<OneClickLink> links;
  for (const auto& recipient : ExpandApprovers(request.approvers, group_members_)) {
    for (const Choice& c : request.choices) {
      links.push_back({recipient, c.id, Url(request, c.id, recipient)});
    }
  }
  return links;
}

std::string LinkBuilder::InboxUrl(std::string_view request_id) const {
  return public_url_ + "/ui/requests/" + std::string(request_id);
}

boost::json::array LinksToJson(const std::vector<OneClickLink>& links) {
  boost::json::array out;
  out.reserve(links.size());
  for (const auto& link : links) {
    out.push_back(boost::json::object{
        {"recipient", link.recipient}, {"choice", link.choice}, {"url", link.url}});
  }
  return out;
}

}  // namespace countersign
