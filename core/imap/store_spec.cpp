#include "core/imap/store_spec.h"

#include "core/base/text.h"

namespace tinyimapd::imap {

bool parse_store_spec(ArgReader& r, StoreSpec* out, const char** why) {
    out->op = StoreOp::Replace;
    out->silent = false;
    out->has_unchangedsince = false;
    out->unchangedsince = 0;
    out->flags_in_list = false;
    auto fail = [&](const char* text) {
        *why = text;
        return r.fail(text);
    };

    // store-modifiers = SP "(" store-modifier *(SP store-modifier) ")"
    // (RFC 4466 §2.5): a list where the operation is expected.
    ArgType type = ArgType::Atom;
    if (r.peek_type(&type) && type == ArgType::List) {
        ArgReader mods = r;
        r.list(&mods);
        if (mods.at_end()) return fail("Empty store modifier list");
        while (!mods.at_end()) {
            if (!mods.word("UNCHANGEDSINCE")) return fail("Unknown store modifier");
            // RFC 7162 §7: "Only a single UNCHANGEDSINCE may be specified".
            if (out->has_unchangedsince) return fail("Duplicate UNCHANGEDSINCE");
            if (!mods.number64(&out->unchangedsince)) return fail("Invalid UNCHANGEDSINCE value");
            out->has_unchangedsince = true;
        }
    }

    std::string_view name;
    if (!r.atom(&name)) {
        return fail(r.at_end() ? "Missing FLAGS, +FLAGS or -FLAGS"
                               : "Expected FLAGS, +FLAGS or -FLAGS");
    }
    if (!name.empty() && (name[0] == '+' || name[0] == '-')) {
        out->op = name[0] == '+' ? StoreOp::Add : StoreOp::Remove;
        name = ascii::tail(name, 1);
    }
    if (ascii::iequals(name, "FLAGS.SILENT")) {
        out->silent = true;
    } else if (!ascii::iequals(name, "FLAGS")) {
        return fail("Expected FLAGS, +FLAGS or -FLAGS");
    }

    // flag-list / (flag *(SP flag)): one list, or atoms only.
    out->flags = r;
    if (!r.peek_type(&type)) return fail("Missing flags");
    if (type == ArgType::List) {
        out->flags_in_list = true;
        r.skip();
        if (!r.at_end()) return fail("Unexpected argument after flag list");
        return true;
    }
    while (r.peek_type(&type)) {
        if (type != ArgType::Atom) return fail("Invalid flag");
        r.skip();
    }
    return true;
}

}  // namespace tinyimapd::imap
