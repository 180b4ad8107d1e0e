#include "core/imap/sort_spec.h"

#include "core/base/text.h"

namespace tinyimapd::imap {
namespace {

// Indexed by SortKey.
constexpr std::string_view kNames[kSortKeyCount] = {
    "ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO",
};
static_assert(static_cast<std::size_t>(SortKey::DisplayTo) + 1 == kSortKeyCount);

bool key_named(std::string_view atom, SortKey* out) {
    for (std::size_t i = 0; i < kSortKeyCount; ++i) {
        if (ascii::iequals(atom, kNames[i])) {
            *out = static_cast<SortKey>(i);
            return true;
        }
    }
    return false;
}

}  // namespace

bool parse_sort_criteria(ArgReader& r, SortProgram* out, const char** why) {
    *out = SortProgram{};
    auto fail = [&](ArgReader& at, const char* text, std::string_view where) {
        *why = text;
        out->error_at = where;
        (void)r.fail(text);
        return at.fail(text);
    };
    ArgReader list = r;
    if (!r.list(&list)) return fail(r, "Sort criteria must be a parenthesised list", r.peek_text());
    if (list.at_end()) return fail(list, "Missing sort criteria", {});
    bool seen[kSortKeyCount] = {};
    while (!list.at_end()) {
        const bool reverse = list.word("REVERSE");
        std::string_view atom;
        SortKey key{};
        if (!list.atom(&atom) || !key_named(atom, &key)) {
            return fail(list, reverse ? "REVERSE needs a sort key" : "Unknown sort key",
                        atom.empty() ? list.peek_text() : atom);
        }
        const auto i = static_cast<std::size_t>(key);
        if (seen[i]) continue;
        seen[i] = true;
        out->criteria[out->count++] = {key, reverse};
    }
    return true;
}

std::string_view sort_key_name(SortKey key) {
    const auto i = static_cast<std::size_t>(key);
    return i < kSortKeyCount ? kNames[i] : std::string_view();
}

bool parse_thread_algorithm(ArgReader& r, ThreadAlgorithm* out) {
    std::string_view atom;
    if (!r.atom(&atom)) return r.fail("THREAD needs a threading algorithm");
    *out = ascii::iequals(atom, "ORDEREDSUBJECT") ? ThreadAlgorithm::OrderedSubject
           : ascii::iequals(atom, "REFERENCES")   ? ThreadAlgorithm::References
                                                  : ThreadAlgorithm::Unknown;
    return true;
}

}  // namespace tinyimapd::imap
