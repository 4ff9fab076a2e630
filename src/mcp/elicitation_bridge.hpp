// The elicitation bridge of `countersign mcp proxy`: an upstream server's elicitation/create
// answered by a person through the gateway instead of by the agent's client.
//
// A form-mode elicitation (no `mode`, or "form") becomes an approval request whose
// `response_schema` is the elicitation's `requestedSchema` and whose title is its `message`,
// with two choices: `approve` ("Answer": fill in the form) and `deny` ("Decline"). A URL-mode
// one ("url", with `url` and `elicitationId`) becomes an approval whose details carry the
// link, to open before choosing `approve` ("Done"). The request is an approval rather than a
// question because a question can only be answered, and a person must be able to decline.
// Its action is `mcp.<server>.elicitation`; approvers and timeout come from the gate given.
// The request's end becomes the ElicitResult: approved → accept (with the decision's
// `response` as `content` in form mode; an approval without a response, by policy or grant,
// is a decline), denied → decline, expired, cancelled or anything else → cancel. Pure
// functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "mcp/mcp_gate_set.hpp"

namespace countersign {

enum class ElicitationMode { kForm, kUrl };

// The mode of elicitation/create `params`; an unknown mode, or a URL one without its `url`,
// or a form one without an object `requestedSchema`, is Error::Invalid (answered -32602).
Result<ElicitationMode> ReadElicitationMode(const boost::json::object& params);

// The body of POST /v1/requests for an elicitation of `mode` with `params`. `gate` may be
// null.
boost::json::object ElicitationRequestBody(ElicitationMode mode, const boost::json::object& params,
                                           const McpProxyIdentity& identity, const McpGate* gate);

// The ElicitResult for `request`, the gateway's request once it is no longer pending.
boost::json::object ElicitResultForRequest(ElicitationMode mode,
                                           const boost::json::object& request);

// {"action":"decline"} and {"action":"cancel"}.
boost::json::object ElicitDecline();
boost::json::object ElicitCancel();

}  // namespace countersign
