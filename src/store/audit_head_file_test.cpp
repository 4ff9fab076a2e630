#include "store/audit_head_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "testing/temp_dir.hpp"

namespace countersign {
namespace {

const std::string kHash(64, 'a');

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(AuditHeadFileTest, ARecordReadsBackAfterReopening) {
  testing::TempDir dir;
  const std::string path = dir.File("cs.db.audit-head");
  {
    auto file = AuditHeadFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.error().message;
    EXPECT_FALSE((*file)->recorded().has_value());
    EXPECT_FALSE((*file)->torn());
    ASSERT_TRUE((*file)->Record(41, kHash).ok());
    ASSERT_TRUE((*file)->Record(42, kHash).ok());  // overwritten in place
  }
  EXPECT_EQ(std::filesystem::file_size(path), ReadAll(path).size());
  auto again = AuditHeadFile::Open(path);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->recorded().has_value());
  EXPECT_EQ((*again)->recorded()->seq, 42);
  EXPECT_EQ((*again)->recorded()->hash, kHash);
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
}

TEST(AuditHeadFileTest, ATornOrEditedRecordReadsAsNone) {
  const std::string whole = AuditHeadFile::Encode(7, kHash);
  ASSERT_TRUE(AuditHeadFile::Decode(whole).has_value());
  EXPECT_FALSE(AuditHeadFile::Decode(whole.substr(0, whole.size() / 2)).has_value());
  std::string edited = whole;
  edited[whole.find(" 7 ") + 1] = '9';  // seq 9, checksum of seq 7
  EXPECT_FALSE(AuditHeadFile::Decode(edited).has_value());
  EXPECT_FALSE(AuditHeadFile::Decode(whole + "x").has_value());
  EXPECT_FALSE(AuditHeadFile::Decode(AuditHeadFile::Encode(7, "not-hex")).has_value());

  testing::TempDir dir;
  const std::string path = dir.File("head");
  std::ofstream(path, std::ios::binary) << whole.substr(0, 40);
  auto file = AuditHeadFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE((*file)->torn());
  EXPECT_FALSE((*file)->recorded().has_value());
}

TEST(AuditHeadFileTest, AnUnopenablePathIsUnavailable) {
  auto file = AuditHeadFile::Open("/nonexistent-dir/head");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(file.error().message.find("/nonexistent-dir/head"), std::string::npos);
}

}  // namespace
}  // namespace countersign
