// ValidUtf8: what it keeps, what it replaces with U+FFFD, and how it cuts, checked against
// Boost.JSON's parser, which refuses what is not UTF-8 (the store's bodies and the audit events
// are JSON).
#include "core/utf8_text.hpp"

#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <gtest/gtest.h>

namespace countersign {
namespace {

namespace json = boost::json;

constexpr size_t kNoLimit = 1 << 20;
constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD
constexpr char kEllipsis[] = "\xE2\x80\xA6";     // U+2026

// Whether `text` survives a JSON round trip whole: the serializer writes any bytes, the parser
// refuses what is not UTF-8.
bool SurvivesJson(const std::string& text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(json::serialize(json::object{{"text", text}}), ec);
  return !ec && parsed.at("text").as_string() == text;
}

// `n` replacement characters.
std::string Replacements(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += kReplacement;
  return out;
}

TEST(ValidUtf8Test, AsciiIsLeftAlone) {
  EXPECT_EQ(ValidUtf8("", kNoLimit), "");
  EXPECT_EQ(ValidUtf8("hello, world", kNoLimit), "hello, world");
  const std::string controls("tab\tnewline\nnul\0end\x7F", 20);
  EXPECT_EQ(ValidUtf8(controls, kNoLimit), controls);
  EXPECT_TRUE(SurvivesJson(ValidUtf8(controls, kNoLimit)));
}

TEST(ValidUtf8Test, WellFormedMultibyteCharactersAreKept) {
  const std::string samples[] = {
      "caf\xC3\xA9",                       // é: two bytes
      "\xE2\x82\xAC 5",                    // €: three bytes
      "\xF0\x9F\x98\x80",                  // 😀: four bytes
      "\xC2\x80\xDF\xBF",                  // U+0080 and U+07FF: the two-byte range's ends
      "\xE0\xA0\x80\xEF\xBF\xBF",          // U+0800 and U+FFFF
      "\xED\x9F\xBF\xEE\x80\x80",          // U+D7FF and U+E000: either side of the surrogates
      "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF",  // U+10000 and U+10FFFF
      "\xEF\xBF\xBD",                      // U+FFFD itself
  };
  for (const std::string& text : samples) {
    SCOPED_TRACE(text);
    EXPECT_EQ(ValidUtf8(text, kNoLimit), text);
    EXPECT_TRUE(SurvivesJson(text));
  }
}

// One U+FFFD for each byte that does not start a well-formed sequence (a lead byte whose
// sequence is broken, then each of its orphaned continuation bytes); what follows is kept.
TEST(ValidUtf8Test, EachByteOfAnIllFormedSequenceBecomesAReplacementCharacter) {
  struct Case {
    const char* what;
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"a lone continuation byte", "a\x80z", "a" + Replacements(1) + "z"},
      {"continuation bytes only", "\x80\xBF", Replacements(2)},
      {"a byte never in UTF-8", "a\xFF\xFEz", "a" + Replacements(2) + "z"},
      {"an overlong two-byte '/'", "\xC0\xAF", Replacements(2)},
      {"an overlong two-byte U+007F", "\xC1\xBF", Replacements(2)},
      {"an overlong three-byte '/'", "\xE0\x80\xAF", Replacements(3)},
      {"an overlong four-byte '/'", "\xF0\x80\x80\xAF", Replacements(4)},
      {"a high surrogate", "\xED\xA0\x80", Replacements(3)},
      {"a low surrogate", "x\xED\xBF\xBFy", "x" + Replacements(3) + "y"},
      {"U+110000", "\xF4\x90\x80\x80", Replacements(4)},
      {"a five-byte lead", "\xF8\x88\x80\x80\x80", Replacements(5)},
      {"a lead past U+10FFFF", "\xF5\x80\x80\x80", Replacements(4)},
      {"a sequence cut at the end", "ok\xE2\x82", "ok" + Replacements(2)},
      {"a four-byte sequence cut at the end", "\xF0\x9F\x98", Replacements(3)},
      {"a sequence cut by ASCII", "\xE2\x82x", Replacements(2) + "x"},
      {"a lead before a lead", "\xC3\xC3\xA9", Replacements(1) + "\xC3\xA9"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_FALSE(SurvivesJson(c.in)) << "the case is not ill-formed";
    const std::string out = ValidUtf8(c.in, kNoLimit);
    EXPECT_EQ(out, c.out);
    EXPECT_TRUE(SurvivesJson(out));
  }
}

TEST(ValidUtf8Test, TextWithinTheLimitIsNotCut) {
  EXPECT_EQ(ValidUtf8("abc", 3), "abc");
  EXPECT_EQ(ValidUtf8("caf\xC3\xA9", 5), "caf\xC3\xA9");
  EXPECT_EQ(ValidUtf8("", 0), "");
}

TEST(ValidUtf8Test, ACutTextEndsWithAnEllipsisWithinTheLimit) {
  EXPECT_EQ(ValidUtf8("abcdefghij", 8), std::string("abcde") + kEllipsis);
  EXPECT_EQ(ValidUtf8("abcd", 3), kEllipsis);
  // Too little room for the ellipsis: nothing at all, never more than the limit.
  EXPECT_EQ(ValidUtf8("abcd", 2), "");
  EXPECT_EQ(ValidUtf8("abcd", 0), "");
}

TEST(ValidUtf8Test, ACutNeverSplitsACharacter) {
  // "€€€€" is twelve bytes: with a limit of 10, two euros and the ellipsis (9 bytes) fit.
  const std::string euros = "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC";
  EXPECT_EQ(ValidUtf8(euros, 10), "\xE2\x82\xAC\xE2\x82\xAC" + std::string(kEllipsis));
  EXPECT_EQ(ValidUtf8(euros, 11), "\xE2\x82\xAC\xE2\x82\xAC" + std::string(kEllipsis));
  EXPECT_EQ(ValidUtf8(euros, 12), euros);
  // A replacement character takes three bytes, like any other, and is not split either.
  EXPECT_EQ(ValidUtf8("\xFF\xFF\xFF\xFF", 7), Replacements(1) + kEllipsis);
}

// Every limit over a text mixing one- to four-byte characters and invalid bytes: the result
// fits, is UTF-8, and is the valid text's beginning, cut on a character boundary, then "…".
TEST(ValidUtf8Test, AtEveryLimitTheResultFitsParsesAndIsABeginningOfTheText) {
  const std::string text =
      "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
      "b\x80\xE2\x82"
      "c\xED\xA0\x80\xF4\x90\x80\x80 d\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  const std::string whole = ValidUtf8(text, kNoLimit);
  ASSERT_TRUE(SurvivesJson(whole));
  for (size_t limit = 0; limit <= whole.size() + 1; ++limit) {
    SCOPED_TRACE(limit);
    const std::string out = ValidUtf8(text, limit);
    EXPECT_LE(out.size(), limit);
    EXPECT_TRUE(SurvivesJson(out)) << "not UTF-8";
    if (limit >= whole.size()) {
      EXPECT_EQ(out, whole);
      continue;
    }
    if (limit < 3) {
      EXPECT_EQ(out, "");
      continue;
    }
    ASSERT_TRUE(out.ends_with(kEllipsis)) << out;
    const std::string kept = out.substr(0, out.size() - 3);
    EXPECT_TRUE(whole.starts_with(kept));
    // On a boundary: what follows in the whole text starts a character ...
    const auto next = static_cast<unsigned char>(whole[kept.size()]);
    EXPECT_NE(next & 0xC0, 0x80);
    // ... which, with the ellipsis, would not have fit.
    const size_t next_size = next < 0x80 ? 1 : next < 0xE0 ? 2 : next < 0xF0 ? 3 : 4;
    EXPECT_GT(kept.size() + next_size + 3, limit);
  }
}

}  // namespace
}  // namespace countersign
