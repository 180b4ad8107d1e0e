// MIME structured header values: Content-Type, Content-Disposition,
// Content-Transfer-Encoding, Content-Language (RFC 2045 §5.1, §6.1;
// RFC 2183 §2; RFC 3282 §2).
//
// parse_mime_value() splits "value; p1=v1; p2=\"v 2\"" into the leading
// value (comments removed, blanks trimmed) and the parameter text, which
// ParamIterator walks: names as written, values unquoted with quoted-pairs
// resolved (into the iterator's own buffer, cut at kMaxParamValue bytes).
// RFC 2231 continuations ("name*0") are passed through as separate
// parameters, undecoded, as RFC 3501 body-fld-param carries them;
// join_rfc2231() joins them (RFC 9051 §7.5.2 body parameter list).
//
// Tolerance: a parameter without '=' or without a name is skipped; an
// unterminated quoted string runs to the end; nothing here can fail.
#pragma once

#include <cstddef>
#include <string_view>

namespace tinyimapd::mime {

inline constexpr std::size_t kMaxParamValue = 512;

// value: the part before the first ';' outside quotes, comments dropped.
// params: the rest (after that ';'), for ParamIterator.
void parse_mime_value(std::string_view field, char* value_buf, std::size_t value_cap,
                      std::string_view* value, std::string_view* params);

// Splits a media type "type/subtype" (already comment-free). False when it
// has no '/' or an empty side (RFC 2045 §5.2: then the default applies).
bool split_media_type(std::string_view value, std::string_view* type, std::string_view* subtype);

class ParamIterator {
public:
    explicit ParamIterator(std::string_view params) : rest_(params) {}
    bool next(std::string_view* name, std::string_view* value);

private:
    std::string_view rest_;
    char value_[kMaxParamValue];
};

// RFC 2231 §3-4: a parameter name "base", "base*" (encoded), "base*N"
// (section N of a continued value) or "base*N*" (an encoded section).
struct Rfc2231Name {
    std::string_view base;
    int section = -1;  // -1: not a continuation
    bool encoded = false;
};
Rfc2231Name split_rfc2231_name(std::string_view name);

// RFC 2231 §3-4 as Dovecot answers BODYSTRUCTURE: the sections base*0,
// base*1, ... of `params` (in any order; up to the first one missing) joined
// into `out`, cut at kMaxParamValue bytes. When any section is encoded the
// result is one encoded value (the first section's charset'language'
// prefix, %XX kept, plain sections' bytes other than attribute-chars
// %-encoded) and *encoded is set: the caller names it "base*". Work is
// bounded: at most kMaxRfc2231Sweeps walks of `params`.
inline constexpr std::size_t kMaxRfc2231Sweeps = 8;
void join_rfc2231(std::string_view params, std::string_view base, char* out, std::size_t cap,
                  std::size_t* length, bool* encoded);

// Walks a comma-separated list of tokens (Content-Language), comments and
// blanks removed.
class TokenListIterator {
public:
    explicit TokenListIterator(std::string_view list) : rest_(list) {}
    bool next(std::string_view* token);

private:
    std::string_view rest_;
};

}  // namespace tinyimapd::mime
