#include "core/mail/metadata_name.h"

#include "core/base/text.h"

namespace tinyimapd::mail {

namespace {

bool starts_with_i(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && ascii::iequals(s.substr(0, prefix.size()), prefix);
}

std::size_t components(std::string_view name) {
    std::size_t n = 0;
    for (char c : name) n += c == '/' ? 1 : 0;
    return n;
}

}  // namespace

bool is_valid_entry_name(std::string_view name, bool for_set, const char** why, EntryScope* scope) {
    if (name.size() > kMaxEntryName) {
        *why = "Entry name too long";
        return false;
    }
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7F) {
            *why = "Entry names are printable US-ASCII (RFC 5464 3.2)";
            return false;
        }
        if (c == '*' || c == '%') {
            *why = "Entry names must not contain * or % (RFC 5464 3.2)";
            return false;
        }
    }
    if (name.find("//") != std::string_view::npos || (!name.empty() && name.back() == '/')) {
        *why = "Entry names must not contain // or end with / (RFC 5464 3.2)";
        return false;
    }
    const bool is_private = starts_with_i(name, "/private/") || ascii::iequals(name, "/private");
    const bool is_shared = starts_with_i(name, "/shared/") || ascii::iequals(name, "/shared");
    if (!is_private && !is_shared) {
        *why = "Entry names start with /private or /shared (RFC 5464 3.2)";
        return false;
    }
    if (scope != nullptr) *scope = is_private ? EntryScope::Private : EntryScope::Shared;
    if (!for_set) return true;
    const std::size_t n = components(name);
    const std::string_view rest = name.substr(is_private ? 8 : 7);
    const bool vendor = starts_with_i(rest, "/vendor/") || ascii::iequals(rest, "/vendor");
    if (n < 2 || (vendor && n < 4)) {
        *why = "Too few components in the entry name (RFC 5464 3.2)";
        return false;
    }
    return true;
}

bool entry_matches(std::string_view name, std::string_view asked, std::uint8_t depth) {
    if (name.size() == asked.size()) return ascii::iequals(name, asked);
    if (depth == 0 || name.size() <= asked.size() + 1 || name[asked.size()] != '/' ||
        !ascii::iequals(name.substr(0, asked.size()), asked)) {
        return false;
    }
    if (depth == kDepthInfinity) return true;
    return name.substr(asked.size() + 1).find('/') == std::string_view::npos;
}

void metadata_lower(std::string_view name, char* out) {
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        out[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    }
}

}  // namespace tinyimapd::mail
