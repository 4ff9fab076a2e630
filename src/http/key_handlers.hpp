// KeyHandlers: GET /v1/keys, the JWKS (RFC 7517) holding the public key receipts are signed
// with. Public (no token): the keys are public by design, and executors that verify receipts
// need not hold an API token. Answers with Cache-Control "public, max-age=300".
// Thread-safe; the signer must outlive the handlers.
#pragma once

#include "auth/receipt_signer.hpp"
#include "http/router.hpp"

namespace countersign {

class KeyHandlers {
 public:
  explicit KeyHandlers(const ReceiptSigner& signer) : signer_(signer) {}

  void Register(Router& router);

  asio::awaitable<HttpResponse> Keys(RequestContext& ctx);

 private:
  const ReceiptSigner& signer_;
};

}  // namespace countersign
