#include "core/imap/envelope.h"

#include "core/imap/address.h"
#include "core/mime/header.h"

namespace tinyimapd::imap {
namespace {

void write_text_field(std::string_view fields, std::string_view name, imap::ResponseWriter& out) {
    std::string_view value;
    bool found = mime::find_field(fields, name, &value);
    out.nstring(value, !found);
}

// An address field, or `fallback` when it is absent or empty.
void write_addresses(std::string_view fields, std::string_view name, std::string_view fallback,
                     char* work, std::size_t work_size, imap::ResponseWriter& out) {
    std::string_view value;
    bool found = mime::find_field(fields, name, &value);
    if (!found || (!fallback.empty() && !has_address(value))) {
        if (!fallback.empty()) {
            found = mime::find_field(fields, fallback, &value);
        }
    }
    if (!found) {
        out.nil();
        return;
    }
    write_address_list(value, work, work_size, out);
}

}  // namespace

bool write_envelope_at(ByteSource& r, std::uint64_t start, std::uint64_t end, char* scratch,
                       std::size_t scratch_size, imap::ResponseWriter& out) {
    if (scratch_size < mime::kMinScratch) return false;
    char* work = scratch + (scratch_size - mime::kAddressWork);
    mime::HeaderBlock h;
    mime::load_header(r, start, end, scratch, scratch_size - mime::kAddressWork, &h);
    std::string_view f = h.fields;
    out.open_list();
    write_text_field(f, "Date", out);
    write_text_field(f, "Subject", out);
    write_addresses(f, "From", {}, work, mime::kAddressWork, out);
    write_addresses(f, "Sender", "From", work, mime::kAddressWork, out);
    write_addresses(f, "Reply-To", "From", work, mime::kAddressWork, out);
    write_addresses(f, "To", {}, work, mime::kAddressWork, out);
    write_addresses(f, "Cc", {}, work, mime::kAddressWork, out);
    write_addresses(f, "Bcc", {}, work, mime::kAddressWork, out);
    write_text_field(f, "In-Reply-To", out);
    write_text_field(f, "Message-ID", out);
    out.close_list();
    return true;
}

bool write_envelope(ByteSource& r, char* scratch, std::size_t scratch_size,
                    imap::ResponseWriter& out) {
    return write_envelope_at(r, 0, r.size(), scratch, scratch_size, out);
}

}  // namespace tinyimapd::imap
