// OpenSSL: TLS for the HTTP client, SHA-256 for image verification.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
