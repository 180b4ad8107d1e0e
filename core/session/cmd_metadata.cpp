// GETMETADATA and SETMETADATA (RFC 5464): annotations on mailboxes and on
// the server, kept in the store's metadata files (core/store/metadata.h).
//
// Where entries live: a mailbox's in its m.meta (its /private ones under
// the user's name as owner); the server's /private ones in the user's
// user.meta, its /shared ones in mail_dir's server.meta. Two entries are
// computed, not stored: the server's /shared/admin (the configuration's
// metadata_admin, read-only, §3.2.1.1) and a mailbox's /private/specialuse
// (RFC 6154 §3: its special-use attributes, from m.use; read-only here as
// in Dovecot: CREATE's USE sets them). GETMETADATA answers one
// "* METADATA" line per entry (§4.4.1 allows that) as a job, a line only
// when the output has room for it whole; SETMETADATA's changes to one file
// are one rename, and a limit is checked for every file before any is
// written (§4.3: a NO changes nothing). Unsolicited METADATA responses
// (§4.4.2) go only to sessions that asked NOTIFY for MailboxMetadataChange
// or ServerMetadataChange (RFC 5465 §5.6, §5.7; cmd_notify_shared.cpp):
// ENABLE METADATA is not offered (§4.1).
#include "core/base/text.h"
#include "core/imap/encoder.h"
#include "core/mail/mailbox_name.h"
#include "core/mail/metadata_name.h"
#include "core/session/session.h"
#include "core/store/format.h"
#include "core/store/metadata.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

namespace {

// Where a GETMETADATA's entries come from, in this order.
enum MetaSource : std::uint8_t { kComputed, kOwnFile, kServerFile, kSourcesDone };

// "* METADATA " mailbox " (" entry SP value ")" CRLF, every string at its
// longest as a literal.
constexpr std::size_t kMetaLine = 96 + kWireName + mail::kMaxEntryName + mail::kMaxMetadataValue;
// The line goes out whole: it must fit the smallest output buffer
// (core/server/config.h kMinOutputBuffer) with the reserve behind it.
static_assert(kMetaLine + kResponseReserve <= 8192);

// A metadata file that does not read back (store::MetaReader: Invalid).
constexpr std::string_view kCorruptText = "The annotations are damaged (see tinyimapd check)";

bool wanted(const imap::MetadataSpec& spec, std::string_view name) {
    ArgReader items = spec.items;
    for (std::size_t i = 0; i < spec.count; ++i) {
        std::string_view asked;
        if (!items.astring(&asked)) return false;
        if (mail::entry_matches(name, asked, spec.depth)) return true;
    }
    return false;
}

bool has_nul(std::string_view s) {
    return s.find('\0') != std::string_view::npos;
}

// The mailbox's /private/specialuse value (RFC 6154 §3): its attributes,
// space-separated.
void special_use_text(std::uint8_t uses, TextWriter& out) {
    for (std::uint8_t bit = 1; bit != 0; bit = static_cast<std::uint8_t>(bit << 1)) {
        if ((uses & bit) == 0) continue;
        if (out.size() > 0) out.put(' ');
        out.put(mail::special_use_name(bit));
    }
}

}  // namespace

// The one lookup of a mailbox for GETMETADATA and SETMETADATA: Ok and its
// directory when the user may read (`write` false) or change its
// annotations; NotFound when there is no such mailbox or the user may not
// see it (RFC 5464 §3.3: only mailboxes LIST shows; a \Noselect one has
// no annotations here). With ACL (RFC 4314), the rights are checked here:
// RFC 5464 §3.3, any access, private or shared, read or set: "l" and any
// one of "r", "s", "w", "i", "p"; setting /shared entries, seen by every
// user of the mailbox, also "w" (as Cyrus).
Status Session::metadata_target(std::string_view name, bool write, store::Path* dir) {
    if (services_.registry == nullptr || user_root_.empty()) return Status::Unsupported;
    // Another user's mailbox without l or r does not exist (RFC 4314 §6);
    // one without the rights is Permission (NO [NOPERM]).
    constexpr store::Rights kAnyAccess = store::kRightRead | store::kRightSeen |
                                         store::kRightWrite | store::kRightInsert |
                                         store::kRightPost;
    MailboxRef ref;
    Status st = check_access(name, kAnyAccess, &ref);
    if (st == Status::Ok && (ref.rights & store::kRightLookup) == 0) st = Status::Permission;
    if (st == Status::Ok && write && (ref.rights & store::kRightWrite) == 0) {
        st = Status::Permission;
    }
    if (st == Status::Permission) return st;
    if (st != Status::Ok) return Status::NotFound;
    store::UserStore store(*services_.registry, ref.root.view());
    st = store.mailbox_dir(ref.name, dir);
    if (st != Status::Ok) return Status::NotFound;
    FixedText<port::kMaxPath + 16> data;
    data.put(dir->view()).put('/').put(store::kDataFile);
    port::FileInfo info;
    st = services_.registry->services().fs.stat(data.view(), &info);
    if (!data.ok() || st != Status::Ok || info.type != port::FileType::Regular)
        return Status::NotFound;
    return Status::Ok;
}

// One "* METADATA" line; false when the output lacks room for it now.
bool Session::metadata_line(std::string_view name, std::string_view value) {
    const MetadataJob& job = job_.get<MetadataJob>();
    FixedText<kMetaLine> line;
    ResponseWriter r(line);
    FixedText<kWireName> wire;
    r.star().atom("METADATA").mailbox(wire_name(job.mailbox, wire)).open_list().astring(name);
    if (has_nul(value)) {  // RFC 5464 §5: value = nstring / literal8
        r.sp();
        line.put("~{").put_uint(value.size()).put("}\r\n").put(value);
        r.element_written();
    } else {
        r.string(value);
    }
    r.close_list().crlf();
    if (!r.ok()) return true;  // cannot happen (kMetaLine); the entry is left out
    if (out_.room() < line.size() + kResponseReserve) return false;
    (void)r.append_to(out_);
    return true;
}

void Session::cmd_getmetadata(const ParsedCommand& cmd) {
    if (!cmd.mailbox.empty()) {
        store::Path dir;
        const Status st = metadata_target(cmd.mailbox, false, &dir);
        if (st == Status::NotFound) {
            tagged("NO", "NONEXISTENT", "No such mailbox");
            return;
        }
        if (st != Status::Ok) {
            answer_access(st);  // Permission: NO [NOPERM] (RFC 5530)
            return;
        }
    } else if (services_.registry == nullptr || user_root_.empty()) {
        answer_store(Status::Unsupported, "");
        return;
    }
    MetadataJob& job =
        job_.start<MetadataJob>(JobKind::Metadata, services_.registry->services().fs, cmd.metadata);
    job.mailbox = cmd.mailbox;
    run_metadata_job();
}

void Session::run_metadata_job() {
    MetadataJob& job = job_.get<MetadataJob>();
    const std::uint32_t limit =
        job.spec.maxsize < mail::kMaxMetadataValue ? job.spec.maxsize : mail::kMaxMetadataValue;
    Status st = Status::Ok;
    while (st == Status::Ok && job.source != kSourcesDone) {
        if (job.source == kComputed) {
            FixedText<128> value;
            std::string_view name;
            if (job.mailbox.empty()) {
                name = "/shared/admin";  // RFC 5464 §3.2.1.1
                value.put(ascii::head(config_.metadata.admin, 127));
            } else {
                name = "/private/specialuse";  // RFC 6154 §3
                store::UserStore store(*services_.registry, user_root_.view());
                special_use_text(store.special_use(job.mailbox), value);
            }
            if (value.size() > 0 && wanted(job.spec, name)) {
                if (value.size() > limit) {
                    job.too_long = true;
                    if (value.size() > job.longest) job.longest = value.size();
                } else if (!metadata_line(name, value.view())) {
                    return;  // again when the output drained
                }
            }
            job.source = kOwnFile;
            continue;
        }
        st = metadata_file_step(job, limit);
        if (st == Status::WouldBlock) return;
        if (st == Status::Ok) {
            job.source = job.source == kOwnFile && job.mailbox.empty() ? kServerFile : kSourcesDone;
        }
    }
    const bool too_long = job.too_long;
    const std::uint64_t longest = job.longest;
    job_.end();
    if (st == Status::Invalid) {
        tagged("NO", "CORRUPTION", kCorruptText);  // RFC 5530 §3
        return;
    }
    if (st != Status::Ok) {
        answer_store(st, "");
        return;
    }
    FixedText<64> code;
    if (too_long) code.put("METADATA LONGENTRIES ").put_uint(longest);  // RFC 5464 §4.2.1
    tagged("OK", code.view(), "GETMETADATA completed");
}

// The entries of the job's file (the mailbox's m.meta, or the server's
// user.meta then server.meta) from job.offset on: Ok at its end (or when
// there is none), WouldBlock when the output is full, or why it failed.
Status Session::metadata_file_step(MetadataJob& job, std::uint32_t limit) {
    port::Fs& fs = *job.fs;
    if (job.file == port::kNoFile) {
        FixedText<port::kMaxPath + 16> path;
        if (!job.mailbox.empty()) {
            store::Path dir;
            if (metadata_target(job.mailbox, false, &dir) != Status::Ok) return Status::NotFound;
            path.put(dir.view()).put('/').put(store::kMetaFile);
        } else if (job.source == kOwnFile) {
            path.put(user_root_.view()).put('/').put(store::kUserMetaFile);
        } else {
            path.put(services_.mail_dir).put('/').put(store::kServerMetaFile);
        }
        if (!path.ok()) return Status::TooLong;
        auto f = fs.open(path.view(), port::kOpenRead | port::kOpenNoFollow);
        if (f.status == Status::NotFound) return Status::Ok;
        if (!f.ok()) return f.status;
        job.file = f.value;
        job.offset = store::kMetaHeaderSize;
    }
    store::MetaReader reader(fs, job.file);
    Status st = reader.start();
    reader.seek(job.offset);
    char value[mail::kMaxMetadataValue];
    store::MetaRecord rec;
    while (st == Status::Ok && (st = reader.next(&rec)) == Status::Ok) {
        if ((rec.owner.empty() || rec.owner == user()) && wanted(job.spec, rec.name)) {
            if (rec.value_size > limit) {
                job.too_long = true;
                if (rec.value_size > job.longest) job.longest = rec.value_size;
            } else if ((st = reader.value(rec, value)) != Status::Ok) {
                break;
            } else if (!metadata_line(rec.name, {value, rec.value_size})) {
                return Status::WouldBlock;
            }
        }
        job.offset = reader.position();
    }
    (void)fs.close(job.file);
    job.file = port::kNoFile;
    return st == Status::Eof ? Status::Ok : st;
}

namespace {

// The changes of one file (the server's two files get theirs apart).
struct MetaBatch {
    store::MetaChange changes[imap::kMaxMetadataItems];
    std::size_t count = 0;
};

Status write_batch(port::Fs& fs, std::string_view dir, std::string_view file, std::string_view tmp,
                   const MetaBatch& b, const store::MetaLimits& limits) {
    if (b.count == 0) return Status::Ok;
    char buf[1024];
    return store::meta_update(fs, dir, file, tmp, b.changes, b.count, limits, buf, sizeof buf);
}

Status fits_batch(port::Fs& fs, std::string_view dir, std::string_view file, const MetaBatch& b,
                  const store::MetaLimits& limits) {
    if (b.count == 0) return Status::Ok;
    FixedText<port::kMaxPath + 16> path;
    path.put(dir).put('/').put(file);
    if (!path.ok()) return Status::TooLong;
    return store::meta_fits(fs, path.view(), b.changes, b.count, limits);
}

}  // namespace

// RFC 5464 §4.3. Every entry is checked before anything is written: the
// read-only ones (NO), the size (NO [METADATA MAXSIZE n]), the limits of
// each file (NO [METADATA TOOMANY]).
void Session::cmd_setmetadata(const ParsedCommand& cmd) {
    const bool server = cmd.mailbox.empty();
    MetaBatch own, shared_server;  // a mailbox's all go to `own`
    bool shared = false;
    ArgReader items = cmd.metadata.items;
    for (std::size_t i = 0; i < cmd.metadata.count; ++i) {
        store::MetaChange c;
        (void)items.astring(&c.name);
        (void)items.nstring(&c.value, &c.remove);
        const char* why = "";
        mail::EntryScope scope = mail::EntryScope::Shared;
        (void)mail::is_valid_entry_name(c.name, true, &why, &scope);
        if (server && ascii::iequals(c.name, "/shared/admin")) {
            tagged("NO", "NOPERM", "/shared/admin is read-only (RFC 5464 3.2.1.1)");
            return;
        }
        if (!server && ascii::iequals(c.name, "/private/specialuse")) {
            tagged("NO", "CANNOT", "/private/specialuse is set by CREATE with USE (RFC 6154)");
            return;
        }
        if (!c.remove && c.value.size() > config_.metadata.max_size) {
            FixedText<48> code;
            code.put("METADATA MAXSIZE ").put_uint(config_.metadata.max_size);
            tagged("NO", code.view(), "Value too large");
            return;
        }
        c.owner = scope == mail::EntryScope::Private ? user() : std::string_view();
        shared = shared || scope == mail::EntryScope::Shared;
        MetaBatch& b = server && scope == mail::EntryScope::Shared ? shared_server : own;
        b.changes[b.count++] = c;
    }
    const store::MetaLimits limits{config_.metadata.max_entries, config_.metadata.max_bytes};
    if (services_.registry == nullptr || user_root_.empty()) {
        answer_store(Status::Unsupported, "");
        return;
    }
    port::Fs& fs = services_.registry->services().fs;
    Status st = Status::Ok;
    if (!server) {
        store::Path dir;
        st = metadata_target(cmd.mailbox, shared, &dir);
        if (st == Status::NotFound) {
            tagged("NO", "NONEXISTENT", "No such mailbox");
            return;
        }
        if (st == Status::Permission) return answer_access(st);  // RFC 4314, RFC 5530
        if (st == Status::Ok)
            st = write_batch(fs, dir.view(), store::kMetaFile, store::kMetaNew, own, limits);
    } else {
        st = fits_batch(fs, user_root_.view(), store::kUserMetaFile, own, limits);
        if (st == Status::Ok)
            st = fits_batch(fs, services_.mail_dir, store::kServerMetaFile, shared_server, limits);
        if (st == Status::Ok)
            st = write_batch(fs, user_root_.view(), store::kUserMetaFile, store::kUserMetaNew, own,
                             limits);
        if (st == Status::Ok)
            st = write_batch(fs, services_.mail_dir, store::kServerMetaFile, store::kServerMetaNew,
                             shared_server, limits);
    }
    if (st == Status::Exhausted) {
        tagged("NO", "METADATA TOOMANY", "Too many annotations");  // RFC 5464 §4.3
        return;
    }
    if (st == Status::Invalid) {
        tagged("NO", "CORRUPTION", kCorruptText);  // RFC 5530 §3
        return;
    }
    if (st == Status::Ok) notify_post_metadata(cmd);  // RFC 5465 §5.6, §5.7
    answer_store(st, "SETMETADATA completed");
}

}  // namespace tinyimapd::session
