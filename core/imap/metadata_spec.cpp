#include "core/imap/metadata_spec.h"

#include "core/mail/metadata_name.h"

namespace tinyimapd::imap {

namespace {

bool fail(const char** why, const char* text) {
    *why = text;
    return false;
}

bool read_entry(ArgReader& r, bool for_set, const char** why) {
    std::string_view name;
    if (!r.astring(&name)) return fail(why, "Expected an entry name");
    return mail::is_valid_entry_name(name, for_set, why);
}

}  // namespace

bool parse_getmetadata_options(ArgReader& r, MetadataSpec* out, const char** why) {
    ArgReader list(r);
    if (!r.list(&list)) return true;
    if (list.at_end()) return fail(why, "Empty GETMETADATA option list");
    bool depth_seen = false;
    while (!list.at_end()) {
        if (list.word("MAXSIZE")) {
            if (out->has_maxsize || !list.number(&out->maxsize))
                return fail(why, "Syntax: MAXSIZE number, once");
            out->has_maxsize = true;
        } else if (list.word("DEPTH")) {
            if (depth_seen) return fail(why, "DEPTH given twice");
            depth_seen = true;
            if (list.word("0")) {
                out->depth = 0;
            } else if (list.word("1")) {
                out->depth = 1;
            } else if (list.word("infinity")) {
                out->depth = mail::kDepthInfinity;
            } else {
                return fail(why, "Syntax: DEPTH 0, 1 or infinity");
            }
        } else {
            return fail(why, "Unknown GETMETADATA option");
        }
    }
    return true;
}

bool parse_metadata_entries(ArgReader& r, MetadataSpec* out, const char** why) {
    ArgReader list(r);
    if (!r.list(&list)) {
        out->items = r;
        out->count = 1;
        return read_entry(r, false, why);
    }
    out->items = list;
    out->count = 0;
    if (list.at_end()) return fail(why, "Empty entry list");
    while (!list.at_end()) {
        if (++out->count > kMaxMetadataItems) return fail(why, "Too many entries in one command");
        if (!read_entry(list, false, why)) return false;
    }
    return true;
}

bool parse_metadata_values(ArgReader& r, MetadataSpec* out, const char** why) {
    ArgReader list(r);
    if (!r.list(&list)) return fail(why, "Syntax: SETMETADATA mailbox (entry value ...)");
    out->items = list;
    out->count = 0;
    if (list.at_end()) return fail(why, "Empty entry-value list");
    while (!list.at_end()) {
        if (++out->count > kMaxMetadataItems) return fail(why, "Too many entries in one command");
        if (!read_entry(list, true, why)) return false;
        std::string_view value;
        bool nil = false;
        if (!list.nstring(&value, &nil)) return fail(why, "Expected a value: a string or NIL");
    }
    return true;
}

}  // namespace tinyimapd::imap
