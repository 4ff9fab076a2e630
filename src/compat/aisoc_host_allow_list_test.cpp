#include "compat/aisoc_host_allow_list.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

const AisocHostAllowList kList({"hooks.slack.com", "*.webhook.office.com", "127.0.0.1"});

bool Allowed(std::string_view url) { return kList.Check("webhook_url", url).ok(); }

TEST(AisocHostAllowListTest, ExactNamesWildcardsAndLoopbackHttp) {
  EXPECT_TRUE(Allowed("https://hooks.slack.com/services/T/B/x"));
  EXPECT_TRUE(Allowed("https://HOOKS.Slack.com/x"));
  EXPECT_TRUE(Allowed("https://contoso.webhook.office.com/x"));
  EXPECT_FALSE(Allowed("https://webhook.office.com/x"));  // the wildcard's domain itself
  EXPECT_TRUE(Allowed("http://127.0.0.1:8080/x"));
  EXPECT_FALSE(Allowed("http://hooks.slack.com/x"));
  EXPECT_FALSE(Allowed("https://user@hooks.slack.com/x"));
  EXPECT_FALSE(Allowed("https://hooks.slack.com.evil.example/x"));
}

// Found while fuzzing (fuzz/aisoc_body_fuzz): the check compared the decoded host, so an
// encoded '/' or '.' made a foreign name look like an allowed one.
TEST(AisocHostAllowListTest, APercentEncodedHostIsRefused) {
  for (const char* url : {"https://evil.example%2f.webhook.office.com/x",
                          "https://hooks%2eslack%2ecom/x", "https://hooks.slack.co%6d/x"}) {
    SCOPED_TRACE(url);
    Status checked = kList.Check("webhook_url", url);
    ASSERT_FALSE(checked.ok());
    EXPECT_EQ(checked.error().code, ErrorCode::kInvalid);
    EXPECT_NE(checked.error().message.find("percent-encode"), std::string::npos);
  }
}

}  // namespace
}  // namespace countersign
