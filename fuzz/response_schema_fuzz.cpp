// Fuzzes structured answers end to end without a store: a JSON document
// {"schema": …, "response": …, "form": {…}} is read as a request's response_schema
// (ResponseSchema::Parse), the response checked against it (Validate), the form rendered
// (ResponseForm::Render) and the posted fields read back (ResponseForm::Read), whose result
// must then be judged by Validate without crashing. Every stage must answer with a value.
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/json/parse.hpp>

#include "core/response_schema.hpp"
#include "web/response_form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace countersign;
  static const auto form = ResponseForm::Load();
  if (!form.ok()) __builtin_trap();
  boost::system::error_code ec;
  const boost::json::value doc =
      boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec || !doc.is_object()) return 0;
  const auto* schema_json = doc.get_object().if_contains("schema");
  if (!schema_json) return 0;
  auto schema = ResponseSchema::Parse(*schema_json);
  if (!schema.ok()) {
    // A refusal names the keyword at fault, inside its message.
    if (schema.error().field.empty()) __builtin_trap();
    return 0;
  }
  if (const auto* response = doc.get_object().if_contains("response");
      response && response->is_object()) {
    auto checked = schema->Validate(response->get_object());
    if (!checked.ok() && checked.error().field.rfind("response", 0) != 0) __builtin_trap();
  }
  (void)form->Render(schema.value());
  ResponseForm::Fields fields;
  if (const auto* posted = doc.get_object().if_contains("form"); posted && posted->is_object()) {
    for (const auto& [key, value] : posted->get_object()) {
      if (value.is_string()) fields.emplace(std::string(key), std::string(value.get_string()));
    }
  }
  auto read = ResponseForm::Read(schema.value(), fields);
  if (read.ok()) (void)schema->Validate(read.value());
  return 0;
}
