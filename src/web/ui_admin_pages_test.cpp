#include "web/ui_admin_pages.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

using namespace std::chrono_literals;

constexpr char kHostile[] = "<script>alert(1)</script>";

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

class UiAdminPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto links = LinkPages::Load();
    ASSERT_TRUE(links.ok()) << links.error().message;
    links_.emplace(std::move(links).value());
    auto ui = UiPages::Load(*links_, "/approvals");
    ASSERT_TRUE(ui.ok()) << ui.error().message;
    ui_.emplace(std::move(ui).value());
    auto admin = UiAdminPages::Load(*ui_);
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    admin_.emplace(std::move(admin).value());
  }

  std::optional<LinkPages> links_;
  std::optional<UiPages> ui_;
  std::optional<UiAdminPages> admin_;
  UiViewer viewer_{"root", "admin", "CSRFVALUE"};
};

Principal Token(std::string id, std::string name, bool revoked) {
  Principal p;
  p.id = std::move(id);
  p.name = std::move(name);
  p.role = Role::kApprover;
  p.groups = {"sre"};
  p.token_sha256 = "0123abcd";
  p.created_at = TimePoint(1795255200s);
  if (revoked) p.revoked_at = TimePoint(1795255500s);
  return p;
}

TEST_F(UiAdminPagesTest, TokensEscapeNamesOfferRevokeOnlyForActiveOnesAndNeverShowAHash) {
  const std::vector<Principal> tokens = {Token("tok_A", kHostile, false),
                                         Token("tok_B", "old", true)};
  const std::string html = admin_->Tokens(viewer_, tokens, "tok_A", false, {}, UiTokenForm{});
  EXPECT_FALSE(Contains(html, kHostile));
  EXPECT_TRUE(Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_TRUE(Contains(html, "action=\"/approvals/ui/admin/tokens/tok_A/revoke\""));
  EXPECT_FALSE(Contains(html, "/tok_B/revoke"));
  EXPECT_TRUE(Contains(html, "and sign me out"));
  EXPECT_TRUE(Contains(html, "name=\"csrf\" value=\"CSRFVALUE\""));
  EXPECT_TRUE(Contains(html, "1 active token, 1 revoked."));
  EXPECT_FALSE(Contains(html, "0123abcd"));
  EXPECT_FALSE(Contains(html, "token-tenant"));  // only the operator's admins pick a tenant
  EXPECT_TRUE(
      Contains(admin_->Tokens(viewer_, tokens, "", true, {}, UiTokenForm{}), "token-tenant"));
}

TEST_F(UiAdminPagesTest, ANewTokensSecretIsInAReadOnlyFieldWithAWarning) {
  const std::string html =
      admin_->TokenCreated(viewer_, Token("tok_A", "deploy-bot", false), "cs_secret\"<x>");
  EXPECT_TRUE(Contains(html, "readonly value=\"cs_secret&quot;&lt;x&gt;\""));
  EXPECT_TRUE(Contains(html, "the only time it is shown"));
}

TEST_F(UiAdminPagesTest, OutboxOffersRetryOnPendingAndFailedRowsOnly) {
  std::vector<UiOutboxItem> rows(3);
  const char* states[] = {"pending", "failed", "delivered"};
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].delivery_id = "dlv_" + std::to_string(i);
    rows[i].state = states[i];
    rows[i].destination = kHostile;
    rows[i].last_error = kHostile;
  }
  const std::string html = admin_->Outbox(viewer_, rows, "", "", 200, {});
  EXPECT_TRUE(Contains(html, "/ui/admin/outbox/dlv_0/retry"));
  EXPECT_TRUE(Contains(html, "/ui/admin/outbox/dlv_1/retry"));
  EXPECT_FALSE(Contains(html, "/ui/admin/outbox/dlv_2/retry"));
  EXPECT_FALSE(Contains(html, kHostile));
  EXPECT_TRUE(Contains(html, "3 deliveries, newest first."));
  const std::string failed = admin_->Outbox(viewer_, {}, "failed", "", 200, {});
  EXPECT_TRUE(Contains(failed,
                       "href=\"/approvals/ui/admin/outbox?state=failed\" "
                       "aria-current=\"page\""));
  EXPECT_TRUE(Contains(failed, "No delivery (failed)."));
}

TEST_F(UiAdminPagesTest, ChannelHealthSaysFailingWhenTheNewestNewsIsAFailure) {
  UiAdminOverview overview;
  UiChannelHealth sink;
  sink.kind = "webhook";
  sink.name = "audit-sink";
  sink.destination = "webhook:audit-sink";
  sink.last_delivered = TimePoint(1795255200s);
  sink.last_failed = TimePoint(1795255500s);
  sink.last_error = kHostile;
  overview.channels.push_back(sink);
  sink.name = "quiet";
  sink.last_delivered.reset();
  sink.last_failed.reset();
  sink.last_error.clear();
  overview.channels.push_back(sink);
  const std::string html = admin_->Overview(viewer_, overview);
  EXPECT_TRUE(Contains(html, "failing: a delivery was given up"));
  EXPECT_TRUE(Contains(html, "no deliveries yet"));
  EXPECT_FALSE(Contains(html, kHostile));
}

}  // namespace
}  // namespace countersign
