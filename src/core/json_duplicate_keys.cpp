#include "core/json_duplicate_keys.hpp"

#include <cstdint>
#include <set>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>

namespace countersign {
namespace {

// The events that matter: objects opening and closing, and keys. Every other event is
// accepted and ignored.
struct KeyTracker {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  std::vector<std::set<std::string, std::less<>>> open;  // the keys of each open object
  std::string key;                                       // the key being read, in parts
  std::optional<std::string> duplicate;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    open.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    open.pop_back();
    return true;
  }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(std::string_view part, std::size_t, boost::system::error_code&) {
    key.append(part);
    return true;
  }
  bool on_key(std::string_view part, std::size_t, boost::system::error_code& ec) {
    key.append(part);
    if (!open.back().insert(key).second) {
      duplicate = key;
      ec = boost::json::error::syntax;  // stop here: the answer is known
      return false;
    }
    key.clear();
    return true;
  }
  bool on_string_part(std::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(std::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, std::string_view, boost::system::error_code&) { return true; }
  bool on_uint64(std::uint64_t, std::string_view, boost::system::error_code&) { return true; }
  bool on_double(double, std::string_view, boost::system::error_code&) { return true; }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }
};

}  // namespace

std::optional<std::string> FindDuplicateKey(std::string_view text) {
  boost::json::basic_parser<KeyTracker> parser{boost::json::parse_options()};
  boost::system::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  return parser.handler().duplicate;
}

}  // namespace countersign
