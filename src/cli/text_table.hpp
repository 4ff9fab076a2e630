// TextTable: rows of text printed as left-aligned columns separated by two spaces.
// A value type; not thread-safe.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace countersign {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }

  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  // The header and every row; the last column is not padded.
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace countersign
