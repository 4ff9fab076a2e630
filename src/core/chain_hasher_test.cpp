// ChainHasher hashes what ChainHash() hashes, and CanonicalEvent writes `at` exactly as
// FormatTime does, at every instant (its own digit writer stands in for snprintf).
#include "core/chain_hasher.hpp"

#include <cctype>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/canonical_json.hpp"
#include "core/event.hpp"
#include "core/sha256.hpp"
#include "core/time_format.hpp"

namespace countersign {
namespace {

Event MakeEvent(int64_t seq, int64_t at_millis) {
  Event e;
  e.seq = seq;
  e.at = FromUnixMillis(at_millis);
  e.tenant = "t\"enant";
  e.request_id = "req_\\1";
  e.type = "request.created";
  e.actor = "bot\n\u00e9\x01";
  e.data = {{"b", 1}, {"a", boost::json::array{"x", 2.5, nullptr}}};
  e.prev_hash = std::string(64, 'a');
  return e;
}

EventView ViewOf(const Event& e, const std::string& data) {
  return EventView{e.seq, e.at, e.tenant, e.request_id, e.type, e.actor, data, e.prev_hash};
}

// Instants around every edge of the digit writer: the epoch, before it, the last and first
// millisecond of years, days and seconds, and the years it hands back to FormatTime.
const std::vector<int64_t> kInstants = {0,
                                        1,
                                        -1,
                                        999,
                                        -86400000,
                                        1795255200123,
                                        951782400000,       // 2000-02-29
                                        4102444799999,      // 2099-12-31T23:59:59.999
                                        -62167219200000,    // 0000-01-01
                                        -62167219200001,    // a millisecond before year 0
                                        253402300799999,    // 9999-12-31T23:59:59.999
                                        253402300800000,    // 10000-01-01
                                        -100000000000000};  // year -1199

TEST(ChainHasherTest, CanonicalEventWritesAtAsFormatTimeAtEveryEdge) {
  for (int64_t ms : kInstants) {
    const Event e = MakeEvent(9223372036854775807, ms);
    boost::json::object all;
    all["seq"] = e.seq;
    all["at"] = FormatTime(e.at);
    all["tenant"] = e.tenant;
    all["request_id"] = e.request_id;
    all["type"] = e.type;
    all["actor"] = e.actor;
    all["data"] = e.data;
    EXPECT_EQ(CanonicalEvent(e), CanonicalJson(all)) << "at " << ms;
  }
}

TEST(ChainHasherTest, MatchesExactlyTheHashChainHashGives) {
  ChainHasher hasher;
  for (int64_t ms : kInstants) {
    for (int64_t seq : {int64_t{1}, int64_t{-5}, int64_t{1000002}}) {
      const Event e = MakeEvent(seq, ms);
      const std::string data = CanonicalJson(e.data);
      const std::string hash = ChainHash(e);
      ASSERT_EQ(hash, Sha256Hex(e.prev_hash + CanonicalEvent(e)));
      EXPECT_TRUE(hasher.Matches(ViewOf(e, data), hash)) << "seq " << seq << " at " << ms;

      std::string upper = hash;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper != hash) {
        EXPECT_FALSE(hasher.Matches(ViewOf(e, data), upper));
      }
      EXPECT_FALSE(hasher.Matches(ViewOf(e, data), hash.substr(0, 63)));
      EXPECT_FALSE(hasher.Matches(ViewOf(e, data), hash + "0"));
      EXPECT_FALSE(hasher.Matches(ViewOf(e, data), ""));
    }
  }
}

TEST(ChainHasherTest, EveryHashedFieldChangesTheAnswer) {
  ChainHasher hasher;
  const Event e = MakeEvent(7, 1795255200123);
  const std::string data = CanonicalJson(e.data);
  const std::string hash = ChainHash(e);
  ASSERT_TRUE(hasher.Matches(ViewOf(e, data), hash));

  std::vector<EventView> edits(8, ViewOf(e, data));
  edits[0].seq = 8;
  edits[1].at = e.at + Millis(1);
  edits[2].tenant = "tenant";
  edits[3].request_id = "req_1";
  edits[4].type = "request.approved";
  edits[5].actor = "bot";
  edits[6].data = R"({"a":["x",2.5,null],"b":2})";
  edits[7].prev_hash = std::string_view(kGenesisHash);
  for (size_t i = 0; i < edits.size(); ++i) {
    EXPECT_FALSE(hasher.Matches(edits[i], hash)) << "edit " << i;
  }
  // Bytes moved between data and the member after it still make another text.
  EventView moved = ViewOf(e, data);
  const std::string longer = data + R"(,"request_id":"req_\\1")";
  moved.data = longer;
  moved.request_id = "";
  EXPECT_FALSE(hasher.Matches(moved, hash));
  // And the hasher is not left in a state that refuses the next good event.
  EXPECT_TRUE(hasher.Matches(ViewOf(e, data), hash));
}

}  // namespace
}  // namespace countersign
