#include <set>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/canonical_json.hpp"
#include "core/event.hpp"
#include "core/id_generator.hpp"
#include "core/result.hpp"
#include "core/sha256.hpp"
#include "core/time_format.hpp"
#include "testing/fake_clock.hpp"

namespace countersign {
namespace {

TEST(CanonicalJsonTest, SortsKeysAtEveryDepthAndDropsWhitespace) {
  auto value = boost::json::parse(R"({"b": 1, "a": {"z": [3, {"y": true, "x": null}], "m": "s"}})");
  EXPECT_EQ(CanonicalJson(value), R"({"a":{"m":"s","z":[3,{"x":null,"y":true}]},"b":1})");
}

TEST(CanonicalJsonTest, EqualObjectsInAnyOrderHashTheSame) {
  auto a = boost::json::parse(R"({"ref": "v2.0", "env": "prod"})");
  auto b = boost::json::parse(R"({ "env":"prod","ref":"v2.0" })");
  EXPECT_EQ(Sha256Hex(CanonicalJson(a)), Sha256Hex(CanonicalJson(b)));
}

Event SampleEvent() {
  Event e;
  e.seq = 1;
  e.at = FromUnixMillis(1795255200000);
  e.tenant = "default";
  e.request_id = "req_1";
  e.type = "request.created";
  e.actor = "ci-bot";
  e.data = {{"action", "deploy"}};
  e.prev_hash = kGenesisHash;
  return e;
}

// Stored audit chains were hashed when canonical JSON printed strings and numbers with
// Boost.JSON's serializer; the hand-written printer must give the very same bytes.
TEST(CanonicalJsonTest, EscapesEveryByteAsBoostJsonDoes) {
  for (int c = 0; c < 256; ++c) {
    const std::string text = "a" + std::string(1, static_cast<char>(c)) + "b";
    std::string ours;
    AppendJsonString(text, ours);
    EXPECT_EQ(ours, boost::json::serialize(boost::json::string_view(text))) << "byte " << c;
  }
  const std::string mixed = "caf\xc3\xa9 \"q\" \\ \x01\x1f\x7f tab\there\r\n/";
  std::string ours;
  AppendJsonString(mixed, ours);
  EXPECT_EQ(ours, boost::json::serialize(boost::json::string_view(mixed)));
}

// Long text is scanned eight bytes at a time: a byte to escape is found at any position of a
// word, UTF-8 bytes beside it included.
TEST(CanonicalJsonTest, EscapesEveryByteAtEveryPositionOfLongText) {
  for (int c = 0; c < 256; ++c) {
    for (size_t at = 0; at < 17; ++at) {
      std::string text(19, at % 2 ? 'a' : '\xc3');
      text[at] = static_cast<char>(c);
      std::string ours;
      AppendJsonString(text, ours);
      ASSERT_EQ(ours, boost::json::serialize(boost::json::string_view(text)))
          << "byte " << c << " at " << at;
    }
  }
}

TEST(CanonicalJsonTest, PrintsScalarsAsBoostJsonDoes) {
  auto value = boost::json::parse(
      R"([0,-1,9223372036854775807,-9223372036854775808,18446744073709551615,0.1,-2.5e-300,)"
      R"(1e300,1.0,true,false,null,"",{"k\u0000ey":"v\"al"}])");
  EXPECT_EQ(CanonicalJson(value), boost::json::serialize(value));
}

TEST(EventTest, CanonicalEventIsTheCanonicalJsonOfItsSevenFields) {
  Event e = SampleEvent();
  e.tenant = "t\"enant";
  e.actor = "bot\n\u00e9";
  e.data = {{"b", 1}, {"a", boost::json::array{"x", 2.5, nullptr}}};
  boost::json::object all;
  all["seq"] = e.seq;
  all["at"] = FormatTime(e.at);
  all["tenant"] = e.tenant;
  all["request_id"] = e.request_id;
  all["type"] = e.type;
  all["actor"] = e.actor;
  all["data"] = e.data;
  EXPECT_EQ(CanonicalEvent(e), CanonicalJson(all));
  EXPECT_EQ(CanonicalEvent(e, CanonicalJson(e.data)), CanonicalJson(all));
}

TEST(Sha256Test, MatchesTheStandardVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, ConstantTimeEqualsComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
}

TEST(TimeFormatTest, FormatsUtcWithMillisecondsAndParsesBack) {
  const TimePoint t = FromUnixMillis(1795255200123);
  EXPECT_EQ(FormatTime(t), "2026-11-21T10:00:00.123Z");
  EXPECT_EQ(ParseTime("2026-11-21T10:00:00.123Z"), t);
  EXPECT_EQ(ParseTime("2026-11-21T10:00:00Z"), FromUnixMillis(1795255200000));
  EXPECT_FALSE(ParseTime("2026-11-21 10:00:00Z"));
  EXPECT_FALSE(ParseTime("2026-13-21T10:00:00Z"));
}

TEST(IdGeneratorTest, IdsAreWellFormedAndStrictlyIncreasingWithinOneMillisecond) {
  testing::FakeClock clock;
  IdGenerator ids(clock);
  std::string previous;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = ids.Next("req_");
    ASSERT_TRUE(IsWellFormedId(id, "req_")) << id;
    ASSERT_GT(id, previous);
    seen.insert(id);
    previous = id;
  }
  EXPECT_EQ(seen.size(), 1000u);
  clock.Advance(Millis(1));
  EXPECT_GT(ids.Next("req_"), previous);
  EXPECT_FALSE(IsWellFormedId("req_short", "req_"));
  EXPECT_FALSE(IsWellFormedId("dec_01JD3Z6Q8W9K4M2N7P5R0S1T2V", "req_"));
}

TEST(EventTest, ChainHashCoversEveryHashedField) {
  const Event e = SampleEvent();
  const std::string hash = ChainHash(e);
  EXPECT_EQ(hash, Sha256Hex(std::string(kGenesisHash) + CanonicalEvent(e)));
  Event edited = e;
  edited.data["action"] = "wipe";
  EXPECT_NE(ChainHash(edited), hash);
  edited = e;
  edited.actor = "someone-else";
  EXPECT_NE(ChainHash(edited), hash);
}

TEST(EchoTest, LongCallerTextIsCutOnACharacterBoundary) {
  EXPECT_EQ(Echo("req_01"), "req_01");
  EXPECT_EQ(Echo(std::string(15000, 'x')), std::string(64, 'x') + "...");
  // "é" is two bytes: a cut at 5 would split the third one, so it falls before it.
  EXPECT_EQ(Echo("\u00e9\u00e9\u00e9", 5), "\u00e9\u00e9...");
}

}  // namespace
}  // namespace countersign
