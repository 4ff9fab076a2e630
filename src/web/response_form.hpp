// ResponseForm: a request's response_schema as HTML form controls, and the posted form read
// back as the response object the schema describes.
//
// Each field is a labelled control a screen reader announces with its description and
// whether it is required: a text, e-mail, URL or date input (a textarea for long text), a
// number input with its bounds and step, a checkbox for a boolean, a select for a single
// choice, a fieldset of checkboxes for a multi-select. No JavaScript; the browser's own
// checks (required, min, max, maxlength) help, and Read checks again, since a form can be
// posted by anything. Control names are "r.NAME" (and "r.NAME.N" for the N-th option of a
// multi-select), so they never collide with the page's own fields. Pure; thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <boost/json/object.hpp>

#include "core/response_schema.hpp"
#include "core/result.hpp"
#include "web/page_template.hpp"
#include "web/safe_html.hpp"

namespace countersign {

class ResponseForm {
 public:
  using Fields = std::map<std::string, std::string, std::less<>>;  // a parsed form body

  // Parses the embedded templates (response_field.html, response_option.html); Error::Internal
  // naming the file when one is broken (a build defect).
  static Result<ResponseForm> Load();

  // The controls for every field of `schema`, defaults filled in.
  SafeHtml Render(const ResponseSchema& schema) const;

  // The response the posted `form` fills in: blank optional fields are left out, an
  // unchecked boolean is false. kInvalid with `field` = "response.NAME" for a value that is
  // not of its field's type; the caller then checks the result with schema.Validate.
  static Result<boost::json::object> Read(const ResponseSchema& schema, const Fields& form);

 private:
  ResponseForm(PageTemplate field, PageTemplate option)
      : field_(std::move(field)), option_(std::move(option)) {}

  PageTemplate field_;
  PageTemplate option_;
};

}  // namespace countersign
