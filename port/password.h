// port/password.h — password hashing schemes of Dovecot's passwd-file
// format ({SHA512-CRYPT}, {SHA256-CRYPT}, {PBKDF2}, {SSHA512}, ...), for
// LOGIN/AUTHENTICATE and for `tinyimapd passwd`.
//
// core handles {PLAIN}/{CLEARTEXT} itself; everything that needs a hash
// function lives behind this interface (mbedTLS on POSIX), so core stays
// free of crypto code and of the heap.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/base/status.h"
#include "core/base/text.h"

namespace tinyimapd::port {

enum class PasswordCheck : std::uint8_t {
    Match,
    Mismatch,
    Unsupported,  // a scheme this build does not know
    Malformed,    // the stored hash is not valid for its scheme
};

class Password {
public:
    // Checks `password` against `stored` (the text after "{SCHEME}"); the
    // scheme name is matched case-insensitively. Comparison of the computed
    // and stored hash takes the same time whatever their contents.
    virtual PasswordCheck verify(std::string_view scheme, std::string_view stored,
                                 std::string_view password) = 0;
    // Writes "{SCHEME}hash" for `password` with a fresh random salt;
    // Unsupported for a scheme this build cannot produce.
    virtual Status hash(std::string_view scheme, std::string_view password, TextWriter& out) = 0;

protected:
    ~Password() = default;
};

}  // namespace tinyimapd::port
