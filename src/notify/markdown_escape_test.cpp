#include "notify/markdown_escape.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

TEST(EscapeCommonMarkTest, ADisguisedLinkAndEmphasisShowAsTyped) {
  EXPECT_EQ(EscapeCommonMark("[Approve here](https://evil.example) **URGENT**"),
            "\\[Approve here\\](https://evil.example) \\*\\*URGENT\\*\\*");
  EXPECT_EQ(EscapeCommonMark("![img](x)"), "!\\[img\\](x)");
  EXPECT_EQ(EscapeCommonMark("<https://evil.example>"), "\\<https://evil.example\\>");
  EXPECT_EQ(EscapeCommonMark("`code` _it_ ~~gone~~ back\\slash"),
            "\\`code\\` \\_it\\_ \\~\\~gone\\~\\~ back\\\\slash");
}

TEST(EscapeCommonMarkTest, BlockMarkersOnlyAtTheStartOfALine) {
  EXPECT_EQ(EscapeCommonMark("# Heading\n  - item\n+ more"), "\\# Heading\n  \\- item\n\\+ more");
  EXPECT_EQ(EscapeCommonMark("1. first\n12) second"), "1\\. first\n12\\) second");
  // In the middle of a line they are ordinary text.
  EXPECT_EQ(EscapeCommonMark("v2.0 - build #7 (1.5)"), "v2.0 - build #7 (1.5)");
  EXPECT_EQ(EscapeCommonMark("deploy-prod 3.14"), "deploy-prod 3.14");
}

TEST(EscapeCommonMarkTest, PlainTextIsUnchanged) {
  EXPECT_EQ(EscapeCommonMark(""), "");
  EXPECT_EQ(EscapeCommonMark("Deploy v2.0 to prod, ok?"), "Deploy v2.0 to prod, ok?");
  EXPECT_EQ(EscapeCommonMark("caf\u00e9 \U0001F680"), "caf\u00e9 \U0001F680");
}

}  // namespace
}  // namespace countersign
