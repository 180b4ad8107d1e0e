// FETCH BINARY[section], BINARY.PEEK and BINARY.SIZE (RFC 3516): where a
// section's bytes lie, its content-transfer-encoding undone as the literal
// streams (core/mime/transfer_decode.h). BINARY decodes its section once to
// learn its size (and whether it holds a NUL) before the literal starts, in
// pieces of kMeasureBudget decoded bytes per call of the job (the job goes
// on at the next call: a turn of the loop answers other clients between),
// then again while streaming.
#include "core/base/text.h"
#include "core/imap/section.h"
#include "core/mime/header.h"
#include "core/mime/part.h"
#include "core/mime/transfer_decode.h"
#include "core/session/session.h"

namespace tinyimapd::session {

namespace {
// Decoded bytes measure_binary produces per call (as kStructureBudget).
constexpr std::uint64_t kMeasureBudget = 256 * 1024;
}  // namespace

// ---- BINARY (RFC 3516) -----------------------------------------------------

// Where BINARY[section]'s bytes lie and how they are encoded. A part's
// encoding comes from its MIME header (RFC 2045 §6.1; absent: 7bit). BINARY[]
// is the whole message: its header as is, then its body decoded (identity
// for a multipart, RFC 2045 §6.4). A message/rfc822 part is its
// encapsulated message as it is (its encoding can only be an identity one,
// RFC 2046 §5.2.1): RFC 3516 does not restrict BINARY to leaves and
// Dovecot answers it so, while RFC 9051 §6.4.5's "leaf body parts" note is
// kept for multipart parts, which are refused. Parts of a
// multipart/digest without a Content-Type are taken as text/plain leaves
// here (the digest default, message/rfc822, is not looked up).
Session::BinaryLookup Session::find_binary(const FetchItem& item, BinaryRange* out) {
    FetchJob& job = fetch_job();
    mime_source_.box = selected_;
    mime_source_.message = &job.message;
    char* scratch = services_.stream_scratch;
    const std::size_t cap = services_.stream_scratch_size;
    mime::HeaderBlock header;
    mime::PartInfo info;
    const SectionRange range = section_job_.range;
    const bool top = item.section.part_count == 0;
    if (top) {
        mime::load_header(mime_source_, 0, job.message.size, scratch, cap, &header);
    } else if (section_job_.found) {
        mime::load_header(mime_source_, range.offset, range.offset + range.length, scratch, cap,
                          &header);
    } else {
        return BinaryLookup::Missing;
    }
    mime::classify_part(header, item.section.part_count, false, &info);
    if (!top && info.kind == mime::PartKind::Multipart) return BinaryLookup::NotLeaf;
    out->encoding = mime::TransferEncoding::Identity;
    std::string_view cte;
    if (info.kind == mime::PartKind::Leaf &&
        mime::find_field(header.fields, "Content-Transfer-Encoding", &cte)) {
        out->encoding = mime::transfer_encoding(cte);
        if (out->encoding == mime::TransferEncoding::Unknown) return BinaryLookup::UnknownCte;
    }
    if (top) {
        out->begin = 0;
        out->end = job.message.size;
        out->raw = header.body_start;
        return BinaryLookup::Found;
    }
    out->begin = range.offset + range.length;  // after the MIME header: the body
    out->end = section_job_.part_end;
    out->raw = 0;
    return BinaryLookup::Found;
}

void Session::BinarySource::start(const BinaryRange& r) {
    range = r;
    rewind();
}

void Session::BinarySource::rewind() {
    decoder.reset(range.encoding);
    in_pos = range.begin;
    win_base = range.begin;
    win_len = 0;
    win_off = 0;
    produced = 0;
    ended = false;
    failed = false;
}

// The next decoded bytes, in order; 0 at the end (or on a read error: failed).
std::size_t Session::BinarySource::next(char* out, std::size_t capacity) {
    std::size_t n = 0;
    while (n < capacity && !ended) {
        if (win_off == win_len) {
            if (in_pos >= range.end) {
                // RFC 2045 §6.7/§6.8: what the encoding's tail decides.
                while (decoder.held() && n < capacity) {
                    const std::size_t f = decoder.finish(out + n, capacity - n);
                    n += f;
                    if (f == 0) break;
                }
                if (!decoder.held()) ended = true;
                break;
            }
            std::size_t want = window_size;
            if (want > range.end - in_pos) want = static_cast<std::size_t>(range.end - in_pos);
            std::size_t got = 0;
            if (box->read(*message, in_pos, window, want, &got) != Status::Ok || got == 0) {
                failed = true;
                ended = true;
                break;
            }
            win_base = in_pos;
            win_len = got;
            win_off = 0;
            in_pos += got;
        }
        const std::uint64_t pos = win_base + win_off;
        if (pos < range.begin + range.raw) {
            // BINARY[]: the header goes as it is.
            std::size_t k = win_len - win_off;
            if (k > range.begin + range.raw - pos) {
                k = static_cast<std::size_t>(range.begin + range.raw - pos);
            }
            if (k > capacity - n) k = capacity - n;
            for (std::size_t i = 0; i < k; ++i) out[n + i] = window[win_off + i];
            win_off += k;
            n += k;
            continue;
        }
        const mime::DecodeStep step =
            decoder.decode(window + win_off, win_len - win_off, out + n, capacity - n);
        win_off += step.consumed;
        n += step.produced;
        if (step.consumed == 0 && step.produced == 0) break;
    }
    produced += n;
    return n;
}

std::size_t Session::BinarySource::read(std::uint64_t offset, char* out, std::size_t capacity) {
    const std::uint64_t target = skip + offset;
    if (target < produced) rewind();
    while (produced < target) {
        // Decoded bytes before a partial's offset: into `out`, then dropped.
        std::size_t want = capacity;
        if (want > target - produced) want = static_cast<std::size_t>(target - produced);
        if (next(out, want) == 0) return 0;
    }
    return next(out, capacity);
}

// Decodes the whole range once: its decoded size, and whether the decoded
// bytes [from, from + count) hold a NUL (RFC 3516 §4.3: then literal8). At
// most about kMeasureBudget bytes per call: false while not done (call
// again; the source keeps where it is).
bool Session::measure_binary(std::uint64_t from, std::uint64_t count) {
    BinarySource& b = binary_source_;
    if (!b.measuring) {
        b.rewind();
        b.nul = false;
        b.measuring = true;
    }
    char* buf = services_.stream_scratch;
    for (std::uint64_t spent = 0; spent < kMeasureBudget;) {
        const std::uint64_t at = b.produced;
        const std::size_t got = b.next(buf, services_.stream_scratch_size);
        if (got == 0) {
            b.measuring = false;
            b.decoded_size = b.produced;
            const bool failed = b.failed;
            b.rewind();
            b.failed = failed;
            return true;
        }
        for (std::size_t i = 0; i < got && !b.nul; ++i) {
            if (buf[i] == '\0' && at + i >= from && at + i - from < count) b.nul = true;
        }
        spent += got;
    }
    return false;
}

// BINARY[section]<partial> as a literal (literal8 when the bytes hold a NUL),
// NIL for a section the message does not have; BINARY.SIZE[section] as the
// number of decoded bytes (RFC 3516 §4.2, §4.3). Both decode the section
// once to know the size before the first byte is sent.
void Session::write_binary(const FetchItem& item, FixedText<512>& w) {
    const bool first = w.view().empty();  // no separator before it
    FetchJob& job = fetch_job();
    write_item_name(item, w);
    w.put(' ');
    BinaryRange range;
    if (find_binary(item, &range) != BinaryLookup::Found) {
        w.put(item.kind == FetchKind::BinarySize ? "0" : "NIL");
        out_.append(w.view());
        ++job.item;
        return;
    }
    if (!binary_source_.measuring) {
        binary_source_.box = selected_;
        binary_source_.message = &job.message;
        binary_source_.window = fields_window_;
        binary_source_.window_size = sizeof fields_window_;
        binary_source_.skip = 0;
        binary_source_.start(range);
    }
    const std::uint64_t from = item.has_partial ? item.partial_offset : 0;
    const std::uint64_t want = item.has_partial ? item.partial_count : UINT64_MAX;
    if (!measure_binary(from, want)) {
        job.first_item = first;  // nothing written: the item starts again
        return;
    }
    const std::uint64_t size = binary_source_.decoded_size;
    const bool nul = binary_source_.nul;
    if (binary_source_.failed) {
        job_.end();
        state_ = SessionState::Logout;
        out_.clear();
        log_line(port::LogLevel::Error,
                 "message read failed during FETCH BINARY, user=", {user_, user_length_});
        return;
    }
    if (item.kind == FetchKind::BinarySize) {
        w.put_uint(size);
        out_.append(w.view());
        ++job.item;
        return;
    }
    // RFC 3501 §6.4.5 partial semantics, on the decoded bytes.
    const std::uint64_t off = from < size ? from : size;
    const std::uint64_t count = want < size - off ? want : size - off;
    if (nul) w.put('~');
    out_.append(w.view());
    binary_source_.skip = off;
    stream_item(binary_source_, count);
}

}  // namespace tinyimapd::session
