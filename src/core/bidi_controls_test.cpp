#include "core/bidi_controls.hpp"

#include <gtest/gtest.h>

namespace countersign {
namespace {

// A title with a right-to-left override would show "invoice\u202Efdp.exe" as "invoiceexe.pdf".
TEST(ShowBidiControlsTest, EveryBidiControlIsNamedAndTheRestKept) {
  EXPECT_EQ(ShowBidiControls("invoice\u202Efdp.exe"), "invoice[RLO]fdp.exe");
  EXPECT_EQ(ShowBidiControls("\u202A\u202B\u202C\u202D\u2066\u2067\u2068\u2069\u200E\u200F\u061C"),
            "[LRE][RLE][PDF][LRO][LRI][RLI][FSI][PDI][LRM][RLM][ALM]");
  EXPECT_EQ(ShowBidiControls("\u05E9\u05DC\u05D5\u05DD caf\u00e9 \u2014 \u2026"),
            "\u05E9\u05DC\u05D5\u05DD caf\u00e9 \u2014 \u2026")
      << "right-to-left letters, accents and other punctuation stay";
  EXPECT_EQ(ShowBidiControls("cut \xE2\x80"), "cut \xE2\x80") << "a truncated sequence stays";
}

}  // namespace
}  // namespace countersign
