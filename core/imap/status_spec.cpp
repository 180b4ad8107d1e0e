#include "core/imap/status_spec.h"

#include "core/base/text.h"

namespace tinyimapd::imap {
namespace {

// Indexed by StatusItem.
constexpr std::string_view kNames[kStatusItemCount] = {
    "MESSAGES", "RECENT",    "UIDNEXT",     "UIDVALIDITY", "UNSEEN",          "HIGHESTMODSEQ",
    "SIZE",     "MAILBOXID", "APPENDLIMIT", "DELETED",     "DELETED-STORAGE",
};
static_assert(static_cast<std::size_t>(StatusItem::DeletedStorage) + 1 == kStatusItemCount);
static_assert(kStatusItemCount <= 16, "mask is 16 bits");

}  // namespace

bool parse_status_atts(ArgReader& list, StatusAtts* out, const char** why) {
    *out = StatusAtts{};
    auto fail = [&](const char* text, std::string_view at) {
        *why = text;
        out->error_at = at;
        return list.fail(text);
    };
    // RFC 3501 §9: status-att *(SP status-att), so at least one.
    if (list.at_end()) return fail("Missing status attributes", {});
    while (!list.at_end()) {
        std::string_view atom;
        if (!list.atom(&atom)) return fail("Invalid status attribute", list.peek_text());
        std::size_t i = 0;
        while (i < kStatusItemCount && !ascii::iequals(atom, kNames[i])) ++i;
        if (i == kStatusItemCount) return fail("Unknown status attribute", atom);
        const auto item = static_cast<StatusItem>(i);
        if (out->has(item)) continue;
        out->mask = static_cast<std::uint16_t>(out->mask | status_bit(item));
        out->order[out->count++] = item;
    }
    return true;
}

std::string_view status_item_name(StatusItem item) {
    const auto i = static_cast<std::size_t>(item);
    return i < kStatusItemCount ? kNames[i] : std::string_view();
}

}  // namespace tinyimapd::imap
