// What the client is told of changes to the selected mailbox (RFC 3501
// §7.3, §7.4.1, RFC 2180): the untagged EXISTS, RECENT, EXPUNGE and FETCH
// FLAGS after a command (sync_selected, run_sync_job), FLAGS and
// PERMANENTFLAGS again when a keyword appears (announce_keywords), and
// QRESYNC's resynchronisation and VANISHED (EARLIER) (RFC 7162 §3.2.5.1,
// §3.2.6). The store keeps what changed (store::SyncVisitor); turning it into
// response lines is this file's work.
#include "core/base/text.h"
#include "core/imap/encoder.h"
#include "core/imap/uid_ranges.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

namespace {

// A VANISHED line: UidRanges::kCapacity ranges of up to 21 bytes each.
constexpr std::size_t kVanishedLine = 32 + UidRanges::kCapacity * 22;
}  // namespace

// A flag list "(\\Seen $Junk ...)"; `tail` ends it inside the parentheses
// (PERMANENTFLAGS' "\\*").
void write_flag_list(FlagLine& w, std::uint8_t flags, std::uint64_t keywords,
                     const store::Mailbox& box, std::string_view tail) {
    struct Name {
        std::uint8_t bit;
        const char* text;
    };
    static constexpr Name kNames[] = {
        {mail::kAnswered, "\\Answered"}, {mail::kFlagged, "\\Flagged"},
        {mail::kDeleted, "\\Deleted"},   {mail::kSeen, "\\Seen"},
        {mail::kDraft, "\\Draft"},       {mail::kRecent, "\\Recent"}};
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
        // Hidden keywords (per-user \Seen) are the server's, never shown.
        const std::string_view name = box.keyword_name(i);
        if ((keywords & (std::uint64_t{1} << i)) != 0 && !store::hidden_keyword(name)) item(name);
    }
    if (!tail.empty()) item(tail);
    w.put(')');
}

// RFC 3501 §7.2.6 FLAGS: "the flags that are applicable for this mailbox",
// said again whenever a keyword is added, before any FETCH names it (clients
// rebuild their keyword lists from it); §7.1 PERMANENTFLAGS: "\\*" only while
// a new keyword can still be created. Each line goes out whole with
// kResponseReserve behind it, or waits.
bool Session::announce_keywords() {
    if (selected_ == nullptr) return true;
    const std::size_t count = selected_->keyword_count();
    // Only hidden names new (another user's first \Seen): nothing to say.
    if (flags_announced_ != kNotAnnounced && only_hidden_keywords(flags_announced_, count)) {
        flags_announced_ = count;
    }
    if (permanent_announced_ != kNotAnnounced &&
        only_hidden_keywords(permanent_announced_, count)) {
        permanent_announced_ = count;
    }
    constexpr std::uint8_t kSystem =
        mail::kAnswered | mail::kFlagged | mail::kDeleted | mail::kSeen | mail::kDraft;
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
        // RFC 4314 §5.1.1: what this user's rights let them set.
        const bool write = (selected_rights_ & store::kRightWrite) != 0;
        const bool can_create = write && count < store::kMaxKeywords;
        FlagLine w;
        w.put("* OK [PERMANENTFLAGS ");
        write_flag_list(w, MailboxRef::flag_mask_of(selected_rights_),
                        write ? ~std::uint64_t{0} : 0, *selected_, can_create ? "\\*" : "");
        w.put(can_create || !write ? "] Flags permitted\r\n"
                                   : "] No more keywords in this mailbox\r\n");
        if (out_.room() < w.size() + kResponseReserve) return false;
        (void)out_.append(w.view());
        permanent_announced_ = count;
    }
    return true;
}

// True when the keywords registered from `from` to `to` are all hidden.
bool Session::only_hidden_keywords(std::size_t from, std::size_t to) const {
    if (from > to) return false;
    for (std::size_t i = from; i < to; ++i) {
        if (!store::hidden_keyword(selected_->keyword_name(i))) return false;
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
    ResyncJob& job = job_.start<ResyncJob>(JobKind::Resync);
    job.walk.uid = !p.known_uids.empty();
    job.walk.set = p.known_uids;
    job.walk.largest_uid = UINT32_MAX;
    job.seq = 1;
    job.since_modseq = p.modseq;
}

// "* n FETCH (UID u FLAGS (...) MODSEQ (m))" for each (known) message with
// a higher mod-sequence (RFC 7162 §3.2.5.1; also after a change report that
// overflowed the store's ring), as room allows; then the deferred tagged line.
void Session::run_resync_job() {
    ResyncJob& job = job_.get<ResyncJob>();
    const std::uint32_t max_uid = selected_->uid_next() - 1;
    for (; job.seq <= view_.exists; ++job.seq) {
        if (!announce_keywords()) return;  // FLAGS before a FETCH names a keyword
        store::MessageInfo m;
        if (selected_->message(view_, job.seq, &m) != Status::Ok) break;
        if (m.modseq <= job.since_modseq) continue;
        user_flags(&m);
        if (job.walk.uid ? !job.walk.set.contains(m.uid, max_uid) : m.uid > job.walk.largest_uid) {
            continue;
        }
        FlagLine w;
        w.put("* ").put_uint(job.seq).put(" FETCH (UID ").put_uint(m.uid).put(" FLAGS ");
        write_flag_list(w, wire_flags(m.flags), m.keywords, *selected_);
        if (condstore_) w.put(" MODSEQ (").put_uint(m.modseq).put(')');
        w.put(")\r\n");
        if (out_.room() < w.size() + kResponseReserve) return;  // more next turn
        (void)out_.append(w.view());
    }
    if (!announce_keywords()) return;
    // RFC 5267 §4.3.3: the contexts' ADDTO/REMOVEFROM after these FETCHes.
    if (!update_contexts()) return;
    if (out_.room() < deferred_.size()) return;  // the tagged line goes whole
    job_.end();
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
        out_.append_reserved(w.view());  // room was checked before each UID
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

// ---- changes seen by this session (RFC 3501 §7.3, §7.4.1, RFC 2180) -------

namespace {

class SyncWriter final : public store::SyncVisitor {
public:
    // `vanished`: expunges as RFC 7162 §3.2.10.2 VANISHED (QRESYNC enabled);
    // `modseq`: unsolicited FETCH carries MODSEQ (CONDSTORE enabled, §3.1.4).
    // `announced`: the keywords the client was told of (FLAGS); a change
    // that names a later one waits for the next round, which announces it.
    SyncWriter(OutBuffer& out, store::Mailbox& box, store::View& view, bool vanished, bool modseq,
               std::size_t announced, bool rev2, SearchContext* const* contexts,
               const SeenView& seen)
        : out_(out),
          box_(box),
          view_(view),
          before_(view.exists),
          vanished_(vanished),
          modseq_(modseq),
          announced_(announced),
          rev2_(rev2),
          contexts_(contexts),
          seen_(seen) {}
    // Each report is taken only while the output keeps kResponseReserve free
    // behind it (the EXISTS/RECENT lines and the tagged response); the rest
    // waits for the next round (Session's Sync job).
    // RFC 5267 §4.3.4: the contexts' REMOVEFROM before the message's
    // EXPUNGE (or VANISHED), all or nothing.
    bool expunged(std::uint32_t seq, std::uint32_t uid) override {
        FixedText<kSearchContexts*(kMaxTagLength + 64)> removals;
        context_removals(contexts_, seq, uid, removals);
        if (vanished_) {
            // Room for the VANISHED line this UID may have to be written in.
            if (out_.room() < removals.size() + kVanishedLine + kResponseReserve) return false;
            (void)out_.append(removals.view());
            contexts_expunged(contexts_);
            if (!gone_.add(uid)) {
                finish();
                (void)gone_.add(uid);
            }
            ++expunges_;
            return true;
        }
        FixedText<64> w;
        w.put("* ").put_uint(seq).put(" EXPUNGE\r\n");
        if (out_.room() < removals.size() + w.size() + kResponseReserve) return false;
        (void)out_.append(removals.view());
        (void)out_.append(w.view());
        contexts_expunged(contexts_);
        ++expunges_;
        return true;
    }
    void exists(std::uint32_t count, std::uint32_t recent) override {
        finish();
        // Each EXPUNGE already told the client the count went down.
        if (count == before_ - expunges_) return;
        FixedText<64> w;
        w.put("* ").put_uint(count).put(" EXISTS\r\n");
        // RFC 9051 Appendix E.12: no RECENT for an IMAP4rev2 session.
        if (!rev2_) w.put("* ").put_uint(recent).put(" RECENT\r\n");
        out_.append_reserved(w.view());  // within the reserve
    }
    bool flags_changed(std::uint32_t seq, std::uint32_t uid) override {
        finish();
        store::MessageInfo m;
        if (box_.message(view_, seq, &m) != Status::Ok) return true;
        seen_.apply(&m.flags, &m.keywords);  // this user's \Seen, no hidden names
        if (announced_ < store::kMaxKeywords && (m.keywords >> announced_) != 0) return false;
        FlagLine w;
        w.put("* ").put_uint(seq).put(" FETCH (UID ").put_uint(uid).put(" FLAGS ");
        const auto shown = static_cast<std::uint8_t>(rev2_ ? m.flags & ~mail::kRecent : m.flags);
        write_flag_list(w, shown, m.keywords, box_);
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
    bool rev2_;  // RFC 9051: no RECENT, no \\Recent
    std::uint64_t unknown_since_ = UINT64_MAX;
    std::uint32_t unknown_max_uid_ = 0;
    UidRanges gone_;
    SearchContext* const* contexts_;
    const SeenView& seen_;
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
    SyncWriter writer(out_, *selected_, view_, qresync_, condstore_, flags_announced_, rev2_,
                      contexts_, seen_view());
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
    if (st != Status::Ok) return true;
    // RFC 5267 §4.3.3: ADDTO after the EXISTS and FETCH it follows (after
    // the flag scan's FETCHes when the ring overflowed: run_resync_job).
    return complete && (flag_scan_since_ != UINT64_MAX || update_contexts());
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
    job_.start<SyncJob>(JobKind::Sync);
    if (complete) start_flag_scan();
}

// More flag changes than the store's change ring holds: every message with
// a higher modseq is reported (RFC 3501 §7.4.2), by the Resync job.
void Session::start_flag_scan() {
    ResyncJob& job = job_.start<ResyncJob>(JobKind::Resync);
    job.walk.uid = false;
    job.seq = 1;
    job.since_modseq = flag_scan_since_;
    job.walk.largest_uid = flag_scan_max_uid_;
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
        job_.end();
        return;
    }
    if (flag_scan_since_ != UINT64_MAX) {
        start_flag_scan();
        return;
    }
    if (out_.room() < deferred_.size()) return;  // the tagged line goes whole
    job_.end();
    (void)out_.append(deferred_.view());
}

}  // namespace tinyimapd::session
