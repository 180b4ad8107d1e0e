#include "core/imap/fetch_spec.h"

namespace tinyimapd::imap {
namespace {

struct NamedKind {
    std::string_view name;
    FetchKind kind;
};

// The fetch-atts that are a bare keyword (RFC 3501 §9 "fetch-att", RFC 7162
// "fetch-mod-sequence", RFC 8474 §7, RFC 8514 §5); also their response names.
constexpr NamedKind kSimpleAtts[] = {
    {"ENVELOPE", FetchKind::Envelope},
    {"FLAGS", FetchKind::Flags},
    {"INTERNALDATE", FetchKind::InternalDate},
    {"RFC822", FetchKind::Rfc822},
    {"RFC822.HEADER", FetchKind::Rfc822Header},
    {"RFC822.SIZE", FetchKind::Rfc822Size},
    {"RFC822.TEXT", FetchKind::Rfc822Text},
    {"BODY", FetchKind::Body},
    {"BODYSTRUCTURE", FetchKind::BodyStructure},
    {"UID", FetchKind::Uid},
    {"MODSEQ", FetchKind::ModSeq},
    {"EMAILID", FetchKind::EmailId},
    {"THREADID", FetchKind::ThreadId},
    {"SAVEDATE", FetchKind::SaveDate},
    {"PREVIEW", FetchKind::Preview},
};

// RFC 3501 §6.4.5 macros, in the order the RFC lists their items.
constexpr FetchKind kFast[] = {FetchKind::Flags, FetchKind::InternalDate, FetchKind::Rfc822Size};
constexpr FetchKind kAll[] = {FetchKind::Flags, FetchKind::InternalDate, FetchKind::Rfc822Size,
                              FetchKind::Envelope};
constexpr FetchKind kFull[] = {FetchKind::Flags, FetchKind::InternalDate, FetchKind::Rfc822Size,
                               FetchKind::Envelope, FetchKind::Body};

constexpr std::string_view kHeaderFieldsNot = "HEADER.FIELDS.NOT";
constexpr std::string_view kHeaderFields = "HEADER.FIELDS";

constexpr const char* kInvalidSection = "Invalid section";
constexpr const char* kInvalidHeaderList = "Invalid header list";

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && ascii::iequals(ascii::head(s, prefix.size()), prefix);
}

bool set_why(const char** why, const char* text) {
    *why = text;
    return false;
}

std::size_t no_name(const char** why, const char* text) {
    *why = text;
    return 0;
}

// One header-fld-name (astring, RFC 3501 §9) at the start of s: an atom of
// ASTRING-CHARs or a quoted string. Returns the bytes it takes (0 if
// malformed); *raw is the atom or the quoted contents with escapes still in,
// *length the name's length once unescaped.
std::size_t read_field_name(std::string_view s, std::string_view* raw, std::size_t* length,
                            bool* escaped, const char** why) {
    *escaped = false;
    if (s.empty()) return no_name(why, kInvalidHeaderList);
    if (s[0] == '{') return no_name(why, "Literals are not supported in a header list");
    if (s[0] != '"') {
        std::size_t n = 0;
        while (n < s.size() && is_astring_char(s[n])) ++n;
        if (n == 0) return no_name(why, kInvalidHeaderList);
        *raw = ascii::head(s, n);
        *length = n;
        return n;
    }
    std::size_t n = 0;  // unescaped bytes
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '"') {
            *raw = std::string_view(s.data() + 1, i - 1);
            *length = n;
            return i + 1;
        }
        if (c == '\\') {
            // RFC 3501 §9 QUOTED-CHAR: only quoted-specials may be escaped.
            if (i + 1 >= s.size() || (s[i + 1] != '"' && s[i + 1] != '\\')) {
                return no_name(why, kInvalidHeaderList);
            }
            *escaped = true;
            ++i;
        }
        ++n;
    }
    return no_name(why, kInvalidHeaderList);  // unterminated
}

// header-list = "(" header-fld-name *(SP header-fld-name) ")"
bool check_header_list(std::string_view s, const char** why) {
    if (s.size() < 2 || s.front() != '(' || s.back() != ')') {
        return set_why(why, kInvalidHeaderList);
    }
    std::string_view rest(s.data() + 1, s.size() - 2);
    for (;;) {
        std::string_view raw;
        std::size_t length = 0;
        bool escaped = false;
        const std::size_t n = read_field_name(rest, &raw, &length, &escaped, why);
        if (n == 0) return false;
        if (length > kMaxHeaderFieldName) return set_why(why, "Header field name too long");
        rest = ascii::tail(rest, n);
        if (rest.empty()) return true;
        if (rest[0] != ' ') return set_why(why, kInvalidHeaderList);
        rest = ascii::tail(rest, 1);
    }
}

// section-spec (RFC 3501 §9), or section-part only for BINARY (RFC 3516 §4):
// the text between the brackets.
bool parse_section(std::string_view s, bool parts_only, SectionSpec* out, const char** why) {
    *out = SectionSpec{};
    std::size_t i = 0;
    std::size_t parts_end = 0;
    std::size_t count = 0;
    while (i < s.size() && ascii::is_digit(s[i])) {
        // nz-number = digit-nz *DIGIT: no leading zero, so the text echoes as is.
        if (s[i] == '0') return set_why(why, kInvalidSection);
        std::size_t j = i;
        while (j < s.size() && ascii::is_digit(s[j])) ++j;
        std::uint32_t part = 0;
        if (!parse_number(std::string_view(s.data() + i, j - i), &part)) {
            return set_why(why, kInvalidSection);
        }
        if (++count > kMaxSectionDepth) return set_why(why, "Section too deep");
        parts_end = j;
        if (j == s.size()) {
            i = j;
            break;
        }
        if (s[j] != '.' || j + 1 == s.size()) return set_why(why, kInvalidSection);
        i = j + 1;
    }
    out->parts = ascii::head(s, parts_end);
    out->part_count = static_cast<std::uint8_t>(count);
    const std::string_view rest = ascii::tail(s, i);
    if (rest.empty()) return true;
    if (parts_only) return set_why(why, "BINARY takes only part numbers in its section");
    if (ascii::iequals(rest, "HEADER")) {
        out->text = SectionText::Header;
    } else if (ascii::iequals(rest, "TEXT")) {
        out->text = SectionText::Text;
    } else if (ascii::iequals(rest, "MIME")) {
        // RFC 3501 §6.4.5: "The MIME part specifier MUST be prefixed by one
        // or more numeric part specifiers."
        if (count == 0) return set_why(why, "MIME requires a part number");
        out->text = SectionText::Mime;
    } else if (ascii::iequals(rest, kHeaderFields) || ascii::iequals(rest, kHeaderFieldsNot)) {
        return set_why(why, "Missing header list");
    } else {
        std::size_t keyword = 0;
        if (istarts_with(rest, kHeaderFieldsNot)) {
            out->text = SectionText::HeaderFieldsNot;
            keyword = kHeaderFieldsNot.size();
        } else if (istarts_with(rest, kHeaderFields)) {
            out->text = SectionText::HeaderFields;
            keyword = kHeaderFields.size();
        } else {
            return set_why(why, kInvalidSection);
        }
        // Exactly one SP before the list (RFC 3501 §9 "section-msgtext").
        if (keyword >= rest.size() || rest[keyword] != ' ') return set_why(why, kInvalidSection);
        out->fields = ascii::tail(rest, keyword + 1);
        if (!check_header_list(out->fields, why)) return false;
    }
    return true;
}

// partial = "<" number "." nz-number ">" (RFC 3501 §9, RFC 3516 §4). The
// obsolete "<" number ">" form of RFC 2062 is refused.
bool parse_partial(std::string_view s, FetchItem* out, const char** why) {
    if (s.size() < 2 || s.front() != '<' || s.back() != '>') {
        return set_why(why, s.front() == '<' ? "Invalid partial" : "Unexpected text after section");
    }
    const std::string_view inner(s.data() + 1, s.size() - 2);
    std::size_t dot = 0;
    while (dot < inner.size() && inner[dot] != '.') ++dot;
    if (dot == inner.size()) return set_why(why, "Invalid partial");
    std::uint32_t offset = 0;
    std::uint32_t count = 0;
    if (!parse_number(ascii::head(inner, dot), &offset) ||
        !parse_number(ascii::tail(inner, dot + 1), &count) || count == 0) {
        return set_why(why, "Invalid partial");
    }
    out->has_partial = true;
    out->partial_offset = offset;
    out->partial_count = count;
    return true;
}

const FetchKind* macro_items(std::string_view atom, std::size_t* n) {
    if (ascii::iequals(atom, "ALL")) {
        *n = sizeof kAll / sizeof kAll[0];
        return kAll;
    }
    if (ascii::iequals(atom, "FAST")) {
        *n = sizeof kFast / sizeof kFast[0];
        return kFast;
    }
    if (ascii::iequals(atom, "FULL")) {
        *n = sizeof kFull / sizeof kFull[0];
        return kFull;
    }
    return nullptr;
}

void write_section(const SectionSpec& s, TextWriter& w) {
    w.put('[').put(s.parts);
    if (s.text != SectionText::None && s.part_count > 0) w.put('.');
    switch (s.text) {
        case SectionText::None: break;
        case SectionText::Header: w.put("HEADER"); break;
        case SectionText::HeaderFields: w.put(kHeaderFields).put(' ').put(s.fields); break;
        case SectionText::HeaderFieldsNot: w.put(kHeaderFieldsNot).put(' ').put(s.fields); break;
        case SectionText::Text: w.put("TEXT"); break;
        case SectionText::Mime: w.put("MIME"); break;
    }
    w.put(']');
}

// Collects items into the caller's array and the summary flags.
class ItemSink {
public:
    ItemSink(FetchItem* items, std::size_t max_items, FetchSpec* spec)
        : items_(items), max_(max_items), spec_(spec) {}

    bool add(const FetchItem& item) {
        if (spec_->count >= max_) return false;
        items_[spec_->count++] = item;
        if (item.kind == FetchKind::Uid) spec_->wants_uid = true;
        if (item.kind == FetchKind::ModSeq) spec_->wants_modseq = true;
        if (fetch_sets_seen(item)) spec_->sets_seen = true;
        return true;
    }

private:
    FetchItem* items_;
    std::size_t max_;
    FetchSpec* spec_;
};

}  // namespace

bool parse_fetch_att(std::string_view text, FetchItem* out, const char** why) {
    *out = FetchItem{};
    std::size_t open = 0;
    while (open < text.size() && text[open] != '[') ++open;
    if (open == text.size()) {
        // RFC 2062 §6.4.5.OBS.1: harmless to accept, and old clients send them.
        if (ascii::iequals(text, "RFC822.PEEK") || ascii::iequals(text, "RFC822.TEXT.PEEK")) {
            const bool body_text = text.size() > 11;
            out->kind = FetchKind::BodySection;
            out->peek = true;
            out->section.text = body_text ? SectionText::Text : SectionText::None;
            out->obsolete = body_text ? ObsoleteName::Rfc822Text : ObsoleteName::Rfc822;
            return true;
        }
        for (const NamedKind& k : kSimpleAtts) {
            if (ascii::iequals(text, k.name)) {
                out->kind = k.kind;
                return true;
            }
        }
        return set_why(why, "Unknown fetch attribute");
    }
    const std::string_view name = ascii::head(text, open);
    bool parts_only = true;
    if (ascii::iequals(name, "BODY") || ascii::iequals(name, "BODY.PEEK")) {
        out->kind = FetchKind::BodySection;
        out->peek = name.size() > 4;
        parts_only = false;
    } else if (ascii::iequals(name, "BINARY") || ascii::iequals(name, "BINARY.PEEK")) {
        out->kind = FetchKind::BinarySection;
        out->peek = name.size() > 6;
    } else if (ascii::iequals(name, "BINARY.SIZE")) {
        out->kind = FetchKind::BinarySize;
    } else {
        return set_why(why, "Unknown fetch attribute");
    }
    // The lexer ends a section at its first ']' (core/imap/parser.h).
    std::size_t close = open + 1;
    while (close < text.size() && text[close] != ']') ++close;
    if (close == text.size()) return set_why(why, kInvalidSection);
    const std::string_view inside(text.data() + open + 1, close - open - 1);
    if (!parse_section(inside, parts_only, &out->section, why)) return false;
    const std::string_view after = ascii::tail(text, close + 1);
    if (after.empty()) return true;
    if (out->kind == FetchKind::BinarySize) {
        return set_why(why, "BINARY.SIZE takes no partial");  // RFC 3516 §4.2
    }
    return parse_partial(after, out, why);
}

namespace {

// One FETCH command's arguments being parsed, and where a failure goes: the
// reason, the text it points at, and the reader's error state.
struct SpecParse {
    ArgReader& r;
    FetchSpec* out;
    const char** why;
    bool fail(const char* text, std::string_view at) {
        *why = text;
        out->error_at = at;
        return r.fail(text);
    }
};

constexpr const char* kTooMany = "Too many fetch attributes";

// RFC 8970 §6: "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"],
// preview-mod = "LAZY". A list after PREVIEW is its modifiers when it opens
// with an atom that is not a fetch-modifier (RFC 4466 §2.4's CHANGEDSINCE,
// VANISHED), so "FETCH 1 PREVIEW (CHANGEDSINCE 5)" keeps its meaning.
bool preview_mods(SpecParse& p, ArgReader& r, FetchItem* item) {
    ArgType type = ArgType::Atom;
    if (item->kind != FetchKind::Preview || !r.peek_type(&type) || type != ArgType::List) {
        return true;
    }
    ArgReader mods = r;
    ArgReader peek = r;
    (void)peek.list(&mods);
    if (mods.peek_word("CHANGEDSINCE") || mods.peek_word("VANISHED")) return true;
    (void)r.list(&mods);
    if (mods.at_end()) return p.fail("Empty PREVIEW modifier list", "PREVIEW");
    while (!mods.at_end()) {
        const std::string_view at = mods.peek_text();
        if (!mods.word("LAZY")) return p.fail("Unknown PREVIEW modifier", at);
        item->lazy = true;
    }
    return true;
}

// A macro (ALL, FAST, FULL: RFC 3501 §6.4.5) or a single fetch-att.
bool parse_att_atom(SpecParse& p, ItemSink& sink) {
    const std::string_view atom = p.r.peek_text();
    FetchItem item;
    std::size_t n = 0;
    if (const FetchKind* kinds = macro_items(atom, &n)) {
        for (std::size_t i = 0; i < n; ++i) {
            item = FetchItem{};
            item.kind = kinds[i];
            if (!sink.add(item)) return p.fail(kTooMany, atom);
        }
    } else {
        const char* bad = "";
        if (!parse_fetch_att(atom, &item, &bad)) return p.fail(bad, atom);
        p.r.skip();
        if (!preview_mods(p, p.r, &item)) return false;
        if (!sink.add(item)) return p.fail(kTooMany, atom);
        return true;
    }
    p.r.skip();
    return true;
}

// "(" fetch-att *(SP fetch-att) ")": no macros inside (RFC 3501 §9).
bool parse_att_list(SpecParse& p, ItemSink& sink) {
    ArgReader list = p.r;
    p.r.list(&list);
    if (list.at_end()) return p.fail("Empty fetch attribute list", {});
    ArgType type = ArgType::Atom;
    FetchItem item;
    while (list.peek_type(&type)) {
        const std::string_view atom = list.peek_text();
        if (type != ArgType::Atom) return p.fail("Invalid fetch attribute", atom);
        std::size_t n = 0;
        if (macro_items(atom, &n) != nullptr) {
            return p.fail("ALL, FAST and FULL are not allowed in a list", atom);
        }
        const char* bad = "";
        if (!parse_fetch_att(atom, &item, &bad)) return p.fail(bad, atom);
        list.skip();
        if (!preview_mods(p, list, &item)) return false;
        if (!sink.add(item)) return p.fail(kTooMany, atom);
    }
    return true;
}

// fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"
// (RFC 4466 §2.4): CHANGEDSINCE and VANISHED (RFC 7162).
bool parse_fetch_modifiers(SpecParse& p) {
    ArgType type = ArgType::Atom;
    if (!p.r.peek_type(&type)) return true;
    if (type != ArgType::List) {
        return p.fail("Unexpected argument after fetch attributes", p.r.peek_text());
    }
    ArgReader mods = p.r;
    p.r.list(&mods);
    if (mods.at_end()) return p.fail("Empty fetch modifier list", {});
    FetchSpec* out = p.out;
    while (!mods.at_end()) {
        if (mods.word("CHANGEDSINCE")) {
            if (out->changedsince) return p.fail("Duplicate CHANGEDSINCE", {});
            // mod-sequence-value: 1 to 2^63-1 (RFC 7162 §7).
            std::uint64_t value = 0;
            const std::string_view at = mods.peek_text();
            if (!mods.number64(&value) || value == 0) {
                return p.fail("Invalid CHANGEDSINCE value", at);
            }
            out->changedsince = true;
            out->changedsince_value = value;
            // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ.
            out->wants_modseq = true;
        } else if (mods.word("VANISHED")) {
            if (out->vanished) return p.fail("Duplicate VANISHED", {});
            out->vanished = true;
        } else {
            return p.fail("Unknown fetch modifier", mods.peek_text());
        }
    }
    if (!p.r.at_end()) {
        return p.fail("Unexpected argument after fetch modifiers", p.r.peek_text());
    }
    return true;
}

}  // namespace

bool parse_fetch_spec(ArgReader& r, FetchItem* items, std::size_t max_items, FetchSpec* out,
                      const char** why) {
    *out = FetchSpec{};
    out->items = items;
    ItemSink sink(items, max_items, out);
    SpecParse p{r, out, why};
    ArgType type = ArgType::Atom;
    if (!r.peek_type(&type)) return p.fail("Missing fetch attributes", {});
    if (type == ArgType::Atom) {
        if (!parse_att_atom(p, sink)) return false;
    } else if (type == ArgType::List) {
        if (!parse_att_list(p, sink)) return false;
    } else {
        return p.fail("Invalid fetch attribute", r.peek_text());
    }
    if (!parse_fetch_modifiers(p)) return false;
    // RFC 7162 §3.2.6: "If the VANISHED UID FETCH modifier is used without
    // the CHANGEDSINCE UID FETCH modifier, the server MUST respond with a
    // tagged BAD response."
    if (out->vanished && !out->changedsince) return p.fail("VANISHED requires CHANGEDSINCE", {});
    return true;
}

bool fetch_sets_seen(const FetchItem& item) {
    switch (item.kind) {
        case FetchKind::Rfc822:
        case FetchKind::Rfc822Text: return true;
        case FetchKind::BodySection:
        case FetchKind::BinarySection: return !item.peek;
        default: return false;
    }
}

void write_item_name(const FetchItem& item, TextWriter& w) {
    if (item.obsolete != ObsoleteName::None) {
        w.put(item.obsolete == ObsoleteName::Rfc822 ? "RFC822" : "RFC822.TEXT");
        return;
    }
    switch (item.kind) {
        case FetchKind::BodySection:
            w.put("BODY");
            write_section(item.section, w);
            break;
        case FetchKind::BinarySection:
            w.put("BINARY");
            write_section(item.section, w);
            break;
        case FetchKind::BinarySize:
            w.put("BINARY.SIZE");
            write_section(item.section, w);
            return;
        default:
            for (const NamedKind& k : kSimpleAtts) {
                if (k.kind == item.kind) w.put(k.name);
            }
            return;
    }
    // RFC 3501 §7.4.2: BODY[<section>]<<origin octet>>.
    if (item.has_partial) w.put('<').put_uint(item.partial_offset).put('>');
}

bool SectionPartIterator::next(std::uint32_t* part) {
    if (rest_.empty()) return false;
    std::size_t n = 0;
    std::uint32_t v = 0;
    while (n < rest_.size() && rest_[n] != '.') {
        v = v * 10 + static_cast<std::uint32_t>(rest_[n] - '0');
        ++n;
    }
    *part = v;
    rest_ = ascii::tail(rest_, n + 1);
    return true;
}

HeaderFieldIterator::HeaderFieldIterator(const SectionSpec& section) : unescaped_{} {
    if (section.fields.size() >= 2) {
        rest_ = std::string_view(section.fields.data() + 1, section.fields.size() - 2);
    }
}

bool HeaderFieldIterator::next(std::string_view* name) {
    if (rest_.empty()) return false;
    std::string_view raw;
    std::size_t length = 0;
    bool escaped = false;
    const char* why = "";
    const std::size_t n = read_field_name(rest_, &raw, &length, &escaped, &why);
    if (n == 0 || length > kMaxHeaderFieldName) {
        rest_ = {};  // not validated by parse_fetch_att: stop
        return false;
    }
    rest_ = ascii::tail(rest_, n + 1);  // the name and its SP
    if (!escaped) {
        *name = raw;
        return true;
    }
    std::size_t k = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\\') ++i;
        unescaped_[k++] = raw[i];
    }
    *name = std::string_view(unescaped_, k);
    return true;
}

}  // namespace tinyimapd::imap
