#include "core/imap/bodystructure.h"

#include "core/base/assert.h"
#include "core/base/text.h"
#include "core/imap/envelope.h"
#include "core/mime/header.h"
#include "core/mime/params.h"
#include "core/mime/part.h"

namespace tinyimapd::imap {
namespace {

// One parameter whose value RFC 2231 continued: its sections joined under
// one name at section 0 ("base", or "base*" when encoded), nothing at the
// others (RFC 9051 §7.5.2: "concatenate, and return the resulting value as
// a parameter"). False: not a continuation, write it as it is.
bool write_joined(std::string_view params, std::string_view name, imap::ResponseWriter& out) {
    const mime::Rfc2231Name n = mime::split_rfc2231_name(name);
    if (n.section < 0) return false;
    if (n.section > 0) return true;
    char value[mime::kMaxParamValue];
    std::size_t length = 0;
    bool encoded = false;
    mime::join_rfc2231(params, n.base, value, sizeof value, &length, &encoded);
    FixedText<256> joined_name;
    joined_name.put(n.base).put(encoded ? "*" : "");
    out.string(joined_name.ok() ? joined_name.view() : name).string({value, length});
    return true;
}

// At most this many continued values are joined per parameter list (each
// join walks the list a few times: a header of thousands of "a*0=" must
// not cost thousands of walks); a list with more is written as it is.
constexpr std::size_t kMaxJoinedParams = 4;

bool joinable(std::string_view params) {
    mime::ParamIterator it(params);
    std::string_view name, value;
    std::size_t count = 0;
    while (it.next(&name, &value)) {
        if (mime::split_rfc2231_name(name).section == 0 && ++count > kMaxJoinedParams) {
            return false;
        }
    }
    return true;
}

// body-fld-param: NIL or "(" name value ... ")"; with `add_charset`, a
// missing charset becomes ("CHARSET" "US-ASCII"); with `rfc2231`,
// continued values are joined (write_joined) and a section without its
// section 0 (no value, RFC 2231 §3) is left out.
void write_params(std::string_view params, bool add_charset, bool rfc2231,
                  imap::ResponseWriter& out) {
    if (rfc2231) rfc2231 = joinable(params);
    mime::ParamIterator it(params);
    std::string_view name, value;
    bool any = false;
    bool charset = false;
    while (it.next(&name, &value)) {
        if (rfc2231 && mime::split_rfc2231_name(name).section > 0) continue;
        if (!any) out.open_list();
        any = true;
        if (ascii::iequals(name, "charset")) charset = true;
        if (rfc2231 && write_joined(params, name, out)) continue;
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
    bool found = mime::find_field(fields, name, &value);
    out.nstring(value, !found);
}

// Content-Type split into type, subtype and parameter text (views into
// `buf` and the header).
bool content_type(std::string_view fields, char* buf, std::size_t cap, std::string_view* type,
                  std::string_view* subtype, std::string_view* params) {
    std::string_view ct;
    if (!mime::find_field(fields, "Content-Type", &ct)) return false;
    std::string_view value;
    mime::parse_mime_value(ct, buf, cap, &value, params);
    return mime::split_media_type(value, type, subtype);
}

// body-fld-dsp, body-fld-lang, body-fld-loc (RFC 3501 §9).
void write_dsp_lang_loc(std::string_view fields, bool rfc2231, imap::ResponseWriter& out) {
    std::string_view dsp;
    char buf[128];
    if (mime::find_field(fields, "Content-Disposition", &dsp)) {
        std::string_view value, params;
        mime::parse_mime_value(dsp, buf, sizeof buf, &value, &params);
        if (value.empty()) {
            out.nil();
        } else {
            out.open_list().string(value);
            write_params(params, false, rfc2231, out);
            out.close_list();
        }
    } else {
        out.nil();
    }
    std::string_view lang;
    if (mime::find_field(fields, "Content-Language", &lang)) {
        mime::TokenListIterator count_it(lang);
        std::string_view tok;
        std::size_t n = 0;
        while (count_it.next(&tok)) ++n;
        mime::TokenListIterator it(lang);
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

// "(" type subtype params id description encoding octets of a leaf.
[[gnu::noinline]] void write_leaf_fields(const mime::HeaderBlock& h, const mime::PartInfo& info,
                                         bool rfc2231, imap::ResponseWriter& out) {
    char buf[256];
    std::string_view type, subtype, params;
    bool add_charset = info.is_text;
    switch (info.override_type) {
        case mime::TypeOverride::None:
            if (!content_type(h.fields, buf, sizeof buf, &type, &subtype, &params)) {
                type = "TEXT";
                subtype = "PLAIN";
            }
            break;
        case mime::TypeOverride::TextPlain:
            type = "TEXT";
            subtype = "PLAIN";
            add_charset = true;
            break;
        case mime::TypeOverride::MessageRfc822:
            type = "MESSAGE";
            subtype = "RFC822";
            break;
        case mime::TypeOverride::OctetStream:
            type = "APPLICATION";
            subtype = "OCTET-STREAM";
            break;
    }
    out.open_list().string(type).string(subtype);
    write_params(params, add_charset, rfc2231, out);
    write_nstring_field(h.fields, "Content-ID", out);
    write_nstring_field(h.fields, "Content-Description", out);
    std::string_view enc;
    char enc_buf[64];
    if (mime::find_field(h.fields, "Content-Transfer-Encoding", &enc)) {
        std::string_view rest;
        mime::parse_mime_value(enc, enc_buf, sizeof enc_buf, &enc, &rest);
    }
    out.string(enc.empty() ? std::string_view("7BIT") : enc);
    out.number(h.end - h.body_start);
}

// " " subtype [params dsp lang loc] ")" closing a multipart.
[[gnu::noinline]] void write_multipart_tail(const mime::HeaderBlock& h, bool extensible,
                                            bool rfc2231, imap::ResponseWriter& out) {
    char buf[256];
    std::string_view type, subtype, params;
    if (!content_type(h.fields, buf, sizeof buf, &type, &subtype, &params)) {
        subtype = "MIXED";  // unreachable for a Multipart, kept total
    }
    out.sp().string(subtype);
    if (extensible) {
        write_params(params, false, rfc2231, out);
        write_dsp_lang_loc(h.fields, rfc2231, out);
    }
    out.close_list();
}

// " " md5 dsp lang loc (body-ext-1part) when `h` is given, and ")" closing
// a leaf.
[[gnu::noinline]] void write_leaf_tail(const mime::HeaderBlock* h, bool rfc2231,
                                       imap::ResponseWriter& out) {
    if (h != nullptr) {
        out.sp();
        write_nstring_field(h->fields, "Content-MD5", out);
        write_dsp_lang_loc(h->fields, rfc2231, out);
    }
    out.close_list();
}

}  // namespace

void StructureWriter::start(StructureItem item, std::uint64_t delivered, bool join_rfc2231,
                            bool downgrade) {
    item_ = item;
    rfc2231_ = join_rfc2231;
    downgrade_ = downgrade;
    top_ = 0;
    has_pending_ = false;
    root_opened_ = false;
    done_ = false;
    produced_ = 0;
    delivered_ = delivered;
    parts_ = 0;
    boundary_.forget();
}

// Renders one piece through `render(ResponseWriter&)` at the end of `out`,
// dropping the bytes of it already delivered; true when all of it is out.
template <class Render>
bool StructureWriter::emit(TextWriter& out, Render render) {
    const std::uint64_t skip = delivered_ - produced_;
    out.resume_after(static_cast<std::size_t>(skip));
    const std::size_t before = out.size();
    imap::ResponseWriter w(out);
    w.downgrade(downgrade_);
    render(w);
    const std::size_t wrote = out.size() - before;
    const std::size_t skipped = static_cast<std::size_t>(skip) - out.skip_left();
    out.resume_after(0);
    delivered_ += wrote;
    if (!out.ok()) return false;
    produced_ += wrote + skipped;
    return true;
}

StructureWriter::Progress StructureWriter::step(ByteSource& r, char* scratch,
                                                std::size_t scratch_size, TextWriter& out,
                                                std::uint64_t budget) {
    if (scratch_size < mime::kMinScratch) return Progress::Done;
    CountingSource counted(r);
    for (std::size_t actions = 0; !done_; ++actions) {
        if (actions >= kMaxActions || counted.count >= budget) return Progress::Budget;
        if (!act(counted, scratch, scratch_size, out, budget - counted.count)) {
            return Progress::Full;
        }
    }
    return Progress::Done;
}

bool StructureWriter::open_part(ByteSource& r, char* scratch, std::size_t cap, TextWriter& out) {
    const Pending p = pending_;
    mime::HeaderBlock h;
    mime::load_header(r, p.start, p.end, scratch, cap, &h);
    mime::PartInfo info;
    mime::classify_part(h, p.depth, p.in_digest, &info);
    // This is part parts_ + 1; past the limit it can have no parts inside.
    if (info.kind != mime::PartKind::Leaf &&
        (parts_ + 1 >= mime::kMaxMimeParts || top_ + 1 >= kMaxFrames)) {
        info.kind = mime::PartKind::Leaf;
        info.override_type = mime::TypeOverride::OctetStream;
        info.is_text = false;
    }
    Frame f{};
    f.start = p.start;
    f.end = p.end;
    f.body_start = h.body_start;
    f.depth = p.depth;
    if (info.kind == mime::PartKind::Multipart) {
        if (!emit(out, [&](imap::ResponseWriter& w) {
                if (p.lead_sp) w.sp();
                w.open_list();
            })) {
            return false;
        }
        f.phase = Phase::Children;
        f.is_digest = info.is_digest;
        f.at.pos = f.at.scan = h.body_start;
        boundary_.hold(info, top_);
    } else {
        if (!emit(out, [&](imap::ResponseWriter& w) {
                if (p.lead_sp) w.sp();
                write_leaf_fields(h, info, rfc2231_, w);
            })) {
            return false;
        }
        f.phase = info.kind == mime::PartKind::Message ? Phase::Envelope
                  : info.is_text                       ? Phase::Lines
                                                       : Phase::Ext;
        f.at.pos = h.body_start;
        f.at.scan = 0;
    }
    // A part that could not fit a frame of its own was made a leaf above.
    TINYIMAPD_ASSERT(top_ < kMaxFrames);
    frames_[top_++] = f;
    ++parts_;
    has_pending_ = false;
    return true;
}

// One bounded action of the walk; false when the output is full.
bool StructureWriter::act(ByteSource& r, char* scratch, std::size_t cap, TextWriter& out,
                          std::uint64_t budget) {
    const bool extensible = item_ == StructureItem::BodyStructure;
    if (item_ == StructureItem::Envelope) {
        if (!emit(out, [&](imap::ResponseWriter& w) {
                (void)write_envelope_at(r, 0, r.size(), scratch, cap, w);
            })) {
            return false;
        }
        done_ = true;
        return true;
    }
    if (!root_opened_) {
        root_opened_ = true;
        pending_ = Pending{0, r.size(), 0, false, false};
        has_pending_ = true;
    }
    if (has_pending_) return open_part(r, scratch, cap, out);
    if (top_ == 0) {
        done_ = true;
        return true;
    }
    Frame& f = frames_[top_ - 1];
    switch (f.phase) {
        case Phase::Children: children_step(r, f, scratch, cap, budget); return true;
        case Phase::Tail: {
            mime::HeaderBlock h;
            mime::load_header(r, f.start, f.end, scratch, cap, &h);
            if (!emit(out, [&](imap::ResponseWriter& w) {
                    write_multipart_tail(h, extensible, rfc2231_, w);
                })) {
                return false;
            }
            --top_;
            return true;
        }
        case Phase::Envelope: return envelope_step(r, f, scratch, cap, out);
        case Phase::Lines: return lines_step(r, f, scratch, cap, out, budget);
        case Phase::Ext: {
            mime::HeaderBlock h;
            if (extensible) mime::load_header(r, f.start, f.end, scratch, cap, &h);
            if (!emit(out, [&](imap::ResponseWriter& w) {
                    write_leaf_tail(extensible ? &h : nullptr, rfc2231_, w);
                })) {
                return false;
            }
            --top_;
            return true;
        }
    }
    return true;
}

// The next child of multipart `f` becomes the pending part, or its
// children are done (its tail next). The boundary is read again when
// another frame's is held.
void StructureWriter::children_step(ByteSource& r, Frame& f, char* scratch, std::size_t cap,
                                    std::uint64_t budget) {
    mime::ChildCursor children(f.at, f.end,
                               boundary_.of(r, f.start, f.end, f.depth, top_ - 1, scratch, cap));
    if (parts_ + 1 >= mime::kMaxMimeParts) children.last_child();
    std::uint64_t cs = 0, ce = 0;
    const mime::ChildCursor::Step st = children.step(r, scratch, cap, budget, &cs, &ce);
    f.at = children.state();
    if (st == mime::ChildCursor::Step::Done) {
        f.phase = Phase::Tail;
    } else if (st == mime::ChildCursor::Step::Child) {
        pending_ = Pending{cs, ce, static_cast<std::uint8_t>(f.depth + 1), f.is_digest, false};
        has_pending_ = true;
    }
}

// body-type-msg: ... SP envelope SP body SP body-fld-lines (RFC 3501 §9):
// the encapsulated message's envelope, then its body as the pending part.
bool StructureWriter::envelope_step(ByteSource& r, Frame& f, char* scratch, std::size_t cap,
                                    TextWriter& out) {
    if (!emit(out, [&](imap::ResponseWriter& w) {
            w.sp();
            (void)write_envelope_at(r, f.body_start, f.end, scratch, cap, w);
        })) {
        return false;
    }
    f.phase = Phase::Lines;
    pending_ = Pending{f.body_start, f.end, static_cast<std::uint8_t>(f.depth + 1), false, true};
    has_pending_ = true;
    return true;
}

// body-fld-lines: counted a budget's worth of bytes at a time, then written.
bool StructureWriter::lines_step(ByteSource& r, Frame& f, char* scratch, std::size_t cap,
                                 TextWriter& out, std::uint64_t budget) {
    if (f.at.pos < f.end) {
        const std::uint64_t left = f.end - f.at.pos;
        const std::uint64_t n = left < budget ? left : budget;
        f.at.scan += mime::count_lines(r, f.at.pos, f.at.pos + n, scratch, cap);
        f.at.pos += n;
        return true;
    }
    const std::uint64_t lines = f.at.scan;
    if (!emit(out, [&](imap::ResponseWriter& w) { w.sp().number(lines); })) return false;
    f.phase = Phase::Ext;
    return true;
}

bool write_bodystructure(ByteSource& r, char* scratch, std::size_t scratch_size, bool extensible,
                         TextWriter& out, bool downgrade) {
    if (scratch_size < mime::kMinScratch) return false;
    StructureWriter w;
    w.start(extensible ? StructureItem::BodyStructure : StructureItem::Body, 0, false, downgrade);
    while (w.step(r, scratch, scratch_size, out, UINT64_MAX) == StructureWriter::Progress::Budget) {
    }
    return true;
}

}  // namespace tinyimapd::imap
