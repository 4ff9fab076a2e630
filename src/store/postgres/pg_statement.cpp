#include "store/postgres/pg_statement.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "store/postgres/pg_connection.hpp"

namespace countersign {
namespace {

// More parameters than any statement of the store has; a larger index is a bug.
constexpr int kMaxParameters = 64;

}  // namespace

PgStatement::PgStatement(PgConnection& connection, std::string name, std::string sql,
                         int parameters)
    : connection_(connection),
      name_(std::move(name)),
      sql_(std::move(sql)),
      params_(static_cast<size_t>(std::max(parameters, 0))) {}

PgStatement::~PgStatement() { PQclear(result_); }

std::optional<std::string>& PgStatement::Slot(int index) {
  if (index < 1 || index > kMaxParameters) {
    if (!bind_error_) {
      bind_error_ = Error::Internal("parameter ?" + std::to_string(index) + " of \"" + sql_ +
                                    "\" is out of range");
    }
    discard_.reset();
    return discard_;
  }
  if (static_cast<int>(params_.size()) < index) params_.resize(index);
  return params_[index - 1];
}

PgStatement& PgStatement::BindText(int index, std::string_view value) {
  // libpq takes text parameters as C strings, and PostgreSQL text cannot hold U+0000 at all:
  // refuse the statement rather than store the text cut short at its first NUL.
  if (value.find('\0') != std::string_view::npos && !bind_error_) {
    bind_error_ = Error::Invalid("parameter ?" + std::to_string(index) + " of \"" + sql_ +
                                 "\" holds a NUL character, which PostgreSQL cannot store");
  }
  Slot(index) = std::string(value);
  return *this;
}

PgStatement& PgStatement::BindInt64(int index, int64_t value) {
  Slot(index) = std::to_string(value);
  return *this;
}

PgStatement& PgStatement::BindNull(int index) {
  Slot(index).reset();
  return *this;
}

Status PgStatement::Execute() {
  if (bind_error_) return *bind_error_;
  std::vector<const char*> values;
  values.reserve(params_.size());
  for (const auto& p : params_) values.push_back(p ? p->c_str() : nullptr);
  auto result =
      connection_.RunPrepared(name_, sql_, static_cast<int>(values.size()), values.data());
  executed_ = true;
  if (!result.ok()) return std::move(result).error();
  result_ = result.value();
  rows_ = PQntuples(result_);
  row_ = -1;
  return Ok();
}

Result<bool> PgStatement::Step() {
  if (!executed_) CS_RETURN_IF_ERROR(Execute());
  if (result_ == nullptr) return false;
  if (row_ < rows_) ++row_;
  return row_ < rows_;
}

Status PgStatement::Run() {
  if (!executed_) return Execute();
  return Ok();
}

int64_t PgStatement::ColumnInt64(int column) const {
  if (result_ == nullptr || row_ < 0 || row_ >= rows_ || PQgetisnull(result_, row_, column)) {
    return 0;
  }
  const char* text = PQgetvalue(result_, row_, column);
  const char* end = text + PQgetlength(result_, row_, column);
  int64_t value = 0;
  std::from_chars(text, end, value);
  return value;
}

std::string_view PgStatement::ColumnText(int column) const {
  if (result_ == nullptr || row_ < 0 || row_ >= rows_) return {};
  return std::string_view(PQgetvalue(result_, row_, column),
                          static_cast<size_t>(PQgetlength(result_, row_, column)));
}

bool PgStatement::ColumnIsNull(int column) const {
  if (result_ == nullptr || row_ < 0 || row_ >= rows_) return true;
  return PQgetisnull(result_, row_, column) != 0;
}

}  // namespace countersign
