#include "notify/link_builder.hpp"

#include <string>

#include <gtest/gtest.h>

#include "core/public_url.hpp"

namespace countersign {
namespace {

constexpr char kId[] = "req_01JD3Z6Q8W9K4M2N7P5R0S1T2V";

TEST(LinkBuilderTest, TheInboxUrlIsTheRequestsPageUnderThePublicUrl) {
  LinkSigner signer{std::string(32, 'k')};
  // As the server builds it: from the parsed [server] public_url.
  auto bare = PublicUrl::Parse("https://Approvals.Example.com", "public_url");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(LinkBuilder(bare->text(), signer).InboxUrl(kId),
            "https://approvals.example.com/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V");

  auto with_path = PublicUrl::Parse("https://example.com/approvals", "public_url");
  ASSERT_TRUE(with_path.ok());
  EXPECT_EQ(LinkBuilder(with_path->text(), signer).InboxUrl(kId),
            "https://example.com/approvals/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V");

  // No public_url: the listener's address.
  const PublicUrl listener = PublicUrl::ForListener("127.0.0.1", 7400, false);
  EXPECT_EQ(LinkBuilder(listener.text(), signer).InboxUrl(kId),
            "http://127.0.0.1:7400/ui/requests/req_01JD3Z6Q8W9K4M2N7P5R0S1T2V");
}

TEST(LinkBuilderTest, TheInboxUrlCarriesNoTokenWhileAOneClickLinkDoes) {
  LinkSigner signer{std::string(32, 'k')};
  const LinkBuilder links("https://cs.example.com", signer);
  Request r;
  r.id = kId;
  r.tenant = "default";
  r.deadline_at = FromUnixMillis(1795256100000);
  const std::string one_click = links.Url(r, "approve", "alice");
  ASSERT_TRUE(one_click.starts_with("https://cs.example.com/l/"));
  EXPECT_TRUE(signer.Verify(one_click.substr(one_click.rfind('/') + 1)).ok());
  EXPECT_EQ(links.InboxUrl(r.id).find("/l/"), std::string::npos);
}

TEST(LinkBuilderTest, LinksForGivesEachApproverOneLinkPerChoiceWithGroupsExpanded) {
  LinkSigner signer{std::string(32, 'k')};
  const LinkBuilder links("https://cs.example.com", signer, [](std::string_view group) {
    return group == "sre" ? std::vector<std::string>{"bob", "alice"} : std::vector<std::string>{};
  });
  Request r;
  r.id = kId;
  r.tenant = "default";
  r.deadline_at = FromUnixMillis(1795256100000);
  r.approvers = {"alice", "group:sre", "group:unknown"};
  r.choices = {{"approve", "Approve", "primary", Outcome::kApproved},
               {"deny", "Deny", "danger", Outcome::kDenied}};
  const auto made = links.LinksFor(r);
  ASSERT_EQ(made.size(), 4u);  // alice once, though the group names her again
  const std::pair<const char*, const char*> expected[] = {
      {"alice", "approve"}, {"alice", "deny"}, {"bob", "approve"}, {"bob", "deny"}};
  for (size_t i = 0; i < made.size(); ++i) {
    EXPECT_EQ(made[i].recipient, expected[i].first);
    EXPECT_EQ(made[i].choice, expected[i].second);
    EXPECT_EQ(made[i].url, links.Url(r, made[i].choice, made[i].recipient));
    auto claims = signer.Verify(made[i].url.substr(made[i].url.rfind('/') + 1));
    ASSERT_TRUE(claims.ok());
    EXPECT_EQ(claims->recipient, made[i].recipient);
    EXPECT_EQ(claims->expires_at, r.deadline_at);
  }
  const auto json = LinksToJson(made);
  ASSERT_EQ(json.size(), 4u);
  EXPECT_EQ(json[3].as_object().at("recipient").as_string(), "bob");
  EXPECT_EQ(json[3].as_object().at("choice").as_string(), "deny");

  r.approvers.clear();  // anyone may decide: there is no one to address a link to
  EXPECT_TRUE(links.LinksFor(r).empty());
}

}  // namespace
}  // namespace countersign
