// The arguments of SORT and THREAD before their search criteria (RFC 5256
// §5; RFC 5957 §5 adds DISPLAYFROM and DISPLAYTO):
//   sort-criteria  = "(" sort-criterion *(SP sort-criterion) ")"
//   sort-criterion = ["REVERSE" SP] sort-key
//   sort-key       = "ARRIVAL" / "CC" / "DATE" / "FROM" / "SIZE" /
//                    "SUBJECT" / "TO" / "DISPLAYFROM" / "DISPLAYTO"
//   thread-alg     = "ORDEREDSUBJECT" / "REFERENCES" / thread-alg-ext
// Keywords match in any case. A key named twice is kept once (its first
// mention decides; a later one could never change the order), so a program
// holds at most kSortKeyCount criteria. An unknown thread-alg-ext is
// reported apart so that the command can answer NO rather than BAD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/imap/args.h"

namespace tinyimapd::imap {

enum class SortKey : std::uint8_t {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,  // RFC 5957
    DisplayTo,    // RFC 5957
};

inline constexpr std::size_t kSortKeyCount = 9;

struct SortCriterion {
    SortKey key = SortKey::Arrival;
    bool reverse = false;
};

struct SortProgram {
    std::uint8_t count = 0;
    SortCriterion criteria[kSortKeyCount] = {};
    // After a failure: the offending argument's text, if any.
    std::string_view error_at;
};

// Reads the parenthesised sort-criteria from `r`. On failure returns false
// and sets *why to a static English text and out->error_at.
[[nodiscard]] bool parse_sort_criteria(ArgReader& r, SortProgram* out, const char** why);

std::string_view sort_key_name(SortKey key);

enum class ThreadAlgorithm : std::uint8_t { OrderedSubject, References, Unknown };

// Reads a thread-alg atom: false (BAD) if the argument is not an atom;
// an atom that names no algorithm gives ThreadAlgorithm::Unknown.
[[nodiscard]] bool parse_thread_algorithm(ArgReader& r, ThreadAlgorithm* out);

}  // namespace tinyimapd::imap
