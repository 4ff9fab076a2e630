#include "notify/link_builder.hpp"

namespace countersign {

std::string LinkBuilder::Url(const Request& request, const std::string& choice,
                             const std::string& recipient) const {
  LinkClaims claims{request.tenant, request.id, choice, recipient,
                    std::chrono::time_point_cast<std::chrono::seconds>(request.deadline_at)};
  return public_url_ + "/l/" + signer_.Sign(claims);
}

std::string LinkBuilder::InboxUrl(std::string_view request_id) const {
  return public_url_ + "/ui/requests/" + std::string(request_id);
}

}  // namespace countersign
