// The mailbox commands of the authenticated and selected states, over the
// flat-file store (core/store): SELECT and EXAMINE (RFC 3501 §6.3.1-2),
// CREATE DELETE RENAME (§6.3.3-5), SUBSCRIBE UNSUBSCRIBE (§6.3.6-7), LIST
// LSUB (§6.3.8-9), STATUS (§6.3.10), APPEND streamed to storage (§6.3.11),
// CHECK CLOSE (§6.4.1-2), UNSELECT (RFC 3691), and the untagged EXISTS,
// RECENT, EXPUNGE and FETCH FLAGS that report changes (§7.3, §7.4, RFC 2180).
#include "core/base/text.h"
#include "core/imap/encoder.h"
#include "core/imap/uid_ranges.h"
#include "core/session/session.h"
#include "core/store/name_map.h"
#include "core/store/user_store.h"

namespace tinyimapd::imap {

namespace {

constexpr std::size_t kLine = kMaxUntaggedLine;
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

}  // namespace

// A flag list "(\\Seen $Junk ...)"; `tail` ends it inside the parentheses
// (PERMANENTFLAGS' "\\*").
void write_flag_list(FlagLine& w, std::uint8_t flags, std::uint64_t keywords,
                     const store::Mailbox& box, std::string_view tail) {
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
    bool created = false;
    const Status st = store.ensure(&created);
    if (st != Status::Ok) {
        log_line(port::LogLevel::Error,
                 "cannot open the mail store of user=", {user_, user_length_}, " at ",
                 user_root_.view());
        return false;
    }
    // Staging files a crash left behind (none is in use by anyone: locked).
    store::remove_stale_stages(services_.registry->services(), user_root_.view());
    // RFC 6154: a new user starts with Sent, Drafts, Trash, Junk, Archive
    // (names from the configuration), marked with their special use.
    for (const SessionConfig::SpecialMailbox& m : config_.special_mailboxes) {
        if (!created || m.name.empty() || !is_valid_mailbox_name(m.name)) continue;
        Status made = store.create(m.name);
        if (made == Status::Ok) made = store.set_special_use(m.name, m.use);
        if (made != Status::Ok && made != Status::Exists) {
            log_line(port::LogLevel::Warning, "cannot create mailbox ", m.name,
                     " for user=", {user_, user_length_});
        }
    }
    return true;
}

// ---- SELECT / EXAMINE / CLOSE / UNSELECT ------------------------------------

void Session::deselect() {
    if (selected_ == nullptr) return;
    // A STORE or COPY job cut short (the connection ended): nothing of it
    // was acknowledged, so nothing of it is kept.
    end_store_txn();
    if (copy_.dest != nullptr) end_copy_job(Status::Closed);
    flag_scan_since_ = UINT64_MAX;
    vanished_.pending = false;
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

    // FLAGS and PERMANENTFLAGS (read-write): now if they fit with the
    // reserve behind them, else before the tagged line (a Sync job).
    flags_announced_ = permanent_announced_ = kNotAnnounced;
    (void)announce_keywords();
    if (read_only) untagged("OK [PERMANENTFLAGS ()] No permanent flags in read-only mode");
    FixedText<kLine> w;
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
    const std::string_view code = read_only ? "READ-ONLY" : "READ-WRITE";
    const std::string_view text = read_only ? "EXAMINE completed" : "SELECT completed";
    if (job_.kind == JobKind::Resync) {
        defer_tagged("OK", code, text);
        run_job();
        return;
    }
    if (!announce_keywords()) {
        defer_tagged("OK", code, text);
        job_.kind = JobKind::Sync;
        return;  // run_job() once the output drains
    }
    tagged("OK", code, text);
}

// RFC 3501 §7.2.6 FLAGS: "the flags that are applicable for this mailbox",
// said again whenever a keyword is added, before any FETCH names it (clients
// rebuild their keyword lists from it); §7.1 PERMANENTFLAGS: "\\*" only while
// a new keyword can still be created. Each line goes out whole with
// kResponseReserve behind it, or waits.
bool Session::announce_keywords() {
    if (selected_ == nullptr) return true;
    const std::size_t count = selected_->keyword_count();
    constexpr std::uint8_t kSystem = kAnswered | kFlagged | kDeleted | kSeen | kDraft;
    if (flags_announced_ != count) {
        FlagLine w;
        w.put("* FLAGS ");
        write_flag_list(w, kSystem, ~std::uint64_t{0}, *selected_);
        w.put("\r\n");
        if (out_.room() < w.size() + kResponseReserve) return false;
        (void)out_.append(w.view());
        flags_announced_ = count;
    }
    if (!view_.read_only && permanent_announced_ != count) {
        const bool can_create = count < store::kMaxKeywords;
        FlagLine w;
        w.put("* OK [PERMANENTFLAGS ");
        write_flag_list(w, kSystem, ~std::uint64_t{0}, *selected_, can_create ? "\\*" : "");
        w.put(can_create ? "] Flags permitted\r\n" : "] No more keywords in this mailbox\r\n");
        if (out_.room() < w.size() + kResponseReserve) return false;
        (void)out_.append(w.view());
        permanent_announced_ = count;
    }
    return true;
}

// RFC 7162 §3.2.5.1: what changed since the client's mod-sequence, among
// the UIDs it knows (all below UIDNEXT when it gave none).
void Session::resync(const QresyncParams& p) {
    if (p.modseq >= selected_->highest_modseq()) return;  // nothing changed since
    const std::uint32_t max_uid = selected_->uid_next() - 1;
    if (max_uid == 0) return;
    // §3.2.5.2: each (seq, uid) pair of the client's sample that still holds
    // proves it knows of every expunge up to that UID.
    std::uint32_t floor = 0;
    if (!p.known_sequence_set.empty()) {
        SeqSet::Cursor sc, uc;
        std::uint32_t slo = 0, shi = 0, ulo = 0, uhi = 0;
        std::uint32_t seq = 1, uid = 0;
        bool more_s = false, more_u = false;
        for (;;) {
            if (!more_s) {
                if (!p.known_sequence_set.next(sc, view_.exists, &slo, &shi)) break;
                seq = slo;
                more_s = true;
            }
            if (!more_u) {
                if (!p.known_uid_set.next(uc, max_uid, &ulo, &uhi)) break;
                uid = ulo;
                more_u = true;
            }
            store::MessageInfo m;
            if (seq > view_.exists || selected_->message(view_, seq, &m) != Status::Ok ||
                m.uid != uid) {
                break;
            }
            floor = uid;
            if (seq++ == shi) more_s = false;
            if (uid++ == uhi) more_u = false;
        }
    }
    if (p.known_uids.empty()) {
        vanished_all_.clear();
        vanished_all_.put("1:").put_uint(max_uid);
        SeqSet known;
        const char* why = "";
        if (!SeqSet::parse(vanished_all_.view(), 1, &known, &why)) return;
        start_vanished_earlier(known, floor);
    } else {
        start_vanished_earlier(p.known_uids, floor);
    }
    // Flag changes follow as a job (they may be many): run_resync_job().
    job_.kind = JobKind::Resync;
    job_.uid = !p.known_uids.empty();
    job_.set = p.known_uids;
    job_.largest_uid = UINT32_MAX;
    job_.seq = 1;
    job_.since_modseq = p.modseq;
}

// "* n FETCH (UID u FLAGS (...) MODSEQ (m))" for each (known) message with
// a higher mod-sequence (RFC 7162 §3.2.5.1; also after a change report that
// overflowed the store's ring), as room allows; then the deferred tagged line.
void Session::run_resync_job() {
    const std::uint32_t max_uid = selected_->uid_next() - 1;
    for (; job_.seq <= view_.exists; ++job_.seq) {
        if (!announce_keywords()) return;  // FLAGS before a FETCH names a keyword
        store::MessageInfo m;
        if (selected_->message(view_, job_.seq, &m) != Status::Ok) break;
        if (m.modseq <= job_.since_modseq) continue;
        if (job_.uid ? !job_.set.contains(m.uid, max_uid) : m.uid > job_.largest_uid) continue;
        FlagLine w;
        w.put("* ").put_uint(job_.seq).put(" FETCH (UID ").put_uint(m.uid).put(" FLAGS ");
        write_flag_list(w, m.flags, m.keywords, *selected_);
        if (condstore_) w.put(" MODSEQ (").put_uint(m.modseq).put(')');
        w.put(")\r\n");
        if (out_.room() < w.size() + kResponseReserve) return;  // more next turn
        (void)out_.append(w.view());
    }
    if (!announce_keywords()) return;
    if (out_.room() < deferred_.size()) return;  // the tagged line goes whole
    job_.kind = JobKind::None;
    (void)out_.append(deferred_.view());
}

// RFC 7162 §3.2.10.1 and §3.2.6: "* VANISHED (EARLIER) set" of the UIDs of
// `uids` above `floor` and below UIDNEXT that are no longer in the mailbox.
// The store keeps no mod-sequences of expunged messages, so every such UID
// is reported (what §3.2.6 asks when the client's mod-sequence predates the
// server's memory). Written ahead of the job it precedes (run_job), as the
// output drains: a mailbox with many holes makes many lines.
void Session::start_vanished_earlier(const SeqSet& uids, std::uint32_t floor) {
    vanished_.pending = true;
    vanished_.set = uids;
    vanished_.cursor = SeqSet::Cursor{};
    vanished_.floor = floor;
    vanished_.uid = 1;
    vanished_.hi = 0;  // take the first range
    vanished_.seq = 0;
    vanished_.gone.clear();
}

bool Session::run_vanished_earlier() {
    const std::uint32_t max_uid = selected_->uid_next() - 1;
    auto flush = [&] {
        if (vanished_.gone.empty()) return;
        FixedText<kVanishedLine> w;
        w.put("* VANISHED (EARLIER) ");
        vanished_.gone.write(w);
        w.put("\r\n");
        (void)out_.append(w.view());  // room was checked before each UID
        vanished_.gone.clear();
    };
    for (;;) {
        if (vanished_.uid > vanished_.hi) {
            std::uint32_t lo = 0, hi = 0;
            if (!vanished_.set.next(vanished_.cursor, max_uid, &lo, &hi)) break;
            if (lo <= vanished_.floor) lo = vanished_.floor + 1;
            if (hi > max_uid) hi = max_uid;
            if (lo > hi) continue;
            vanished_.uid = lo;
            vanished_.hi = hi;
            vanished_.seq = first_seq_at_or_above(lo);
        }
        // The next UID still present at or after vanished_.uid.
        store::MessageInfo m;
        const bool have =
            vanished_.seq != 0 && selected_->message(view_, vanished_.seq, &m) == Status::Ok;
        const std::uint32_t next_present = have ? m.uid : vanished_.hi + 1;
        for (; vanished_.uid < next_present && vanished_.uid <= vanished_.hi; ++vanished_.uid) {
            if (out_.room() < kVanishedLine + kResponseReserve) {
                flush();
                return false;  // more once the output drains
            }
            if (!vanished_.gone.add(vanished_.uid)) {
                flush();
                (void)vanished_.gone.add(vanished_.uid);
            }
        }
        if (!have) {
            vanished_.uid = vanished_.hi + 1;
            continue;
        }
        ++vanished_.uid;  // present: skip it
        vanished_.seq = vanished_.seq < view_.exists ? vanished_.seq + 1 : 0;
    }
    flush();
    vanished_.pending = false;
    return true;
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
        Status st = Status::Ok;
        while (count == kExpungeBatch || (st == Status::Exhausted && count > 0)) {
            st = selected_->expunge(view_, nullptr, uids, kExpungeBatch, &count);
            if (st != Status::Ok && !(st == Status::Exhausted && count > 0)) {
                // The mailbox stays selected.
                if (st == Status::Exhausted) {
                    tagged("NO", "INUSE", "Too many expunges pending; try again");
                } else {
                    answer_store(st, "");
                }
                return;
            }
            // Silent: the view takes in what went (and what others did)
            // without a word to the client, so the store's list of pending
            // expunges never fills with ours.
            struct Silent final : store::SyncVisitor {
                bool expunged(std::uint32_t, std::uint32_t) override { return true; }
                void exists(std::uint32_t, std::uint32_t) override {}
                bool flags_changed(std::uint32_t, std::uint32_t) override { return true; }
                void flags_unknown(std::uint64_t) override {}
            } silent;
            (void)selected_->sync(view_, silent);
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
    // `announced`: the keywords the client was told of (FLAGS); a change
    // that names a later one waits for the next round, which announces it.
    SyncWriter(OutBuffer& out, store::Mailbox& box, store::View& view, bool vanished, bool modseq,
               std::size_t announced)
        : out_(out),
          box_(box),
          view_(view),
          before_(view.exists),
          vanished_(vanished),
          modseq_(modseq),
          announced_(announced) {}
    // Each report is taken only while the output keeps kResponseReserve free
    // behind it (the EXISTS/RECENT lines and the tagged response); the rest
    // waits for the next round (Session's Sync job).
    bool expunged(std::uint32_t seq, std::uint32_t uid) override {
        if (vanished_) {
            // Room for the VANISHED line this UID may have to be written in.
            if (out_.room() < kVanishedLine + kResponseReserve) return false;
            if (!gone_.add(uid)) {
                finish();
                (void)gone_.add(uid);
            }
            ++expunges_;
            return true;
        }
        FixedText<64> w;
        w.put("* ").put_uint(seq).put(" EXPUNGE\r\n");
        if (!fits(w.view())) return false;
        ++expunges_;
        return true;
    }
    void exists(std::uint32_t count, std::uint32_t recent) override {
        finish();
        // Each EXPUNGE already told the client the count went down.
        if (count == before_ - expunges_) return;
        FixedText<64> w;
        w.put("* ").put_uint(count).put(" EXISTS\r\n* ").put_uint(recent).put(" RECENT\r\n");
        (void)out_.append(w.view());  // within the reserve
    }
    bool flags_changed(std::uint32_t seq, std::uint32_t uid) override {
        finish();
        store::MessageInfo m;
        if (box_.message(view_, seq, &m) != Status::Ok) return true;
        if (announced_ < store::kMaxKeywords && (m.keywords >> announced_) != 0) return false;
        FlagLine w;
        w.put("* ").put_uint(seq).put(" FETCH (UID ").put_uint(uid).put(" FLAGS ");
        write_flag_list(w, m.flags, m.keywords, box_);
        if (modseq_) w.put(" MODSEQ (").put_uint(m.modseq).put(')');
        w.put(")\r\n");
        return fits(w.view());
    }
    void flags_unknown(std::uint64_t since) override {
        unknown_since_ = since;
        // Messages the client has not heard of yet come with EXISTS, not here.
        store::MessageInfo m;
        if (view_.exists > 0 && box_.message(view_, view_.exists, &m) == Status::Ok) {
            unknown_max_uid_ = m.uid;
        }
    }
    std::uint32_t unknown_max_uid() const { return unknown_max_uid_; }
    // UINT64_MAX, or the modseq above which every message must be looked at.
    std::uint64_t unknown_since() const { return unknown_since_; }
    // Writes the VANISHED gathered so far (room was kept for it).
    void finish() {
        if (gone_.empty()) return;
        FixedText<kVanishedLine> w;
        w.put("* VANISHED ");
        gone_.write(w);
        w.put("\r\n");
        (void)out_.append(w.view());
        gone_.clear();
    }

private:
    bool fits(std::string_view line) {
        if (out_.room() < line.size() + kResponseReserve) return false;
        return out_.append(line);
    }
    OutBuffer& out_;
    store::Mailbox& box_;
    store::View& view_;
    std::uint32_t before_;
    std::uint32_t expunges_ = 0;
    bool vanished_;
    bool modseq_;
    std::size_t announced_;
    std::uint64_t unknown_since_ = UINT64_MAX;
    std::uint32_t unknown_max_uid_ = 0;
    UidRanges gone_;
};

}  // namespace

// Reports what changed in the selected mailbox (other sessions, `tinyimapd
// deliver`, other processes) before the tagged response of NOOP, CHECK,
// APPEND and the like: as much as the output buffer takes now. False when
// more is to come (see finish_after_sync).
bool Session::sync_selected() {
    if (selected_ == nullptr) return true;
    // New keywords first; if that must wait for room, the changes that name
    // them wait too (the writer holds them back) and the rest goes now.
    (void)announce_keywords();
    SyncWriter writer(out_, *selected_, view_, qresync_, condstore_, flags_announced_);
    bool complete = true;
    const Status st = selected_->sync(view_, writer, &complete);
    writer.finish();
    if (view_.invalidated) {
        // Deleted (DELETE by another session); compacted by another
        // process, or by this one after another session's expunges outran
        // this view (Mailbox::make_gone_room); or INBOX renamed.
        bye_invalidated();
        return true;
    }
    // Busy: another process holds the lock; reported next time.
    if (writer.unknown_since() < flag_scan_since_) {
        flag_scan_since_ = writer.unknown_since();
        flag_scan_max_uid_ = writer.unknown_max_uid();
    }
    return st != Status::Ok || complete;
}

// The changes, then the tagged response. When the changes do not all fit in
// the output buffer, the rest goes out as the client reads (a Sync job), and
// the tagged line after them.
void Session::finish_after_sync(std::string_view status, std::string_view code,
                                std::string_view text) {
    const bool complete = sync_selected();
    if (state_ == SessionState::Logout) return;
    if (complete && flag_scan_since_ == UINT64_MAX) {
        if (!status.empty()) tagged(status, code, text);
        return;
    }
    defer_tagged(status, code, text);
    job_.kind = JobKind::Sync;
    if (complete) start_flag_scan();
}

// More flag changes than the store's change ring holds: every message with
// a higher modseq is reported (RFC 3501 §7.4.2), by the Resync job.
void Session::start_flag_scan() {
    job_.kind = JobKind::Resync;
    job_.uid = false;
    job_.seq = 1;
    job_.since_modseq = flag_scan_since_;
    job_.largest_uid = flag_scan_max_uid_;
    flag_scan_since_ = UINT64_MAX;
    run_resync_job();
}

// The tagged line a job sends when it is done ("" status: none).
void Session::defer_tagged(std::string_view status, std::string_view code, std::string_view text) {
    deferred_.clear();
    if (status.empty()) return;
    ResponseWriter r(deferred_);
    r.tagged({tag_, tag_length_}, status, code.size() <= kMaxResponseCode ? code : "",
             ascii::head(text, kMaxResponseText));
    if (!r.ok()) {  // as in tagged(): without the code rather than not at all
        deferred_.clear();
        ResponseWriter plain(deferred_);
        plain.tagged({tag_, tag_length_}, status, "", ascii::head(text, kMaxResponseText));
    }
}

void Session::run_sync_job() {
    if (!sync_selected() && state_ != SessionState::Logout) return;  // more next turn
    if (state_ == SessionState::Logout) {
        job_.kind = JobKind::None;
        return;
    }
    if (flag_scan_since_ != UINT64_MAX) {
        start_flag_scan();
        return;
    }
    if (out_.room() < deferred_.size()) return;  // the tagged line goes whole
    job_.kind = JobKind::None;
    (void)out_.append(deferred_.view());
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

// RFC 5530 LIMIT for the keyword table (store::kMaxKeywords per mailbox,
// docs/STORAGE.md); a name over store::kMaxKeywordLength is refused by
// parse_flag_list already, so TooLong here is a second line of defence.
void Session::answer_keyword_error(Status st) {
    if (st == Status::Exhausted) {
        tagged("NO", "LIMIT", "Too many keywords in this mailbox");
    } else if (st == Status::TooLong) {
        tagged("BAD", "", "Keyword too long");
    } else {
        answer_store(st, "");
    }
}

bool Session::keywords_fit(store::Mailbox& box, const FlagList& flags) {
    std::size_t added = 0;
    for (std::size_t i = 0; i < flags.keyword_count; ++i) {
        unsigned bit = 0;
        if (box.keyword_bit(flags.keywords[i], false, &bit) == Status::NotFound) ++added;
    }
    return box.keyword_count() + added <= store::kMaxKeywords;
}

// RFC 3501 §6.3.3: a new name "SHOULD NOT" contain '*' or '%' — LIST could
// never name such a mailbox alone. Refused for CREATE and RENAME's new name.
bool Session::refuse_wildcard_name(std::string_view name) {
    if (name.find_first_of("*%") == std::string_view::npos) return false;
    tagged("NO", "CANNOT", "Mailbox names may not contain * or %");
    return true;
}

void Session::cmd_create(const ParsedCommand& cmd) {
    std::string_view name = cmd.mailbox;
    if (name.size() > 1 && name.back() == '/') name = ascii::head(name, name.size() - 1);
    if (refuse_wildcard_name(name)) return;
    // RFC 6154 §3: \All and \Flagged are virtual mailboxes, which this
    // store does not have.
    if ((cmd.create_use & (kUseAll | kUseFlagged)) != 0) {
        tagged("NO", "USEATTR", "\\All and \\Flagged mailboxes are not supported");
        return;
    }
    if (cmd.create_use_unknown) {
        tagged("NO", "USEATTR", "Unknown special-use attribute");
        return;
    }
    store::UserStore store(*services_.registry, user_root_.view());
    Status st = store.create(name);
    if (st == Status::Ok && cmd.create_use != 0) {
        st = store.set_special_use(name, cmd.create_use);
        if (st != Status::Ok) (void)store.remove(name);  // all or nothing
    }
    answer_store(st, "CREATE completed");
}

// RFC 2180 §3.3: DELETE goes through while sessions have the mailbox
// selected. The others end with "* BYE Selected mailbox was deleted, have to
// disconnect" (Dovecot's words) at their next command or IDLE beat; this
// session, if it had it selected, is told "* OK [CLOSED]" (RFC 7162
// §3.2.11) and is back in the authenticated state (RFC 3501 §3).
void Session::cmd_delete(const ParsedCommand& cmd) {
    const Status st = store::UserStore(*services_.registry, user_root_.view()).remove(cmd.mailbox);
    if (st == Status::Ok && selected_ != nullptr && view_.invalidated) {
        deselect();
        untagged("OK [CLOSED] The selected mailbox was deleted");
    }
    answer_store(st, "DELETE completed");
}

// RFC 2180 §3.4: sessions with the mailbox (or a child) selected keep it
// under the new name. RENAME INBOX replaces INBOX's files: sessions that
// had INBOX selected are ended (BYE) like after a rewrite; this session is
// told "* OK [CLOSED]" and is back in the authenticated state.
void Session::cmd_rename(const ParsedCommand& cmd) {
    if (refuse_wildcard_name(cmd.mailbox2)) return;
    const Status st =
        store::UserStore(*services_.registry, user_root_.view()).rename(cmd.mailbox, cmd.mailbox2);
    if (st == Status::Ok && is_inbox(cmd.mailbox) && selected_ != nullptr && view_.invalidated) {
        deselect();
        untagged("OK [CLOSED] INBOX was emptied into the new mailbox");
    }
    answer_store(st, "RENAME completed");
}

void Session::cmd_subscribe(const ParsedCommand& cmd, bool on) {
    answer_store(
        store::UserStore(*services_.registry, user_root_.view()).subscribe(cmd.mailbox, on),
        on ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
}

// ---- LIST / LSUB ---------------------------------------------------------

namespace {

template <class F>
class ListFn final : public store::ListVisitor {
public:
    explicit ListFn(F f) : f_(f) {}
    bool mailbox(std::string_view name, std::uint8_t attributes) override {
        return f_(name, attributes);
    }

private:
    F f_;
};

// The pattern LIST matches: reference and pattern joined (RFC 3501 §6.3.8).
bool joined_pattern(std::string_view reference, std::string_view pattern, TextWriter& out) {
    out.put(reference).put(pattern);
    return out.ok();
}

}  // namespace

// RFC 3501 §6.3.8-9 LIST and LSUB; RFC 5258 LIST-EXTENDED (selection
// options SUBSCRIBED, REMOTE, RECURSIVEMATCH; return options SUBSCRIBED,
// CHILDREN; several patterns), RFC 6154 SPECIAL-USE (attributes in every
// LIST, the selection and return options), RFC 5819 LIST-STATUS. \HasChildren
// and \HasNoChildren (RFC 3348) are always given for existing mailboxes.
// Answered as a job (run_list_job), so a listing of any length streams
// through the output buffer.
void Session::cmd_list(const ParsedCommand& cmd, bool lsub, bool find) {
    // RFC 2062 FIND [ALL.]MAILBOXES: LSUB or LIST with "* MAILBOX" answers.
    if (find) lsub = (cmd.list_options & kListSubscribed) != 0;
    const std::uint16_t opts = lsub || find ? 0 : cmd.list_options;
    ArgReader pats = cmd.patterns;
    std::string_view first;
    if (!pats.string(&first) && !pats.atom(&first)) {
        tagged("BAD", "", "Expected a mailbox pattern");
        return;
    }
    if (!lsub && !find && cmd.pattern_count == 1 && first.empty() && opts == 0) {
        // RFC 3501 §6.3.8: the hierarchy delimiter and root.
        untagged("LIST (\\Noselect) \"/\" \"\"");
        tagged("OK", "", "LIST completed");
        return;
    }
    if ((opts & kListReturnStatus) && cmd.list_status.has(StatusItem::MailboxId)) {
        tagged("BAD", "", "STATUS item MAILBOXID is not supported");
        return;
    }
    list_job_.reference = cmd.mailbox;
    list_job_.patterns = cmd.patterns;
    list_job_.pattern_count = cmd.pattern_count;
    list_job_.options = opts;
    list_job_.status = cmd.list_status;
    list_job_.lsub = lsub;
    list_job_.find = find;
    list_job_.sent = 0;
    job_.kind = JobKind::List;
    run_list_job();
}

namespace {

// RFC 3501 §6.3.9: with "foo/bar" subscribed and "foo" not, LSUB with "%"
// must return "foo", flagged \Noselect. Each such parent is listed once, for
// the first subscription below it (found by reading the subscription list
// again: it is a user's folder list, short).
template <class Entry>
Status list_unsubscribed_parents(store::UserStore& store, std::string_view pattern, Entry& entry) {
    auto first_below = [&](std::string_view parent, std::string_view name) {
        bool first = false;
        auto find = [&](std::string_view line, std::uint8_t) {
            if (line.size() <= parent.size() || line[parent.size()] != kHierarchyDelimiter ||
                ascii::head(line, parent.size()) != parent) {
                return true;
            }
            first = line == name;
            return false;
        };
        ListFn<decltype(find)> v(find);
        (void)store.list_subscribed("", "*", v);
        return first;
    };
    auto each = [&](std::string_view name, std::uint8_t) {
        for (std::size_t i = 1; i < name.size(); ++i) {
            if (name[i] != kHierarchyDelimiter) continue;
            const std::string_view parent = ascii::head(name, i);
            if (!store::match_pattern(pattern, parent) || store.is_subscribed(parent) ||
                !first_below(parent, name)) {
                continue;
            }
            if (!entry(parent, store::kNoselect, false)) return false;
        }
        return true;
    };
    ListFn<decltype(each)> v(each);
    return store.list_subscribed("", "*", v);
}

}  // namespace

// One round of a LIST: walks the tree again, skips the entries earlier
// rounds sent and writes what fits. The walk order is the directories' own,
// which stays the same while the tree does not change; a mailbox created or
// deleted between rounds may be missed or seen twice (as with any listing
// that races with changes).
void Session::run_list_job() {
    const ListJob& job = list_job_;
    const std::uint16_t opts = job.options;
    const bool lsub = job.lsub;
    const bool select_subscribed = (opts & kListSubscribed) != 0;
    const bool select_special = (opts & kListSpecialUseSel) != 0;
    const bool recursive = (opts & kListRecursiveMatch) != 0;
    const bool return_subscribed = (opts & kListReturnSubscribed) != 0;
    const bool return_children = (opts & kListReturnChildren) != 0;
    const bool return_status = (opts & kListReturnStatus) != 0;
    store::UserStore store(*services_.registry, user_root_.view());

    bool full = false;
    std::size_t seen = 0;  // entries of this walk so far
    std::size_t pattern_index = 0;
    // One entry; false stops the walk (output full).
    auto entry = [&](std::string_view name, std::uint8_t attrs, bool childinfo) {
        // RFC 5258 §3: each mailbox once, even when several patterns match.
        ArgReader earlier = job.patterns;
        for (std::size_t i = 0; i < pattern_index; ++i) {
            std::string_view p;
            if (!earlier.string(&p)) (void)earlier.atom(&p);
            FixedText<2 * kMaxMailboxName + 2> joined;
            if (joined_pattern(job.reference, p, joined) &&
                store::match_pattern(joined.view(), name)) {
                return true;
            }
        }
        const std::uint8_t uses = (attrs & store::kNoselect) ? 0 : store.special_use(name);
        if (select_special && uses == 0) return true;
        if (seen++ < list_job_.sent) return true;  // sent by an earlier round
        if (!lsub && !select_subscribed && return_subscribed && store.is_subscribed(name)) {
            attrs |= store::kSubscribed;
        }
        if (select_subscribed && return_children && !(attrs & store::kNonExistent)) {
            attrs |= store.mailbox_has_children(name) ? store::kHasChildren : store::kHasNoChildren;
        }
        FixedText<kLine> line;
        ResponseWriter r(line);
        if (job.find) {
            // RFC 2062 §7.2.OBS.1: the name alone.
            r.star().atom("MAILBOX").mailbox(name).crlf();
            if (!r.ok() || out_.room() < line.size() + kResponseReserve) {
                full = true;
                return false;
            }
            (void)r.append_to(out_);
            ++list_job_.sent;
            return true;
        }
        r.star().atom(lsub ? "LSUB" : "LIST").open_list();
        if (attrs & store::kNonExistent && !lsub) {
            r.atom("\\NonExistent");
        } else if (attrs & store::kNoselect) {
            r.atom("\\Noselect");
        }
        if (attrs & store::kHasChildren) r.atom("\\HasChildren");
        if (attrs & store::kHasNoChildren) r.atom("\\HasNoChildren");
        if (!lsub && (attrs & store::kSubscribed) && (select_subscribed || return_subscribed)) {
            r.atom("\\Subscribed");
        }
        for (std::uint8_t bit = 1; bit != 0; bit = static_cast<std::uint8_t>(bit << 1)) {
            if ((uses & bit) != 0) r.atom(special_use_name(bit));
        }
        r.close_list().string("/").mailbox(name);
        if (childinfo) {
            // RFC 5258 §3.5: not subscribed itself, but a child is.
            r.open_list().string("CHILDINFO").open_list().string("SUBSCRIBED");
            r.close_list().close_list();
        }
        r.crlf();
        const std::size_t status_room = return_status ? kLine : 0;
        if (!r.ok() || out_.room() < line.size() + status_room + kResponseReserve) {
            full = true;
            return false;
        }
        (void)r.append_to(out_);
        // RFC 5819 §2: STATUS right after the mailbox's LIST line.
        if (return_status && !(attrs & store::kNoselect)) write_status(name, job.status);
        ++list_job_.sent;
        return true;
    };

    Status st = Status::Ok;
    ArgReader pats = job.patterns;
    for (pattern_index = 0; pattern_index < job.pattern_count && !full; ++pattern_index) {
        std::string_view pattern;
        if (!pats.string(&pattern)) (void)pats.atom(&pattern);
        FixedText<2 * kMaxMailboxName + 2> joined;
        (void)joined_pattern(job.reference, pattern, joined);
        if (lsub || select_subscribed) {
            // RFC 5258 §3.5: with RECURSIVEMATCH, CHILDINFO marks a mailbox
            // with a subscribed descendant that this listing does not show.
            auto subscribed = [&](std::string_view name, std::uint8_t attrs) {
                return entry(name, attrs,
                             recursive && store.has_subscribed_child(name, joined.view()));
            };
            ListFn<decltype(subscribed)> v(subscribed);
            st = store.list_subscribed(job.reference, pattern, v);
            if (st == Status::Ok && lsub && !full && pattern.find('%') != std::string_view::npos) {
                st = list_unsubscribed_parents(store, joined.view(), entry);
            }
            if (st == Status::Ok && recursive && !full) {
                auto parents = [&](std::string_view name, std::uint8_t attrs) {
                    if (store.is_subscribed(name) ||
                        !store.has_subscribed_child(name, joined.view())) {
                        return true;
                    }
                    return entry(name, attrs & (store::kNoselect), true);
                };
                ListFn<decltype(parents)> pv(parents);
                st = store.list(job.reference, pattern, pv);
            }
        } else {
            auto all = [&](std::string_view name, std::uint8_t attrs) {
                return entry(name, attrs, false);
            };
            ListFn<decltype(all)> v(all);
            st = store.list(job.reference, pattern, v);
        }
        if (st != Status::Ok) break;
    }
    if (full && st == Status::Ok) return;  // more next round, once output drains
    job_.kind = JobKind::None;
    answer_store(st, job.find ? "FIND completed" : lsub ? "LSUB completed" : "LIST completed");
}

// ---- STATUS ----------------------------------------------------------------

// "* STATUS name (item value ...)" (RFC 3501 §7.2.4); false if the mailbox
// cannot be opened (nothing written; *why_not says why).
bool Session::write_status(std::string_view name, const StatusAtts& atts, Status* why_not) {
    store::StatusInfo info;
    store::UserStore store(*services_.registry, user_root_.view());
    Status st = store.status(name, &info);
    // RFC 9208 §4.1.4: the \Deleted messages, counted on a read-only view.
    std::uint32_t deleted = 0;
    std::uint64_t deleted_bytes = 0;
    if (st == Status::Ok &&
        (atts.has(StatusItem::Deleted) || atts.has(StatusItem::DeletedStorage))) {
        Result<store::Mailbox*> box = store.open(name);
        st = box.status;
        if (box.ok()) {
            store::View view;
            box.value->attach(view, true);
            for (std::uint32_t seq = 1; seq <= view.exists; ++seq) {
                store::MessageInfo m;
                if (box.value->message(view, seq, &m) != Status::Ok) break;
                if ((m.flags & kDeleted) == 0) continue;
                ++deleted;
                deleted_bytes += m.size;
            }
            box.value->detach(view);
            store.close(box.value);
        }
    }
    if (why_not != nullptr) *why_not = st;
    if (st != Status::Ok) return false;
    FixedText<kLine> line;
    ResponseWriter r(line);
    r.star().atom("STATUS").mailbox(name).open_list();
    for (std::size_t i = 0; i < atts.count; ++i) {
        const StatusItem item = atts.order[i];
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
            case StatusItem::AppendLimit: r.number(config_.max_append_size); break;
            case StatusItem::Deleted: r.number(deleted); break;
            // In units of 1024 octets, like the STORAGE resource (§5.1).
            case StatusItem::DeletedStorage: r.number((deleted_bytes + 1023) / 1024); break;
        }
    }
    r.close_list().crlf();
    (void)r.append_to(out_);
    return true;
}

void Session::cmd_status(const ParsedCommand& cmd) {
    if (cmd.status.has(StatusItem::MailboxId)) {
        tagged("BAD", "", "STATUS item MAILBOXID is not supported");
        return;
    }
    Status st = Status::Ok;
    if (!write_status(cmd.mailbox, cmd.status, &st)) {
        answer_store(st, "");
        return;
    }
    tagged("OK", "", "STATUS completed");
}

// ---- APPEND, streamed ----------------------------------------------------

namespace {

// Bytes an Append job copies from its staging file into the mailbox per turn
// of the loop (under the mailbox lock): about a millisecond of local I/O.
constexpr std::size_t kAppendCopyPerTurn = 64 * 1024;
// How long an APPEND waits for its mailbox's write turn before it is
// answered NO [INUSE] (a holder stuck that long is reported in the log).
constexpr std::uint64_t kAppendWaitMs = 30000;
// Retry delays while another process holds the mailbox's lock.
constexpr std::uint64_t kAppendRetryFirstMs = 5;
constexpr std::uint64_t kAppendRetryMaxMs = 500;
// Staging file names tried per slot: a<slot>.tmp, a<slot+65536>.tmp, ...
constexpr std::uint32_t kStageNames = 4;
constexpr std::uint32_t kStageNameStride = 65536;

}  // namespace

// Called when APPEND's message literal is announced (RFC 3501 §6.3.11): the
// arguments so far are checked, the mailbox opened and the literal taken as
// a stream into the session's staging file (store::StagedAppend), so the
// message is never held in memory and the mailbox is not locked while the
// client sends it. The copy into the mailbox happens at the end of the
// command (append_finish, run_append_job).
void Session::append_begin() {
    AppendMessage message;
    const SyntaxResult r = append_message_ready(parser_, &message);
    if (r.verdict != SyntaxVerdict::Ok) {
        parser_.refuse_literal();
        abort_append();
        report_syntax(r);
        return;
    }
    const std::uint32_t size = parser_.literal_size();
    if (size == 0) {
        // RFC 3502 §6.3.11: "A zero-length message literal argument is an
        // error, and MUST return a NO"; nothing of the command is kept.
        parser_.refuse_literal();
        abort_append();
        tagged("NO", "", "Empty message");
        return;
    }
    if (size > config_.max_append_size) {
        parser_.refuse_literal();
        abort_append();
        tagged("NO", "TOOBIG", "Message larger than APPENDLIMIT");  // RFC 7889 §4
        return;
    }
    // RFC 9208 §4.3.1: the committed usage plus every reservation of this
    // user's APPENDs in flight (this command's earlier messages included).
    if (!quota_allows(size, 1)) {
        parser_.refuse_literal();
        abort_append();
        tagged("NO", "OVERQUOTA", "The mailbox quota would be exceeded");
        return;
    }
    store::UserStore store(*services_.registry, user_root_.view());
    store::Mailbox* box = append_box_;
    if (box == nullptr) {
        // The first message of the command: open the mailbox and the stage.
        ArgReader args(parser_);
        std::string_view mailbox;
        (void)args.astring(&mailbox);
        Result<store::Mailbox*> opened = store.open(mailbox);
        if (opened.status == Status::Busy && append_retry_later()) return;
        if (!opened.ok()) {
            parser_.refuse_literal();
            if (opened.status == Status::NotFound) {
                tagged("NO", "TRYCREATE", "No such mailbox");  // §6.3.11
            } else {
                answer_store(opened.status, "");
            }
            return;
        }
        box = opened.value;
        // The slot's staging file; one held by another process (a second
        // server on the same mail_dir, same slot) is left to it: try others.
        Status st = Status::Busy;
        std::uint32_t number = slot_;
        for (std::uint32_t k = 0; k < kStageNames && st == Status::Busy; ++k) {
            number = slot_ + k * kStageNameStride;
            st = stage_.open(services_.registry->services(), user_root_.view(), number, box);
        }
        if (st != Status::Ok) {
            parser_.refuse_literal();
            store.close(box);
            FixedText<32> name;
            name.put(" (a").put_uint(number).put(".tmp)");
            log_line(port::LogLevel::Error, "cannot open the APPEND staging file in ",
                     user_root_.view(), name.view());
            answer_store(st, "");
            return;
        }
        append_box_ = box;
    }
    // Every keyword is stored, or the APPEND is refused (RFC 3501 §6.3.11:
    // NO, nothing appended); never a keyword silently dropped.
    std::uint64_t keywords = 0;
    Status kw = keywords_fit(*box, message.flags) ? Status::Ok : Status::Exhausted;
    for (std::size_t i = 0; kw == Status::Ok && i < message.flags.keyword_count; ++i) {
        unsigned bit = 0;
        kw = box->keyword_bit(message.flags.keywords[i], true, &bit);
        if (kw == Status::Busy && append_retry_later()) return;
        if (kw == Status::Ok) keywords |= std::uint64_t{1} << bit;
    }
    if (kw != Status::Ok) {
        parser_.refuse_literal();
        abort_append();
        if (kw == Status::NotFound) {
            tagged("NO", "TRYCREATE", "The mailbox was deleted");  // §6.3.11, DELETEd meanwhile
        } else {
            answer_keyword_error(kw);  // Busy: NO [INUSE], as for the mailbox itself
        }
        return;
    }
    const std::int64_t date =
        message.has_date ? message.date.utc_seconds : services_.clock->wall_seconds();
    const auto zone = static_cast<std::int16_t>(
        message.has_date ? message.date.zone_minutes : services_.clock->utc_offset_minutes(date));
    const Status st = stage_.add(size, message.flags.system, keywords, date, zone);
    if (st != Status::Ok) {
        parser_.refuse_literal();
        abort_append();
        if (st == Status::Exhausted) {
            tagged("NO", "LIMIT", "Too many messages in one APPEND");
        } else {
            answer_store(st, "");
        }
        return;
    }
    if (services_.reservations != nullptr) services_.reservations->reserve(slot_, user(), size, 1);
    append_status_ = Status::Ok;
    parser_.stream_literal();
    if (parser_.literal_sync()) out_.append("+ Ready for the message\r\n");
}

void Session::append_chunk(std::string_view chunk) {
    if (append_box_ == nullptr || append_status_ != Status::Ok) return;
    append_status_ = stage_.write(chunk.data(), chunk.size());
}

// The APPEND command line is complete: the Append job takes the mailbox's
// write turn and copies the staged messages in (RFC 3502 §6.3.11: all of
// them or none); the OK goes out once they are durable.
void Session::append_finish() {
    if (append_box_ == nullptr) return;
    Status st = append_status_;
    if (st == Status::Ok && !stage_.complete()) st = Status::Invalid;
    if (st != Status::Ok) {
        abort_append();
        answer_store(st, "");
        return;
    }
    job_.kind = JobKind::Append;
    job_.waiting_since_ms = now_ms_;
    job_.retry_at_ms = 0;
    append_wait_ = AppendWait::None;
    append_backoff_ms_ = kAppendRetryFirstMs;
    run_append_job();
}

bool Session::append_waiting() const {
    switch (append_wait_) {
        case AppendWait::None: return false;
        case AppendWait::Queued: return !stage_.waiter_woken() && now_ms_ < job_.retry_at_ms;
        case AppendWait::Timer: return now_ms_ < job_.retry_at_ms;
    }
    return false;
}

// Another process holds the mailbox just as a literal is announced: wait
// (reading nothing more: TCP holds the client back) and try again on a timer
// with backoff. False once kAppendWaitMs have passed (the caller refuses).
bool Session::append_retry_later() {
    if (!append_open_waiting_) {
        append_open_waiting_ = true;
        append_open_since_ = now_ms_;
        append_backoff_ms_ = kAppendRetryFirstMs;
    }
    if (now_ms_ - append_open_since_ >= kAppendWaitMs) {
        append_open_waiting_ = false;
        log_line(port::LogLevel::Warning, "APPEND gave up after 30 s: mailbox held by ",
                 "another process");
        return false;
    }
    job_.kind = JobKind::Append;
    append_opening_ = true;
    append_wait_ = AppendWait::Timer;
    job_.retry_at_ms = now_ms_ + append_backoff_ms_;
    append_backoff_ms_ =
        append_backoff_ms_ * 2 < kAppendRetryMaxMs ? append_backoff_ms_ * 2 : kAppendRetryMaxMs;
    return true;
}

void Session::run_append_job() {
    // Not before the wake-up or the timer: the loop may call in earlier.
    if (append_waiting()) return;
    if (append_opening_) {
        // The literal's announcement again (the parser has not moved on).
        job_.kind = JobKind::None;
        append_opening_ = false;
        append_wait_ = AppendWait::None;
        append_begin();
        if (!append_opening_) append_open_waiting_ = false;
        return;
    }
    store::Mailbox* box = append_box_;
    if (box == nullptr) {
        job_.kind = JobKind::None;
        return;
    }
    std::uint32_t first = 0;
    Status error = Status::Ok;
    const store::StagedAppend::Step step = stage_.commit_step(kAppendCopyPerTurn, &first, &error);
    using Step = store::StagedAppend::Step;
    const std::uint64_t give_up_at = job_.waiting_since_ms + kAppendWaitMs;
    switch (step) {
        case Step::More: append_wait_ = AppendWait::None; return;  // again next turn
        case Step::Queued:
        case Step::Locked:
            if (now_ms_ < give_up_at) {
                if (step == Step::Queued) {
                    // Woken when the holder lets go; the deadline bounds it.
                    append_wait_ = AppendWait::Queued;
                    job_.retry_at_ms = give_up_at;
                } else {
                    append_wait_ = AppendWait::Timer;
                    job_.retry_at_ms = now_ms_ + append_backoff_ms_;
                    if (job_.retry_at_ms > give_up_at) job_.retry_at_ms = give_up_at;
                    append_backoff_ms_ = append_backoff_ms_ * 2 < kAppendRetryMaxMs
                                             ? append_backoff_ms_ * 2
                                             : kAppendRetryMaxMs;
                }
                return;
            }
            {
                const std::string_view holder = box->writer();
                log_line(port::LogLevel::Warning, "APPEND gave up after 30 s: mailbox ", box->dir(),
                         " held by ",
                         holder.empty() ? std::string_view("another process") : holder);
            }
            job_.kind = JobKind::None;
            append_wait_ = AppendWait::None;
            abort_append();
            tagged("NO", "INUSE", "Mailbox is busy, try again");
            return;
        case Step::Failed:
            job_.kind = JobKind::None;
            append_wait_ = AppendWait::None;
            abort_append();
            if (error == Status::NotFound) {
                tagged("NO", "TRYCREATE", "The mailbox was deleted");  // §6.3.11
            } else {
                answer_store(error, "");
            }
            return;
        case Step::Done: break;
    }
    job_.kind = JobKind::None;
    append_wait_ = AppendWait::None;
    const std::size_t count = stage_.count();
    const std::uint32_t validity = box->uid_validity();
    abort_append();  // the messages are committed: only the stage and the box go
    // RFC 4315 §3: where the messages went (RFC 3502: a range for several).
    FixedText<64> code;
    code.put("APPENDUID ").put_uint(validity).put(' ').put_uint(first);
    if (count > 1) code.put(':').put_uint(first + count - 1);
    finish_after_sync("OK", code.view(), "APPEND completed");
}

void Session::release_reservation() {
    if (services_.reservations != nullptr) services_.reservations->release(slot_);
}

// Ends an APPEND command: the stage is dropped (a copy not yet committed is
// cut from the mailbox), the mailbox and the quota reservation given back.
void Session::abort_append() {
    release_reservation();
    if (append_box_ == nullptr) return;
    stage_.end_command();
    store::UserStore(*services_.registry, user_root_.view()).close(append_box_);
    append_box_ = nullptr;
}

}  // namespace tinyimapd::imap
