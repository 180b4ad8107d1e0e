// The SEARCH program: the search criteria of SEARCH and UID SEARCH compiled
// into a flat, pre-order array of nodes (RFC 3501 §6.4.4 and §9 "search",
// "search-key"; RFC 4466 §2.6 search-return-opts and search-program;
// RFC 4731 §3.1 RETURN (MIN MAX ALL COUNT); RFC 7162 §3.1.5 MODSEQ).
//
// What it does: parse_search() reads, from the argument after "SEARCH",
//     [RETURN "(" [opt *(SP opt)] ")"] [CHARSET astring] 1*search-key
// checks every key's arguments exactly (dates, numbers, sequence sets,
// keywords) and writes one node per key. It decides nothing about messages:
// evaluation is the search engine's job.
//
// Representation: like the parser's Args, node i's descendants are nodes
// i+1 .. end-1, so a leaf has end == i+1 and the next sibling is nodes[end].
// NOT has one child, OR two (nodes[i+1] and nodes[nodes[i+1].end]), And (a
// parenthesised key list) one or more. The top level, nodes[0..count), is a
// sequence of sibling keys that are ANDed together (RFC 3501 §6.4.4).
//
// Owns nothing: the caller gives the node array and its size; strings and
// sequence sets are views into the parser's arena, valid as long as the
// command is. Bytes per node: sizeof(SearchNode) is 72 on 64-bit targets and
// 56 on 32-bit ARM (static_assert below keeps it at most 72).
//
// Limits (each ends in a BAD with a clear text): max_nodes (the program's
// size: one node per key, list, NOT and OR), kMaxSearchDepth (nesting of
// NOT, OR and parentheses, which also bounds this parser's recursion) and
// max_ranges (per sequence set).
//
// Decisions where the RFCs leave room:
// - CHARSET: US-ASCII and UTF-8 (case-insensitive) are supported. Any other
//   name is reported with SearchError::bad_charset after the whole program
//   has been checked, so a syntax error still wins (BAD before NO); the
//   caller answers NO [BADCHARSET (US-ASCII UTF-8)] (RFC 3501 §6.4.4).
// - RETURN () means RETURN (ALL) (RFC 4731 §3.1), so return_mask is never 0
//   when esearch is set. Repeating an option is harmless. SAVE (RFC 5182
//   §2.4) is a bit of its own: RETURN (SAVE) alone asks for no ESEARCH
//   response at all. PARTIAL (RFC 5267 §4.4) takes a range of two
//   nz-numbers in either order, kept as written; PARTIAL with ALL, or two
//   PARTIALs, is BAD (§4.4: "either one PARTIAL, one ALL, or neither").
//   CONTEXT and UPDATE (RFC 5267 §4.2, §4.3) set SearchOptions::context and
//   ::update, not return_mask: they ask for no data in the answer, so
//   RETURN (UPDATE) alone is RETURN (UPDATE ALL). Other options are refused
//   as unknown.
// - SORT's RETURN (RFC 5267 §3, ESORT) is read by parse_search_return().
// - "$" (RFC 5182) is a sequence-set key like any other: its node's set
//   is_last_command(), for the session to substitute.
// - NEW and OLD stay their own keys (NEW = RECENT UNSEEN, OLD = NOT RECENT).
// - Dates are an atom or a quoted string (RFC 3501 "date"), never a literal;
//   KEYWORD takes an atom exactly (flag-keyword), so "KEYWORD \Seen" is BAD.
// - MODSEQ's entry name must be "/flags/" followed by a flag (attr-flag,
//   not \Recent); its type is priv, shared or all. A server without
//   per-flag mod-sequences ignores both (RFC 7162 §3.1.5), but they are
//   checked and kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/imap/args.h"
#include "core/imap/datetime.h"
#include "core/imap/seqset.h"

namespace tinyimapd::imap {

// Nesting of NOT, OR and parenthesised lists. Clients nest a few levels (OR
// chains grow one level per alternative); 32 leaves room and bounds the
// recursion's stack use on small targets.
inline constexpr std::size_t kMaxSearchDepth = 32;

enum class SearchKey : std::uint8_t {
    // RFC 3501 §6.4.4, in its order.
    SequenceSet,  // set: message sequence numbers
    All,
    Answered,  // flag_bit
    Bcc,       // text
    Before,    // date
    Body,      // text
    Cc,        // text
    Deleted,   // flag_bit
    Draft,     // flag_bit
    Flagged,   // flag_bit
    From,      // text
    Header,    // field: header field name, text: value
    Keyword,   // text: the keyword
    Larger,    // number
    New,
    Not,  // one child
    Old,
    On,                 // date
    Or,                 // two children
    Recent,             // flag_bit
    Seen,               // flag_bit
    SentBefore,         // date
    SentOn,             // date
    SentSince,          // date
    Since,              // date
    Smaller,            // number
    Subject,            // text
    Text,               // text
    To,                 // text
    Uid,                // set: UIDs
    Unanswered,         // flag_bit
    Undeleted,          // flag_bit
    Undraft,            // flag_bit
    Unflagged,          // flag_bit
    Unkeyword,          // text: the keyword
    Unseen,             // flag_bit
    And,                // a parenthesised list: one or more children
    ModSeq,             // RFC 7162: number; field, flag_bit, entry_type if an entry was named
    Older,              // RFC 5032: number, an interval in seconds (nz-number)
    Younger,            // RFC 5032: number, an interval in seconds (nz-number)
    SavedBefore,        // RFC 8514 §4.3: date
    SavedOn,            // RFC 8514 §4.3: date
    SavedSince,         // RFC 8514 §4.3: date
    SaveDateSupported,  // RFC 8514 §4.3
    EmailId,            // RFC 8474 §6: text (the objectid); number: ours decoded, or 0
    ThreadId,           // RFC 8474 §6: text (the objectid)
};

// RFC 7162 §3.1.5 entry-type-req; None when MODSEQ names no entry.
enum class ModSeqEntry : std::uint8_t { None, Priv, Shared, All };

struct SearchNode {
    SearchKey key = SearchKey::All;
    std::uint8_t flag_bit = 0;  // SystemFlag (core/mail/flags.h) of flag keys
    ModSeqEntry entry_type = ModSeqEntry::None;
    std::uint32_t end = 0;     // one past the last descendant (pre-order)
    std::string_view text;     // string argument, keyword, HEADER value
    std::string_view field;    // HEADER field name; MODSEQ flag name (after "/flags/")
    std::uint64_t number = 0;  // LARGER/SMALLER size (32-bit), MODSEQ mod-sequence-valzer
    Date date;                 // BEFORE ON SINCE SENT* SAVED*
    SeqSet set;                // sequence set, UID
};
static_assert(sizeof(SearchNode) <= 72, "SearchNode grew: update the per-node cost above");

// RFC 4731 search-return-opt bits.
enum SearchReturn : std::uint8_t {
    kReturnMin = 1,
    kReturnMax = 2,
    kReturnAll = 4,
    kReturnCount = 8,
    kReturnSave = 16,     // RFC 5182 §2.4: keep the result as "$"
    kReturnPartial = 32,  // RFC 5267 §4.4: results partial_first..partial_last
    // Parser-only: CONTEXT and UPDATE become SearchOptions' booleans.
    kReturnContextBit = 64,
    kReturnUpdateBit = 128,
};

struct SearchOptions {
    bool esearch = false;          // RETURN was given: answer with ESEARCH (RFC 4731)
    std::uint8_t return_mask = 0;  // SearchReturn bits
    std::string_view charset;      // as the client wrote it; "" if no CHARSET
    bool uses_modseq = false;      // a MODSEQ key: enables CONDSTORE (RFC 7162 §3.1)
    // RFC 5267 §4.4 partial-range as written ("500:400" is "400:500").
    std::uint32_t partial_first = 0, partial_last = 0;
    bool context = false;  // RFC 5267 §4.2 CONTEXT: a hint (ignored)
    bool update = false;   // RFC 5267 §4.3 UPDATE: notify changes of the result
};

struct SearchError {
    const char* why = "";  // static English text for the tagged response
    // The key or argument it is about ("" if none): raw client bytes (may be
    // long, 8-bit, or contain CR LF from a literal), so check or quote it
    // before echoing it in a response.
    std::string_view culprit;
    bool bad_charset = false;  // answer NO [BADCHARSET (US-ASCII UTF-8)], not BAD
};

// Parses everything after "SEARCH" (the reader positioned at its first
// argument) to the end of the reader. On success fills nodes[0..*node_count)
// and *opts and returns true. On failure returns false, sets *error (also
// recorded with r.fail()), *node_count is 0 and the nodes are unspecified.
bool parse_search(ArgReader& r, SearchNode* nodes, std::size_t max_nodes, std::size_t max_ranges,
                  SearchOptions* opts, std::size_t* node_count, SearchError* error);

// Reads "(" [opt *(SP opt)] ")" after SORT's RETURN (RFC 5267 §3: the
// same options as SEARCH's) into *opts (esearch set); false and *error as
// parse_search on failure.
bool parse_search_return(ArgReader& r, SearchOptions* opts, SearchError* error);

}  // namespace tinyimapd::imap
