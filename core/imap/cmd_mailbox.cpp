// The mailbox commands of the authenticated and selected states, over the
// flat-file store (core/store): SELECT and EXAMINE (RFC 3501 §6.3.1-2),
// CREATE DELETE RENAME (§6.3.3-5), SUBSCRIBE UNSUBSCRIBE (§6.3.6-7), LIST
// LSUB (§6.3.8-9), STATUS (§6.3.10), APPEND streamed to storage (§6.3.11),
// CHECK CLOSE (§6.4.1-2), UNSELECT (RFC 3691), and the untagged EXISTS,
// RECENT, EXPUNGE and FETCH FLAGS that report changes (§7.3, §7.4, RFC 2180).
#include "core/base/text.h"
#include "core/imap/encoder.h"
#include "core/imap/session.h"
#include "core/imap/uid_ranges.h"
#include "core/store/user_store.h"

namespace tinyimapd::imap {

namespace {

constexpr std::size_t kLine = 1024;
// Room kept free while writing a listing: the tagged line must still fit.
constexpr std::size_t kListReserve = 512;
// UIDs taken per EXPUNGE round in CLOSE.
constexpr std::size_t kExpungeBatch = 64;
// A VANISHED line: UidRanges::kCapacity ranges of up to 21 bytes each.
constexpr std::size_t kVanishedLine = 32 + UidRanges::kCapacity * 22;

// RFC 3501 §7.1: the response code for a store error on a named mailbox.
void store_error(Status st, const char** code, const char** text) {
    switch (st) {
        case Status::NotFound:
            *code = "NONEXISTENT";
            *text = "No such mailbox";
            return;
        case Status::Exists:
            *code = "ALREADYEXISTS";
            *text = "Mailbox already exists";
            return;
        case Status::Busy:
            *code = "INUSE";
            *text = "Mailbox is busy, try again";
            return;
        case Status::Exhausted:
            *code = "LIMIT";
            *text = "Too many mailboxes open";
            return;
        case Status::NoSpace:
            *code = "OVERQUOTA";
            *text = "No space left on the device";
            return;
        case Status::NotEmpty:
            *code = "CANNOT";
            *text = "Mailbox has children";
            return;
        case Status::Permission:
            *code = "CANNOT";
            *text = "Not allowed on this mailbox";
            return;
        case Status::Invalid:
            *code = "CANNOT";
            *text = "Invalid mailbox name";
            return;
        case Status::TooLong:
            *code = "CANNOT";
            *text = "Mailbox name too long";
            return;
        default:
            *code = "SERVERBUG";
            *text = "Storage error";
            return;
    }
}

// A flag list "(\\Seen $Junk ...)"; `tail` ends it inside the parentheses
// (PERMANENTFLAGS' "\\*").
void write_flags(TextWriter& w, std::uint8_t flags, std::uint64_t keywords,
                 const store::Mailbox& box, std::string_view tail = {}) {
    struct Name {
        std::uint8_t bit;
        const char* text;
    };
    static constexpr Name kNames[] = {{kAnswered, "\\Answered"}, {kFlagged, "\\Flagged"},
                                      {kDeleted, "\\Deleted"},   {kSeen, "\\Seen"},
                                      {kDraft, "\\Draft"},       {kRecent, "\\Recent"}};
    w.put('(');
    bool first = true;
    auto item = [&](std::string_view text) {
        if (!first) w.put(' ');
        w.put(text);
        first = false;
    };
    for (const Name& n : kNames) {
        if ((flags & n.bit) != 0) item(n.text);
    }
    for (std::size_t i = 0; i < box.keyword_count(); ++i) {
        if ((keywords & (std::uint64_t{1} << i)) != 0) item(box.keyword_name(i));
    }
    if (!tail.empty()) item(tail);
    w.put(')');
}

}  // namespace

// ---- the user's store ----------------------------------------------------

bool Session::open_user_store() {
    user_root_.clear();
    FixedText<port::kMaxPath> root;
    root.put(services_.mail_dir).put('/').put({user_, user_length_});
    if (services_.registry == nullptr || !root.ok() || !user_root_.assign(root.view())) {
        return false;
    }
    // mail_dir itself may not exist yet on a fresh appliance.
    (void)services_.registry->services().fs.mkdir(services_.mail_dir);
    store::UserStore store(*services_.registry, user_root_.view());
    const Status st = store.ensure();
    if (st != Status::Ok) {
        log_line(port::LogLevel::Error,
                 "cannot open the mail store of user=", {user_, user_length_}, " at ",
                 user_root_.view());
        return false;
    }
    return true;
}

// ---- SELECT / EXAMINE / CLOSE / UNSELECT ------------------------------------

void Session::deselect() {
    if (selected_ == nullptr) return;
    selected_->detach(view_);
    store::UserStore(*services_.registry, user_root_.view()).close(selected_);
    selected_ = nullptr;
    state_ = SessionState::Authenticated;
}

void Session::cmd_select(const ParsedCommand& cmd, bool read_only) {
    // RFC 7162 §3.2.5: QRESYNC only after ENABLE QRESYNC, checked first.
    if (cmd.qresync && !qresync_) {
        tagged("BAD", "", "SELECT (QRESYNC ...) needs ENABLE QRESYNC first");
        return;
    }
    // RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected; RFC 7162
    // §3.2.11: [CLOSED] marks where the old mailbox's responses end.
    if (selected_ != nullptr) {
        deselect();
        untagged("OK [CLOSED] Previous mailbox closed");
    }
    if (cmd.condstore) enable_condstore();
    store::UserStore store(*services_.registry, user_root_.view());
    Result<store::Mailbox*> r = store.open(cmd.mailbox);
    if (!r.ok()) {
        answer_store(r.status, "");
        return;
    }
    selected_ = r.value;
    selected_->attach(view_, read_only);
    state_ = SessionState::Selected;

    FixedText<kLine> w;
    w.put("FLAGS ");
    write_flags(w, kAnswered | kFlagged | kDeleted | kSeen | kDraft, ~std::uint64_t{0}, *selected_);
    untagged(w.view());
    w.clear();
    // §7.1: PERMANENTFLAGS; "\\*" because new keywords can be created.
    if (read_only) {
        w.put("OK [PERMANENTFLAGS ()] No permanent flags in read-only mode");
    } else {
        w.put("OK [PERMANENTFLAGS ");
        write_flags(w, kAnswered | kFlagged | kDeleted | kSeen | kDraft, ~std::uint64_t{0},
                    *selected_, "\\*");
        w.put("] Flags permitted");
    }
    untagged(w.view());
    w.clear();
    w.put_uint(view_.exists).put(" EXISTS");
    untagged(w.view());
    w.clear();
    w.put_uint(selected_->recent_count(view_)).put(" RECENT");
    untagged(w.view());
    const std::uint32_t unseen = selected_->first_unseen(view_);
    if (unseen != 0) {
        w.clear();
        w.put("OK [UNSEEN ").put_uint(unseen).put("] First unseen message");
        untagged(w.view());
    }
    w.clear();
    w.put("OK [UIDVALIDITY ").put_uint(selected_->uid_validity()).put("] UIDs valid");
    untagged(w.view());
    w.clear();
    w.put("OK [UIDNEXT ").put_uint(selected_->uid_next()).put("] Predicted next UID");
    untagged(w.view());
    if (condstore_) {
        // RFC 7162 §3.1.2.1: every mailbox here keeps mod-sequences.
        w.clear();
        w.put("OK [HIGHESTMODSEQ ").put_uint(selected_->highest_modseq()).put("] Highest");
        untagged(w.view());
    }
    if (cmd.qresync && cmd.qresync_params.uidvalidity == selected_->uid_validity()) {
        resync(cmd.qresync_params);
    }
    tagged("OK", read_only ? "READ-ONLY" : "READ-WRITE",
           read_only ? "EXAMINE completed" : "SELECT completed");
}

// RFC 7162 §3.2.5.1: what changed since the client's mod-sequence, among
// the UIDs it knows (all below UIDNEXT when it gave none).
void Session::resync(const QresyncParams& p) {
    if (p.modseq >= selected_->highest_modseq()) return;  // nothing changed since
    const std::uint32_t max_uid = selected_->uid_next() - 1;
    if (p.known_uids.empty()) {
        FixedText<32> all;
        all.put("1:").put_uint(max_uid);
        SeqSet known;
        const char* why = "";
        if (max_uid == 0 || !SeqSet::parse(all.view(), 1, &known, &why)) return;
        write_vanished_earlier(known);
    } else {
        write_vanished_earlier(p.known_uids);
    }
    // Flag changes: "* n FETCH (UID u FLAGS (...) MODSEQ (m))" for each
    // known message with a higher mod-sequence.
    for (std::uint32_t seq = 1; seq <= view_.exists; ++seq) {
        store::MessageInfo m;
        if (selected_->message(view_, seq, &m) != Status::Ok) break;
        if (m.modseq <= p.modseq) continue;
        if (!p.known_uids.empty() && !p.known_uids.contains(m.uid, max_uid)) continue;
        FixedText<kLine> w;
        w.put("* ").put_uint(seq).put(" FETCH (UID ").put_uint(m.uid).put(" FLAGS ");
        write_flags(w, m.flags, m.keywords, *selected_);
        w.put(" MODSEQ (").put_uint(m.modseq).put("))\r\n");
        if (!out_.append(w.view())) {
            // The client's cache would be wrong: it must resynchronise anew.
            bye("Too many changes to report at once; please reconnect");
            return;
        }
    }
}

// RFC 7162 §3.2.10.1 and §3.2.6: "* VANISHED (EARLIER) set" of the UIDs of
// `uids` below UIDNEXT that are no longer in the mailbox. The store keeps no
// mod-sequences of expunged messages, so every such UID is reported (what
// §3.2.6 asks when the client's mod-sequence predates the server's memory).
void Session::write_vanished_earlier(const SeqSet& uids) {
    const std::uint32_t max_uid = selected_->uid_next() - 1;
    UidRanges gone;
    auto flush = [&] {
        if (gone.empty()) return;
        FixedText<kVanishedLine> w;
        w.put("* VANISHED (EARLIER) ");
        gone.write(w);
        w.put("\r\n");
        if (!out_.append(w.view())) bye("Too many changes to report at once; please reconnect");
        gone.clear();
    };
    // Walk the set's ranges against the view's UIDs (ascending) with a binary
    // search per range start.
    SeqSet::Cursor cursor;
    std::uint32_t lo = 0, hi = 0;
    while (uids.next(cursor, max_uid, &lo, &hi) && state_ != SessionState::Logout) {
        if (lo > max_uid) continue;
        if (hi > max_uid) hi = max_uid;
        std::uint32_t uid = lo;
        std::uint32_t seq = first_seq_at_or_above(lo);
        while (uid <= hi && state_ != SessionState::Logout) {
            store::MessageInfo m;
            const bool have = seq != 0 && selected_->message(view_, seq, &m) == Status::Ok;
            const std::uint32_t next_present = have ? m.uid : hi + 1;
            for (; uid < next_present && uid <= hi; ++uid) {
                if (!gone.add(uid)) {
                    flush();
                    (void)gone.add(uid);
                }
            }
            if (!have) break;
            ++uid;  // present: skip it
            seq = seq < view_.exists ? seq + 1 : 0;
        }
    }
    flush();
}

// The sequence number of the first message with UID >= uid, or 0.
std::uint32_t Session::first_seq_at_or_above(std::uint32_t uid) {
    std::uint32_t lo = 1, hi = view_.exists + 1;  // answer in [lo, hi]
    while (lo < hi) {
        const std::uint32_t mid = lo + (hi - lo) / 2;
        store::MessageInfo m;
        if (selected_->message(view_, mid, &m) != Status::Ok) return 0;
        if (m.uid < uid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo <= view_.exists ? lo : 0;
}

// RFC 3501 §6.4.2: CLOSE expunges silently (no untagged EXPUNGE) when the
// mailbox is read-write; RFC 3691 UNSELECT never expunges.
void Session::cmd_close(bool expunge) {
    if (expunge && !view_.read_only) {
        std::uint32_t uids[kExpungeBatch];
        std::size_t count = kExpungeBatch;
        while (count == kExpungeBatch) {
            const Status st = selected_->expunge(view_, nullptr, uids, kExpungeBatch, &count);
            if (st != Status::Ok) {
                answer_store(st, "");  // the mailbox stays selected
                return;
            }
        }
    }
    deselect();
    tagged("OK", "", expunge ? "CLOSE completed" : "UNSELECT completed");
}

// ---- changes seen by this session (RFC 3501 §7.3, §7.4.1, RFC 2180) -------

namespace {

class SyncWriter final : public store::SyncVisitor {
public:
    // `vanished`: expunges as RFC 7162 §3.2.10.2 VANISHED (QRESYNC enabled);
    // `modseq`: unsolicited FETCH carries MODSEQ (CONDSTORE enabled, §3.1.4).
    SyncWriter(OutBuffer& out, store::Mailbox& box, store::View& view, bool vanished, bool modseq)
        : out_(out),
          box_(box),
          view_(view),
          before_(view.exists),
          vanished_(vanished),
          modseq_(modseq) {}
    void expunged(std::uint32_t seq, std::uint32_t uid) override {
        ++expunges_;
        if (vanished_) {
            if (!gone_.add(uid)) {
                finish();
                (void)gone_.add(uid);
            }
            return;
        }
        FixedText<64> w;
        w.put("* ").put_uint(seq).put(" EXPUNGE\r\n");
        put(w.view());
    }
    void exists(std::uint32_t count, std::uint32_t recent) override {
        finish();
        // Each EXPUNGE already told the client the count went down.
        if (count == before_ - expunges_) return;
        FixedText<64> w;
        w.put("* ").put_uint(count).put(" EXISTS\r\n* ").put_uint(recent).put(" RECENT\r\n");
        put(w.view());
    }
    void flags_changed(std::uint32_t seq, std::uint32_t uid) override {
        finish();
        store::MessageInfo m;
        if (box_.message(view_, seq, &m) != Status::Ok) return;
        FixedText<kLine> w;
        w.put("* ").put_uint(seq).put(" FETCH (UID ").put_uint(uid).put(" FLAGS ");
        write_flags(w, m.flags, m.keywords, box_);
        if (modseq_) w.put(" MODSEQ (").put_uint(m.modseq).put(')');
        w.put(")\r\n");
        put(w.view());
    }
    void flags_unknown() override {}
    // Writes the VANISHED gathered so far.
    void finish() {
        if (gone_.empty()) return;
        FixedText<kVanishedLine> w;
        w.put("* VANISHED ");
        gone_.write(w);
        w.put("\r\n");
        put(w.view());
        gone_.clear();
    }
    bool overflowed() const { return overflow_; }

private:
    void put(std::string_view line) {
        if (!out_.append(line)) overflow_ = true;
    }
    OutBuffer& out_;
    store::Mailbox& box_;
    store::View& view_;
    std::uint32_t before_;
    std::uint32_t expunges_ = 0;
    bool vanished_;
    bool modseq_;
    bool overflow_ = false;
    UidRanges gone_;
};

}  // namespace

// Reports what changed in the selected mailbox (other sessions, `tinyimapd
// deliver`, other processes) before the tagged response of NOOP, CHECK,
// APPEND and the like.
void Session::sync_selected() {
    if (selected_ == nullptr) return;
    SyncWriter writer(out_, *selected_, view_, qresync_, condstore_);
    const Status st = selected_->sync(view_, writer);
    writer.finish();
    if (view_.invalidated) {
        bye("The mailbox was rewritten by another process; please reconnect");
        return;
    }
    if (writer.overflowed()) {
        // The client's view would drift from ours: better to start over.
        bye("Too many changes to report at once; please reconnect");
        return;
    }
    (void)st;  // Busy: another process holds the lock; reported next time
}

// ---- CREATE DELETE RENAME SUBSCRIBE -------------------------------------------

void Session::answer_store(Status st, std::string_view done) {
    if (st == Status::Ok) {
        tagged("OK", "", done);
        return;
    }
    const char* code = "";
    const char* text = "";
    store_error(st, &code, &text);
    tagged("NO", code, text);
}

void Session::cmd_create(const ParsedCommand& cmd) {
    std::string_view name = cmd.mailbox;
    if (name.size() > 1 && name.back() == '/') name = ascii::head(name, name.size() - 1);
    if (cmd.create_use != 0) {
        tagged("NO", "USEATTR", "Special-use attributes are not supported yet");
        return;
    }
    answer_store(store::UserStore(*services_.registry, user_root_.view()).create(name),
                 "CREATE completed");
}

void Session::cmd_delete(const ParsedCommand& cmd) {
    answer_store(store::UserStore(*services_.registry, user_root_.view()).remove(cmd.mailbox),
                 "DELETE completed");
}

void Session::cmd_rename(const ParsedCommand& cmd) {
    answer_store(
        store::UserStore(*services_.registry, user_root_.view()).rename(cmd.mailbox, cmd.mailbox2),
        "RENAME completed");
}

void Session::cmd_subscribe(const ParsedCommand& cmd, bool on) {
    answer_store(
        store::UserStore(*services_.registry, user_root_.view()).subscribe(cmd.mailbox, on),
        on ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
}

// ---- LIST / LSUB ---------------------------------------------------------

namespace {

class ListWriter final : public store::ListVisitor {
public:
    ListWriter(OutBuffer& out, bool lsub) : out_(out), lsub_(lsub) {}
    bool mailbox(std::string_view name, std::uint8_t attributes) override {
        FixedText<kLine> line;
        ResponseWriter r(line);
        r.star().atom(lsub_ ? "LSUB" : "LIST").open_list();
        if (attributes & store::kNoselect) r.atom("\\Noselect");
        if (attributes & store::kHasChildren) r.atom("\\HasChildren");
        if (attributes & store::kHasNoChildren) r.atom("\\HasNoChildren");
        r.close_list().string("/").mailbox(name).crlf();
        if (!r.ok() || out_.room() < line.size() + kListReserve) {
            truncated_ = true;
            return false;
        }
        (void)r.append_to(out_);
        return true;
    }
    bool truncated() const { return truncated_; }

private:
    OutBuffer& out_;
    bool lsub_;
    bool truncated_ = false;
};

}  // namespace

void Session::cmd_list(const ParsedCommand& cmd, bool lsub) {
    if (!lsub && (cmd.list_options != 0 || cmd.pattern_count != 1)) {
        tagged("BAD", "", "LIST-EXTENDED options are not supported");
        return;
    }
    ArgReader pats = cmd.patterns;
    std::string_view pattern;
    if (!pats.string(&pattern) && !pats.atom(&pattern)) {
        tagged("BAD", "", "Expected a mailbox pattern");
        return;
    }
    if (!lsub && pattern.empty()) {
        // RFC 3501 §6.3.8: the hierarchy delimiter and root.
        untagged("LIST (\\Noselect) \"/\" \"\"");
        tagged("OK", "", "LIST completed");
        return;
    }
    ListWriter writer(out_, lsub);
    store::UserStore store(*services_.registry, user_root_.view());
    const Status st = lsub ? store.list_subscribed(cmd.mailbox, pattern, writer)
                           : store.list(cmd.mailbox, pattern, writer);
    if (writer.truncated()) {
        tagged("NO", "LIMIT", "Too many mailboxes to list at once; use a narrower pattern");
        return;
    }
    answer_store(st, lsub ? "LSUB completed" : "LIST completed");
}

// ---- STATUS ----------------------------------------------------------------

void Session::cmd_status(const ParsedCommand& cmd) {
    if (cmd.status.has(StatusItem::MailboxId)) {
        tagged("BAD", "", "STATUS item MAILBOXID is not supported");
        return;
    }
    store::StatusInfo info;
    const Status st =
        store::UserStore(*services_.registry, user_root_.view()).status(cmd.mailbox, &info);
    if (st != Status::Ok) {
        answer_store(st, "");
        return;
    }
    FixedText<kLine> line;
    ResponseWriter r(line);
    r.star().atom("STATUS").mailbox(cmd.mailbox).open_list();
    for (std::size_t i = 0; i < cmd.status.count; ++i) {
        const StatusItem item = cmd.status.order[i];
        r.atom(status_item_name(item));
        switch (item) {
            case StatusItem::Messages: r.number(info.messages); break;
            case StatusItem::Recent: r.number(info.recent); break;
            case StatusItem::UidNext: r.number(info.uid_next); break;
            case StatusItem::UidValidity: r.number(info.uid_validity); break;
            case StatusItem::Unseen: r.number(info.unseen); break;
            case StatusItem::HighestModSeq: r.number(info.highest_modseq); break;
            case StatusItem::Size: r.number(info.size); break;
            case StatusItem::MailboxId: break;
        }
    }
    r.close_list().crlf();
    (void)r.append_to(out_);
    tagged("OK", "", "STATUS completed");
}

// ---- APPEND, streamed ----------------------------------------------------

// Called when APPEND's message literal is announced (RFC 3501 §6.3.11): the
// arguments so far are checked, the mailbox opened and the literal taken as
// a stream into the store, so the message is never held in memory.
void Session::append_begin() {
    AppendMessage message;
    const SyntaxResult r = append_message_ready(parser_, &message);
    if (r.verdict != SyntaxVerdict::Ok) {
        parser_.refuse_literal();
        report_syntax(r);
        return;
    }
    const std::uint32_t size = parser_.literal_size();
    if (append_box_ != nullptr || append_done_) {
        // A second message in one APPEND is MULTIAPPEND (RFC 3502), which
        // we do not advertise: refuse rather than store half of it.
        parser_.refuse_literal();
        abort_append();
        tagged("BAD", "", "Only one message per APPEND (MULTIAPPEND is not supported)");
        return;
    }
    if (size > config_.max_append_size) {
        parser_.refuse_literal();
        tagged("BAD", "TOOBIG", "Message too large");  // RFC 7888 §5
        return;
    }
    ArgReader args(parser_);
    std::string_view mailbox;
    (void)args.astring(&mailbox);
    store::UserStore store(*services_.registry, user_root_.view());
    Result<store::Mailbox*> box = store.open(mailbox);
    if (!box.ok()) {
        parser_.refuse_literal();
        if (box.status == Status::NotFound) {
            tagged("NO", "TRYCREATE", "No such mailbox");  // §6.3.11
        } else {
            answer_store(box.status, "");
        }
        return;
    }
    std::uint64_t keywords = 0;
    for (std::size_t i = 0; i < message.flags.keyword_count; ++i) {
        unsigned bit = 0;
        if (box.value->keyword_bit(message.flags.keywords[i], true, &bit) == Status::Ok) {
            keywords |= std::uint64_t{1} << bit;
        }
    }
    const std::int64_t date =
        message.has_date ? message.date.utc_seconds : services_.clock->wall_seconds();
    const auto zone = static_cast<std::int16_t>(
        message.has_date ? message.date.zone_minutes : services_.clock->utc_offset_minutes(date));
    const Status st =
        box.value->begin_append(appender_, size, message.flags.system, keywords, date, zone);
    if (st != Status::Ok) {
        store.close(box.value);
        parser_.refuse_literal();
        answer_store(st, "");
        return;
    }
    append_box_ = box.value;
    append_status_ = Status::Ok;
    parser_.stream_literal();
    if (parser_.literal_sync()) out_.append("+ Ready for the message\r\n");
}

void Session::append_chunk(std::string_view chunk) {
    if (append_box_ == nullptr || append_status_ != Status::Ok) return;
    append_status_ = append_box_->append_chunk(appender_, chunk.data(), chunk.size());
    if (parser_.literal_remaining() == 0) append_done_ = true;
}

// The APPEND command line is complete: commit (durable before the OK).
void Session::append_finish() {
    store::Mailbox* box = append_box_;
    append_box_ = nullptr;
    append_done_ = false;
    if (box == nullptr) return;
    std::uint32_t uid = 0;
    Status st = append_status_;
    if (st == Status::Ok) {
        st = box->commit_append(appender_, &uid);
    } else {
        box->abort_append(appender_);
    }
    const std::uint32_t validity = box->uid_validity();
    store::UserStore(*services_.registry, user_root_.view()).close(box);
    if (st != Status::Ok) {
        answer_store(st, "");
        return;
    }
    sync_selected();
    // RFC 4315 §3: where the message went.
    FixedText<64> code;
    code.put("APPENDUID ").put_uint(validity).put(' ').put_uint(uid);
    tagged("OK", code.view(), "APPEND completed");
}

void Session::abort_append() {
    if (append_box_ == nullptr) return;
    append_box_->abort_append(appender_);
    store::UserStore(*services_.registry, user_root_.view()).close(append_box_);
    append_box_ = nullptr;
    append_done_ = false;
}

}  // namespace tinyimapd::imap
