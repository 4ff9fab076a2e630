#include "http/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace countersign {
namespace {

namespace ssl = boost::asio::ssl;

// Forward-secret AEAD suites for TLS 1.2 (Mozilla's "intermediate" list without DHE, which
// would need Diffie-Hellman parameters). TLS 1.3 keeps OpenSSL's own suites.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

Result<std::unique_ptr<ssl::context>> MakeTlsServerContext(const std::string& cert_chain_file,
                                                           const std::string& private_key_file) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Error::Internal("cannot configure the TLS context");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Without a callback OpenSSL would prompt for a passphrase on the terminal; an encrypted
  // key fails to load instead.
  context->set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); });

  boost::system::error_code ec;
  context->use_certificate_chain_file(cert_chain_file, ec);
  if (ec) {
    return Error::Invalid("cannot load the TLS certificate chain from " + cert_chain_file + ": " +
                          ec.message() + " (expected PEM certificates)");
  }
  context->use_private_key_file(private_key_file, ssl::context::pem, ec);
  const auto openssl_error = static_cast<unsigned long>(ec.value());
  if (ec && ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_LIB(openssl_error) == ERR_LIB_X509 &&
      ERR_GET_REASON(openssl_error) == X509_R_KEY_VALUES_MISMATCH) {
    return Error::Invalid("the TLS private key " + private_key_file +
                          " does not match the certificate in " + cert_chain_file);
  }
  if (ec) {
    return Error::Invalid("cannot load the TLS private key from " + private_key_file + ": " +
                          ec.message() + " (expected an unencrypted PEM key)");
  }
  // Belt and braces: OpenSSL versions differ in whether loading a mismatched key fails or
  // quietly drops the certificate.
  if (SSL_CTX_check_private_key(native) != 1) {
    return Error::Invalid("the TLS private key " + private_key_file +
                          " does not match the certificate in " + cert_chain_file);
  }
  return context;
}

}  // namespace countersign
