#include "cli/exec_command.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace countersign {
namespace {

using Args = std::vector<std::string>;

TEST(ExecCommandTest, TakeCommandRemovesEverythingFromTheFirstSeparator) {
  ExecCommand exec;
  Args args = {"exec", "--action", "x", "--", "printf", "[%s]", "--", "-c"};
  exec.TakeCommand(args);
  EXPECT_EQ(args, (Args{"exec", "--action", "x"}));
}

TEST(ExecCommandTest, TakeCommandLeavesOtherCommandsAlone) {
  ExecCommand exec;
  Args args = {"request", "--action", "x", "--", "y"};
  exec.TakeCommand(args);
  EXPECT_EQ(args, (Args{"request", "--action", "x", "--", "y"}));
  Args no_separator = {"exec", "--help"};
  exec.TakeCommand(no_separator);
  EXPECT_EQ(no_separator, (Args{"exec", "--help"}));
}

}  // namespace
}  // namespace countersign
