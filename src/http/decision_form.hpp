// DecisionFromForm: the decision a posted HTML form (a one-click link page, an inbox request
// page) makes of `choice` on `r`: the answer or comment text, and, for a choice that fills a
// request's form (approve, answer), the response read from the form's controls against its
// response_schema (web/ResponseForm). Error::Invalid naming the field when a control's value
// cannot be read; Error::Internal when the stored schema does not parse. The engine checks
// the rest (required fields, bounds) exactly as for the API.
#pragma once

#include "core/request.hpp"
#include "core/result.hpp"
#include "engine/new_request.hpp"
#include "http/form_data.hpp"
#include "web/response_form.hpp"

namespace countersign {

Result<NewDecision> DecisionFromForm(const Request& r, const Choice& choice, const FormData& form);

// Adds to `input` the standing grant a form's `grant` field picks ("session:3600",
// core/grant_option_text.hpp) to go with approving `choice` on `r`: one of the options stored
// on r, looked up by value, so the scope and ttl always come from the request and never from
// the form. Returns that option, or null when the field is empty (approve once; `input` is
// left as it was). Error::Invalid when r does not offer that option, or `choice` is not an
// approval (a grant only ever comes with one).
Result<const GrantOption*> AddGrantFromForm(const Request& r, const Choice& choice,
                                            const FormData& form, NewDecision& input);

}  // namespace countersign
