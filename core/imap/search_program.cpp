#include "core/imap/search_program.h"

#include "core/base/text.h"
#include "core/imap/object_id.h"
#include "core/mail/flags.h"

namespace tinyimapd::imap {
namespace {

// What follows a search key's name (RFC 3501 §9 search-key).
enum class KeyArg : std::uint8_t {
    None,
    AString,   // SP astring
    Date,      // SP date
    Number,    // SP number
    Keyword,   // SP flag-keyword
    Header,    // SP header-fld-name SP astring
    UidSet,    // SP sequence-set
    Not,       // SP search-key
    Or,        // SP search-key SP search-key
    ModSeq,    // [SP entry-name SP entry-type-req] SP mod-sequence-valzer
    ObjectId,  // SP objectid (RFC 8474 §7)
};

struct KeyDef {
    std::string_view name;
    SearchKey key;
    KeyArg arg;
    std::uint8_t flag_bit;
};

constexpr KeyDef kKeys[] = {
    {"ALL", SearchKey::All, KeyArg::None, 0},
    {"ANSWERED", SearchKey::Answered, KeyArg::None, mail::kAnswered},
    {"BCC", SearchKey::Bcc, KeyArg::AString, 0},
    {"BEFORE", SearchKey::Before, KeyArg::Date, 0},
    {"BODY", SearchKey::Body, KeyArg::AString, 0},
    {"CC", SearchKey::Cc, KeyArg::AString, 0},
    {"DELETED", SearchKey::Deleted, KeyArg::None, mail::kDeleted},
    {"DRAFT", SearchKey::Draft, KeyArg::None, mail::kDraft},
    {"EMAILID", SearchKey::EmailId, KeyArg::ObjectId, 0},  // RFC 8474 §6
    {"FLAGGED", SearchKey::Flagged, KeyArg::None, mail::kFlagged},
    {"FROM", SearchKey::From, KeyArg::AString, 0},
    {"HEADER", SearchKey::Header, KeyArg::Header, 0},
    {"KEYWORD", SearchKey::Keyword, KeyArg::Keyword, 0},
    {"LARGER", SearchKey::Larger, KeyArg::Number, 0},
    {"MODSEQ", SearchKey::ModSeq, KeyArg::ModSeq, 0},
    {"NEW", SearchKey::New, KeyArg::None, 0},
    {"NOT", SearchKey::Not, KeyArg::Not, 0},
    {"OLD", SearchKey::Old, KeyArg::None, 0},
    {"OLDER", SearchKey::Older, KeyArg::Number, 0},
    {"ON", SearchKey::On, KeyArg::Date, 0},
    {"OR", SearchKey::Or, KeyArg::Or, 0},
    {"RECENT", SearchKey::Recent, KeyArg::None, mail::kRecent},
    {"SAVEDATESUPPORTED", SearchKey::SaveDateSupported, KeyArg::None, 0},  // RFC 8514 §4.3
    {"SAVEDBEFORE", SearchKey::SavedBefore, KeyArg::Date, 0},
    {"SAVEDON", SearchKey::SavedOn, KeyArg::Date, 0},
    {"SAVEDSINCE", SearchKey::SavedSince, KeyArg::Date, 0},
    {"SEEN", SearchKey::Seen, KeyArg::None, mail::kSeen},
    {"SENTBEFORE", SearchKey::SentBefore, KeyArg::Date, 0},
    {"SENTON", SearchKey::SentOn, KeyArg::Date, 0},
    {"SENTSINCE", SearchKey::SentSince, KeyArg::Date, 0},
    {"SINCE", SearchKey::Since, KeyArg::Date, 0},
    {"SMALLER", SearchKey::Smaller, KeyArg::Number, 0},
    {"SUBJECT", SearchKey::Subject, KeyArg::AString, 0},
    {"TEXT", SearchKey::Text, KeyArg::AString, 0},
    {"THREADID", SearchKey::ThreadId, KeyArg::ObjectId, 0},  // RFC 8474 §6
    {"TO", SearchKey::To, KeyArg::AString, 0},
    {"UID", SearchKey::Uid, KeyArg::UidSet, 0},
    {"UNANSWERED", SearchKey::Unanswered, KeyArg::None, mail::kAnswered},
    {"UNDELETED", SearchKey::Undeleted, KeyArg::None, mail::kDeleted},
    {"UNDRAFT", SearchKey::Undraft, KeyArg::None, mail::kDraft},
    {"UNFLAGGED", SearchKey::Unflagged, KeyArg::None, mail::kFlagged},
    {"UNKEYWORD", SearchKey::Unkeyword, KeyArg::Keyword, 0},
    {"UNSEEN", SearchKey::Unseen, KeyArg::None, mail::kSeen},
    {"YOUNGER", SearchKey::Younger, KeyArg::Number, 0},
};

struct ReturnOpt {
    std::string_view name;
    std::uint8_t bit;
};

// CONTEXT and UPDATE (RFC 5267 §4.2, §4.3) are kept apart from return_mask
// (return_options).
constexpr ReturnOpt kReturnOpts[] = {
    {"MIN", kReturnMin},
    {"MAX", kReturnMax},
    {"ALL", kReturnAll},
    {"COUNT", kReturnCount},
    {"SAVE", kReturnSave},
    {"PARTIAL", kReturnPartial},
    {"CONTEXT", kReturnContextBit},
    {"UPDATE", kReturnUpdateBit},
};

// RFC 3501 nz-number, at most 2^32 - 1.
bool nz_number(std::string_view s, std::uint32_t* out) {
    std::uint64_t v = 0;
    if (s.empty() || s[0] == '0' || s.size() > 10 || !ascii::parse_uint(s, &v) || v > UINT32_MAX) {
        return false;
    }
    *out = static_cast<std::uint32_t>(v);
    return true;
}

// RFC 5267 §5 partial-range = nz-number ":" nz-number (no "*").
bool partial_range(std::string_view s, std::uint32_t* first, std::uint32_t* last) {
    const std::size_t colon = s.find(':');
    return colon != std::string_view::npos && nz_number(s.substr(0, colon), first) &&
           nz_number(s.substr(colon + 1), last);
}

// RFC 3501 §6.4.4: US-ASCII MUST be supported; UTF-8 is what clients use.
constexpr std::string_view kCharsets[] = {"US-ASCII", "UTF-8"};

// RFC 7162 §3.1.5 entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE.
constexpr std::string_view kFlagEntryPrefix = "/flags/";

struct EntryTypeName {
    std::string_view name;
    ModSeqEntry type;
};

constexpr EntryTypeName kEntryTypes[] = {
    {"priv", ModSeqEntry::Priv},
    {"shared", ModSeqEntry::Shared},
    {"all", ModSeqEntry::All},
};

const KeyDef* find_key(std::string_view name) {
    for (const KeyDef& k : kKeys) {
        if (ascii::iequals(name, k.name)) return &k;
    }
    return nullptr;
}

bool starts_sequence_set(std::string_view s) {
    return !s.empty() && (ascii::is_digit(s[0]) || s[0] == '*' || s[0] == '$');
}

class Compiler {
public:
    Compiler(SearchNode* nodes, std::size_t max_nodes, std::size_t max_ranges, SearchOptions* opts,
             SearchError* error)
        : nodes_(nodes),
          max_nodes_(max_nodes < kMaxIndex ? max_nodes : kMaxIndex),
          max_ranges_(max_ranges),
          opts_(opts),
          error_(error) {}

    bool return_options(ArgReader& r);
    bool charset(ArgReader& r, bool* supported);
    bool key(ArgReader& r, std::size_t depth);
    std::size_t count() const { return count_; }

private:
    // Node indexes are kept in 32 bits (SearchNode::end).
    static constexpr std::size_t kMaxIndex = 0xffffffffu;

    bool fail(const char* why, std::string_view culprit) {
        error_->why = why;
        error_->culprit = culprit;
        return false;
    }
    // Appends a leaf (end = its index + 1); nullptr when the program is full.
    SearchNode* emit(SearchKey key, std::uint8_t flag_bit) {
        if (count_ >= max_nodes_) return nullptr;
        SearchNode* n = &nodes_[count_];
        *n = SearchNode{};
        n->key = key;
        n->flag_bit = flag_bit;
        ++count_;
        n->end = static_cast<std::uint32_t>(count_);
        return n;
    }
    bool set(ArgReader& r, std::string_view name, SeqSet* out);
    bool date(ArgReader& r, std::string_view name, Date* out);
    bool modseq(ArgReader& r, std::string_view name, SearchNode* node);
    bool object_id(ArgReader& r, std::string_view name, SearchNode* node);
    bool children(ArgReader& r, const KeyDef& def, std::string_view name, std::size_t depth);

    SearchNode* nodes_;
    std::size_t max_nodes_;
    std::size_t max_ranges_;
    SearchOptions* opts_;
    SearchError* error_;
    std::size_t count_ = 0;
};

bool Compiler::return_options(ArgReader& r) {
    ArgReader list = r;
    if (!r.list(&list)) return fail("RETURN needs a list of options", "RETURN");
    opts_->esearch = true;
    while (!list.at_end()) {
        std::string_view name;
        const std::string_view culprit = list.peek_text();
        const ReturnOpt* found = nullptr;
        if (list.atom(&name)) {
            for (const ReturnOpt& o : kReturnOpts) {
                if (ascii::iequals(name, o.name)) found = &o;
            }
        }
        if (found == nullptr) return fail("Unknown search return option", culprit);
        if (found->bit == kReturnPartial) {
            std::string_view range;
            if ((opts_->return_mask & kReturnPartial) != 0) {
                return fail("PARTIAL may be given once", culprit);
            }
            if (!list.atom(&range) ||
                !partial_range(range, &opts_->partial_first, &opts_->partial_last)) {
                return fail("PARTIAL needs a range of two non-zero numbers", culprit);
            }
        }
        if (found->bit == kReturnContextBit) {
            opts_->context = true;  // §4.2: a hint, which we may ignore
        } else if (found->bit == kReturnUpdateBit) {
            opts_->update = true;
        } else {
            opts_->return_mask |= found->bit;
        }
    }
    // RFC 5267 §4.4: "either one PARTIAL, one ALL, or neither".
    if ((opts_->return_mask & (kReturnPartial | kReturnAll)) == (kReturnPartial | kReturnAll)) {
        return fail("PARTIAL and ALL cannot be combined", "PARTIAL");
    }
    // RFC 4731 §3.1; RETURN (UPDATE) or (CONTEXT) alone, which ask for no
    // data of their own, get ALL too: the result the updates apply to.
    if (opts_->return_mask == 0) opts_->return_mask = kReturnAll;
    return true;
}

bool Compiler::charset(ArgReader& r, bool* supported) {
    std::string_view name;
    if (!r.astring(&name)) return fail("CHARSET needs a charset name", "CHARSET");
    opts_->charset = name;
    *supported = false;
    for (std::string_view c : kCharsets) {
        if (ascii::iequals(name, c)) *supported = true;
    }
    return true;
}

bool Compiler::set(ArgReader& r, std::string_view name, SeqSet* out) {
    std::string_view text;
    if (!r.atom(&text)) return fail("UID needs a sequence set", name);
    const char* why = "";
    if (!SeqSet::parse(text, max_ranges_, out, &why)) return fail(why, text);
    return true;
}

bool Compiler::date(ArgReader& r, std::string_view name, Date* out) {
    std::string_view text;
    if (!r.atom(&text) && !r.quoted(&text)) {
        return fail("Search key needs a date (d-Mon-yyyy)", name);
    }
    if (!parse_date(text, out)) return fail("Invalid date: expected d-Mon-yyyy", text);
    return true;
}

// RFC 8474 §6, §7: EMAILID / THREADID SP objectid. An EMAILID that is not
// one of ours (number 0) matches nothing; so does every THREADID (§5.2).
bool Compiler::object_id(ArgReader& r, std::string_view name, SearchNode* n) {
    const std::string_view culprit = r.peek_text();
    if (!r.atom(&n->text) || !is_object_id(n->text)) {
        return fail("Search key needs an object id (1 to 255 of A-Z a-z 0-9 _ -)",
                    culprit.empty() ? name : culprit);
    }
    if (n->key == SearchKey::EmailId) n->number = parse_object_id(n->text, kEmailIdPrefix);
    return true;
}

bool Compiler::modseq(ArgReader& r, std::string_view name, SearchNode* node) {
    std::string_view entry;
    if (r.quoted(&entry)) {
        const std::string_view prefix = ascii::head(entry, kFlagEntryPrefix.size());
        const std::string_view flag = ascii::tail(entry, kFlagEntryPrefix.size());
        mail::FlagKind kind = mail::FlagKind::Keyword;
        std::uint8_t bit = 0;
        if (!ascii::iequals(prefix, kFlagEntryPrefix) || !mail::classify_flag(flag, &kind, &bit) ||
            kind == mail::FlagKind::Recent) {
            return fail("Invalid MODSEQ entry name: expected \"/flags/<flag>\"", entry);
        }
        std::string_view type;
        const std::string_view culprit = r.peek_text();
        const EntryTypeName* found = nullptr;
        if (r.atom(&type)) {
            for (const EntryTypeName& t : kEntryTypes) {
                if (ascii::iequals(type, t.name)) found = &t;
            }
        }
        if (found == nullptr) {
            return fail("Invalid MODSEQ entry type: expected priv, shared or all", culprit);
        }
        node->field = flag;
        node->flag_bit = bit;
        node->entry_type = found->type;
    }
    if (!r.number64(&node->number)) return fail("MODSEQ needs a mod-sequence value", name);
    opts_->uses_modseq = true;
    return true;
}

// NOT and OR: the node is already emitted at index count_ - 1.
bool Compiler::children(ArgReader& r, const KeyDef& def, std::string_view name, std::size_t depth) {
    const std::size_t self = count_ - 1;
    const int wanted = def.arg == KeyArg::Or ? 2 : 1;
    for (int i = 0; i < wanted; ++i) {
        if (r.at_end()) {
            return fail(
                def.arg == KeyArg::Or ? "OR needs two search keys" : "NOT needs a search key",
                name);
        }
        if (!key(r, depth + 1)) return false;
    }
    nodes_[self].end = static_cast<std::uint32_t>(count_);
    return true;
}

bool Compiler::key(ArgReader& r, std::size_t depth) {
    ArgType type = ArgType::Atom;
    if (!r.peek_type(&type)) return fail("Missing search key", "");
    const std::string_view name = r.peek_text();

    if (type == ArgType::List) {
        // "(" search-key *(SP search-key) ")": an AND of its keys.
        if (depth >= kMaxSearchDepth) return fail("Search keys nested too deeply", "(");
        ArgReader inner = r;
        r.list(&inner);
        if (inner.at_end()) return fail("Empty search key list", "()");
        if (emit(SearchKey::And, 0) == nullptr) return fail("Search program too large", "(");
        const std::size_t self = count_ - 1;
        while (!inner.at_end()) {
            if (!key(inner, depth + 1)) return false;
        }
        nodes_[self].end = static_cast<std::uint32_t>(count_);
        return true;
    }
    if (type != ArgType::Atom) return fail("Search key expected", name);

    if (starts_sequence_set(name)) {
        SeqSet seq;
        if (!set(r, name, &seq)) return false;
        SearchNode* n = emit(SearchKey::SequenceSet, 0);
        if (n == nullptr) return fail("Search program too large", name);
        n->set = seq;
        return true;
    }

    const KeyDef* def = find_key(name);
    if (def == nullptr) return fail("Unknown search key", name);
    r.skip();
    if ((def->arg == KeyArg::Not || def->arg == KeyArg::Or) && depth >= kMaxSearchDepth) {
        return fail("Search keys nested too deeply", name);
    }
    SearchNode* n = emit(def->key, def->flag_bit);
    if (n == nullptr) return fail("Search program too large", name);

    switch (def->arg) {
        case KeyArg::None: return true;
        case KeyArg::AString:
            if (!r.astring(&n->text)) return fail("Search key needs a string", name);
            return true;
        case KeyArg::Date: return date(r, name, &n->date);
        case KeyArg::Number: {
            std::uint32_t size = 0;
            if (!r.number(&size)) return fail("Search key needs a number", name);
            // RFC 5032 §3: OLDER/YOUNGER take an nz-number.
            const bool interval = n->key == SearchKey::Older || n->key == SearchKey::Younger;
            if (interval && size == 0) return fail("Search key needs a nonzero number", name);
            n->number = size;
            return true;
        }
        case KeyArg::Keyword: {
            const std::string_view culprit = r.peek_text();
            if (!r.atom(&n->text) || !is_atom(n->text)) {
                return fail("Search key needs a keyword (an atom, not a system flag)",
                            culprit.empty() ? name : culprit);
            }
            return true;
        }
        case KeyArg::Header:
            if (!r.astring(&n->field) || !r.astring(&n->text)) {
                return fail("HEADER needs a field name and a string", name);
            }
            return true;
        case KeyArg::UidSet: return set(r, name, &n->set);
        case KeyArg::ModSeq: return modseq(r, name, n);
        case KeyArg::ObjectId: return object_id(r, name, n);
        case KeyArg::Not:
        case KeyArg::Or: return children(r, *def, name, depth);
    }
    return fail("Unknown search key", name);
}

}  // namespace

bool parse_search(ArgReader& r, SearchNode* nodes, std::size_t max_nodes, std::size_t max_ranges,
                  SearchOptions* opts, std::size_t* node_count, SearchError* error) {
    *opts = SearchOptions{};
    *error = SearchError{};
    *node_count = 0;
    Compiler c(nodes, max_nodes, max_ranges, opts, error);
    bool charset_supported = true;
    bool ok = true;
    // RFC 4466 §2.6: search = "SEARCH" [search-return-opts] SP search-program
    if (r.word("RETURN")) ok = c.return_options(r);
    if (ok && r.word("CHARSET")) ok = c.charset(r, &charset_supported);
    if (ok && r.at_end()) {
        error->why = "Missing search key";
        ok = false;
    }
    while (ok && !r.at_end()) ok = c.key(r, 0);
    if (ok && !charset_supported) {
        error->why = "Unsupported charset";
        error->culprit = opts->charset;
        error->bad_charset = true;
        ok = false;
    }
    if (!ok) return r.fail(error->why);
    *node_count = c.count();
    return true;
}

bool parse_search_return(ArgReader& r, SearchOptions* opts, SearchError* error) {
    *opts = SearchOptions{};
    *error = SearchError{};
    Compiler c(nullptr, 0, 0, opts, error);
    if (!c.return_options(r)) return r.fail(error->why);
    return true;
}

}  // namespace tinyimapd::imap
