#include "core/mime/bodystructure.h"

#include "core/base/text.h"
#include "core/mime/envelope.h"
#include "core/mime/header.h"
#include "core/mime/params.h"
#include "core/mime/part.h"

namespace tinyimapd::mime {
namespace {

struct Walk {
    MessageReader& r;
    char* scratch;
    std::size_t cap;
    bool extensible;
};

// body-fld-param: NIL or "(" name value ... ")"; with `add_charset`, a
// missing charset becomes ("CHARSET" "US-ASCII").
void write_params(std::string_view params, bool add_charset, imap::ResponseWriter& out) {
    ParamIterator it(params);
    std::string_view name, value;
    bool any = false;
    bool charset = false;
    while (it.next(&name, &value)) {
        if (!any) out.open_list();
        any = true;
        if (ascii::iequals(name, "charset")) charset = true;
        out.string(name).string(value);
    }
    if (add_charset && !charset) {
        if (!any) out.open_list();
        any = true;
        out.string("CHARSET").string("US-ASCII");
    }
    if (any) {
        out.close_list();
    } else {
        out.nil();
    }
}

void write_nstring_field(std::string_view fields, std::string_view name,
                         imap::ResponseWriter& out) {
    std::string_view value;
    bool found = find_field(fields, name, &value);
    out.nstring(value, !found);
}

// Content-Type split into type, subtype and parameter text (views into
// `buf` and the header).
bool content_type(std::string_view fields, char* buf, std::size_t cap, std::string_view* type,
                  std::string_view* subtype, std::string_view* params) {
    std::string_view ct;
    if (!find_field(fields, "Content-Type", &ct)) return false;
    std::string_view value;
    parse_mime_value(ct, buf, cap, &value, params);
    return split_media_type(value, type, subtype);
}

// body-fld-dsp, body-fld-lang, body-fld-loc (RFC 3501 §9).
void write_dsp_lang_loc(std::string_view fields, imap::ResponseWriter& out) {
    std::string_view dsp;
    char buf[128];
    if (find_field(fields, "Content-Disposition", &dsp)) {
        std::string_view value, params;
        parse_mime_value(dsp, buf, sizeof buf, &value, &params);
        if (value.empty()) {
            out.nil();
        } else {
            out.open_list().string(value);
            write_params(params, false, out);
            out.close_list();
        }
    } else {
        out.nil();
    }
    std::string_view lang;
    if (find_field(fields, "Content-Language", &lang)) {
        TokenListIterator count_it(lang);
        std::string_view tok;
        std::size_t n = 0;
        while (count_it.next(&tok)) ++n;
        TokenListIterator it(lang);
        if (n == 0) {
            out.nil();
        } else if (n == 1) {
            it.next(&tok);
            out.string(tok);
        } else {
            out.open_list();
            while (it.next(&tok)) out.string(tok);
            out.close_list();
        }
    } else {
        out.nil();
    }
    write_nstring_field(fields, "Content-Location", out);
}

void write_part(Walk& w, std::uint64_t start, std::uint64_t end, std::size_t depth, bool in_digest,
                imap::ResponseWriter& out);

// What follows a multipart's bodies. Kept out of the recursive frames (as
// are write_leaf_fields and write_leaf_ext) so that a level of nesting costs
// little stack: the depth is bounded by kMaxMimeDepth, the frames are not.
[[gnu::noinline]] void write_multipart_tail(Walk& w, const HeaderBlock& h,
                                            imap::ResponseWriter& out) {
    // The children used the scratch buffer: read this header again.
    HeaderBlock again;
    load_header(w.r, h.start, h.end, w.scratch, w.cap, &again);
    char buf[256];
    std::string_view type, subtype, params;
    if (!content_type(again.fields, buf, sizeof buf, &type, &subtype, &params)) {
        subtype = "MIXED";  // unreachable for a Multipart, kept total
    }
    out.string(subtype);
    if (w.extensible) {
        write_params(params, false, out);
        write_dsp_lang_loc(again.fields, out);
    }
    out.close_list();
}

// "(" type subtype params id description encoding octets of a leaf.
[[gnu::noinline]] void write_leaf_fields(const HeaderBlock& h, const PartInfo& info,
                                         imap::ResponseWriter& out) {
    char buf[256];
    std::string_view type, subtype, params;
    bool add_charset = info.is_text;
    switch (info.override_type) {
        case TypeOverride::None:
            if (!content_type(h.fields, buf, sizeof buf, &type, &subtype, &params)) {
                type = "TEXT";
                subtype = "PLAIN";
            }
            break;
        case TypeOverride::TextPlain:
            type = "TEXT";
            subtype = "PLAIN";
            add_charset = true;
            break;
        case TypeOverride::MessageRfc822:
            type = "MESSAGE";
            subtype = "RFC822";
            break;
        case TypeOverride::OctetStream:
            type = "APPLICATION";
            subtype = "OCTET-STREAM";
            break;
    }
    out.open_list().string(type).string(subtype);
    write_params(params, add_charset, out);
    write_nstring_field(h.fields, "Content-ID", out);
    write_nstring_field(h.fields, "Content-Description", out);
    std::string_view enc;
    char enc_buf[64];
    if (find_field(h.fields, "Content-Transfer-Encoding", &enc)) {
        std::string_view rest;
        parse_mime_value(enc, enc_buf, sizeof enc_buf, &enc, &rest);
    }
    out.string(enc.empty() ? std::string_view("7BIT") : enc);
    out.number(h.end - h.body_start);
}

// body-ext-1part (md5 dsp lang loc); `reload` when the scratch was reused.
[[gnu::noinline]] void write_leaf_ext(Walk& w, const HeaderBlock& h, bool reload,
                                      imap::ResponseWriter& out) {
    HeaderBlock again;
    const HeaderBlock* hb = &h;
    if (reload) {
        load_header(w.r, h.start, h.end, w.scratch, w.cap, &again);
        hb = &again;
    }
    write_nstring_field(hb->fields, "Content-MD5", out);
    write_dsp_lang_loc(hb->fields, out);
}

void write_multipart(Walk& w, const HeaderBlock& h, const PartInfo& info, std::size_t depth,
                     imap::ResponseWriter& out) {
    out.open_list();
    // body-type-mpart = 1*body SP media-subtype (RFC 3501 §9): no SP between
    // the bodies. ResponseWriter separates every element, so each body after
    // the first is written through a copy taken right after '(' (a copy
    // writes into the same TextWriter; overflow stays visible through
    // out.ok(), and the elements used here never mark a writer invalid).
    const imap::ResponseWriter joined = out;
    ChildCursor children(h.body_start, h.end, info.boundary_view());
    std::uint64_t cs = 0, ce = 0;
    bool first = true;
    while (children.next(w.r, w.scratch, w.cap, &cs, &ce)) {
        if (first) {
            write_part(w, cs, ce, depth + 1, info.is_digest, out);
            first = false;
        } else {
            imap::ResponseWriter next = joined;
            write_part(w, cs, ce, depth + 1, info.is_digest, next);
        }
    }
    write_multipart_tail(w, h, out);
}

void write_leaf(Walk& w, const HeaderBlock& h, const PartInfo& info, std::size_t depth,
                imap::ResponseWriter& out) {
    write_leaf_fields(h, info, out);
    bool reload = false;
    if (info.kind == PartKind::Message) {
        // The envelope and body of the encapsulated message reuse the scratch.
        (void)write_envelope_at(w.r, h.body_start, h.end, w.scratch, w.cap, out);
        write_part(w, h.body_start, h.end, depth + 1, false, out);
        reload = true;
    }
    if (info.kind == PartKind::Message || info.is_text) {
        out.number(count_lines(w.r, h.body_start, h.end, w.scratch, w.cap));
        reload = true;
    }
    if (w.extensible) write_leaf_ext(w, h, reload, out);
    out.close_list();
}

void write_part(Walk& w, std::uint64_t start, std::uint64_t end, std::size_t depth, bool in_digest,
                imap::ResponseWriter& out) {
    HeaderBlock h;
    load_header(w.r, start, end, w.scratch, w.cap, &h);
    PartInfo info;
    classify_part(h, depth, in_digest, &info);
    if (info.kind == PartKind::Multipart) {
        write_multipart(w, h, info, depth, out);
    } else {
        write_leaf(w, h, info, depth, out);
    }
}

}  // namespace

bool write_bodystructure(MessageReader& r, char* scratch, std::size_t scratch_size, bool extensible,
                         imap::ResponseWriter& out) {
    if (scratch_size < kMinScratch) return false;
    Walk w{r, scratch, scratch_size, extensible};
    write_part(w, 0, r.size(), 0, false, out);
    return true;
}

}  // namespace tinyimapd::mime
