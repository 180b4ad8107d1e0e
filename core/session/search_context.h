// Updating search contexts (RFC 5267 §4.3, CONTEXT=SEARCH): what a
// SEARCH or UID SEARCH with RETURN (UPDATE) keeps so that later changes to
// the mailbox are reported as ESEARCH ADDTO and REMOVEFROM.
//
// What a context holds, all in fixed session memory (no heap, nothing in the
// parser's arena, which the next command overwrites):
// - its tag (the search correlator of every update) and whether the
//   numbers are UIDs (UID SEARCH) or message sequence numbers (§4.3.2);
// - a copy of the search program (kNodes compact nodes), its keywords,
//   strings and field names in kText bytes, and its sequence sets as
//   kRanges UID ranges: sequence
//   numbers, and "*" of UID sets, are resolved when the command runs, as
//   §4.3's errata note says ("evaluated at the time the command is
//   received"), so later renumbering changes nothing;
// - the result as UID ranges (imap::SavedResult's shape, 64 ranges);
// - how far it has looked: seen_modseq (every change up to that
//   mod-sequence is evaluated) and seen_uid (every message up to that UID).
//
// What it cannot hold is refused with NOUPDATE (§4.3.1 lets a server refuse
// to update "such as if an internal limit ... is reached"; the other return
// options are still answered): a program over kNodes nodes, kText bytes of
// strings or kRanges ranges; a result over 64 ranges; programs with BODY or
// TEXT (a changed message's whole text would have to be walked again) or
// with the clock's keys (OLDER, YOUNGER: they change with no change to the
// mailbox); any SORT (§4.3.1: sorted contexts may be refused while unsorted
// ones are served). Header keys (FROM TO CC BCC SUBJECT HEADER, and SENT*
// from the Date: field) are kept: a changed or new message's header is read
// again, in SEARCH's header window, within a byte budget per walk step.
//
// Memory: sizeof(SearchContext) each (1 456 bytes on 64-bit targets), at
// most kSearchContexts per session, lent from the server's `search_contexts`
// pool (core/session/object_pool.h; --print-layout); none free: NOUPDATE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/imap/parser.h"
#include "core/imap/saved_result.h"
#include "core/imap/search_program.h"

namespace tinyimapd::session {

// Updating contexts per session: §4.3.1 asks for at least one, SHOULD more.
inline constexpr std::size_t kSearchContexts = 2;

// One key of a kept program (imap::SearchNode without its views).
struct ContextNode {
    imap::SearchKey key = imap::SearchKey::All;
    std::uint8_t flag_bit = 0;
    std::uint8_t end = 0;     // one past the last descendant (pre-order)
    std::uint8_t set_at = 0;  // UID, sequence set: ranges[set_at .. set_at + set_count)
    std::uint8_t set_count = 0;
    std::uint16_t text_at = 0;  // keyword, or string of a header key, in SearchContext::text
    std::uint16_t text_len = 0;
    std::uint16_t field_at = 0;  // HEADER's field name in SearchContext::text
    std::uint16_t field_len = 0;
    std::uint64_t number = 0;  // LARGER SMALLER MODSEQ EMAILID; dates: day since 1970
};

struct SearchContext {
    static constexpr std::size_t kNodes = 16;
    static constexpr std::size_t kText = 256;
    static constexpr std::size_t kRanges = 16;

    enum class State : std::uint8_t { Free, Building, Active };
    State state = State::Free;
    bool uid = false;  // UID SEARCH: updates carry UIDs
    std::uint8_t tag_length = 0;
    std::uint8_t node_count = 0;
    std::uint16_t text_used = 0;
    std::uint8_t range_count = 0;
    char tag[imap::kMaxTagLength] = {};
    ContextNode nodes[kNodes] = {};
    char text[kText] = {};
    imap::SeqRange ranges[kRanges] = {};
    imap::SavedResult result;
    std::uint64_t seen_modseq = 0;
    std::uint32_t seen_uid = 0;
    // A catch-up walk over the view (Session::update_contexts): the next
    // message, the mailbox's mod-sequence when it began, the highest UID
    // it has looked at.
    bool walking = false;
    std::uint32_t walk_seq = 0;
    std::uint32_t walk_max_uid = 0;
    std::uint64_t walk_modseq = 0;

    std::string_view tag_view() const { return {tag, tag_length}; }
    std::string_view keyword(const ContextNode& n) const { return {text + n.text_at, n.text_len}; }
    std::string_view field(const ContextNode& n) const { return {text + n.field_at, n.field_len}; }
};

// Why a program cannot be kept ("" if it can): a key §4.3 cannot follow here.
const char* context_refusal(const imap::SearchNode* nodes, std::size_t count);

}  // namespace tinyimapd::session
