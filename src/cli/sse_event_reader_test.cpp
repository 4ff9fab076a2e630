#include "cli/sse_event_reader.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

using Events = std::vector<std::string>;

TEST(SseEventReaderTest, ReturnsTheDataOfEachEventAtItsBlankLine) {
  SseEventReader reader(1024);
  EXPECT_EQ(reader.Feed("data: {\"a\":1}\n\ndata: {\"b\":2}\n\n"),
            (Events{"{\"a\":1}", "{\"b\":2}"}));
}

TEST(SseEventReaderTest, AnEventSplitAcrossPiecesComesWhenItEnds) {
  SseEventReader reader(1024);
  EXPECT_EQ(reader.Feed("da"), Events{});
  EXPECT_EQ(reader.Feed("ta: {\"a\""), Events{});
  EXPECT_EQ(reader.Feed(":1}\n"), Events{});
  EXPECT_EQ(reader.Feed("\n"), Events{"{\"a\":1}"});
}

TEST(SseEventReaderTest, JoinsDataLinesWithNewlines) {
  SseEventReader reader(1024);
  EXPECT_EQ(reader.Feed("data: one\ndata:two\n\n"), Events{"one\ntwo"});
}

TEST(SseEventReaderTest, AcceptsCrLfAndCrLineEndsEvenWhenSplitBetweenPieces) {
  SseEventReader reader(1024);
  EXPECT_EQ(reader.Feed("data: a\r"), Events{});
  EXPECT_EQ(reader.Feed("\n\r"), Events{"a"});
  EXPECT_EQ(reader.Feed("\ndata: b\r\r"), Events{"b"});
}

TEST(SseEventReaderTest, SkipsPrimingEventsCommentsAndOtherFields) {
  SseEventReader reader(1024);
  EXPECT_EQ(reader.Feed("id: 7\ndata: \n\n: keep-alive\n\nid: 8\nretry: 100\ndata: x\n\n"),
            Events{"x"});
}

TEST(SseEventReaderTest, SkipsEventsOfAnotherType) {
  SseEventReader reader(1024);
  EXPECT_EQ(reader.Feed("event: ping\ndata: p\n\nevent: message\ndata: m\n\n"), Events{"m"});
}

TEST(SseEventReaderTest, SkipsALeadingByteOrderMarkOnly) {
  SseEventReader reader(1024);
  EXPECT_EQ(reader.Feed("\xEF\xBB"), Events{});
  EXPECT_EQ(reader.Feed("\xBF"
                        "data: a\n\ndata: \xEF\xBB\xBF\n\n"),
            (Events{"a", "\xEF\xBB\xBF"}));
}

TEST(SseEventReaderTest, DropsAnOversizedEventWholeAndReadsTheNextOne) {
  SseEventReader reader(16);
  EXPECT_EQ(reader.Feed("data: 0123456789\ndata: 0123456789\n\ndata: ok\n\n"), Events{"ok"});
  EXPECT_EQ(reader.dropped(), 1u);
  EXPECT_EQ(reader.Feed("data: " + std::string(100, 'x') + "\n\ndata: fine\n\n"), Events{"fine"});
  EXPECT_EQ(reader.dropped(), 2u);
}

TEST(SseEventReaderTest, AnEventCutOffByTheEndOfTheStreamIsNeverReturned) {
  SseEventReader reader(1024);
  EXPECT_EQ(reader.Feed("data: half"), Events{});
  EXPECT_EQ(reader.Feed("\n"), Events{});
}

}  // namespace
}  // namespace countersign
