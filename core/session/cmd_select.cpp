// SELECT and EXAMINE (RFC 3501 §6.3.1-2, with CONDSTORE and QRESYNC, RFC
// 7162 §3.1.8, §3.2.5), CLOSE (§6.4.2) and UNSELECT (RFC 3691), and opening
// the user's store on the first command that needs it.
#include "core/base/text.h"
#include "core/imap/encoder.h"
#include "core/imap/object_id.h"
#include "core/mail/mailbox_name.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

namespace {

constexpr std::size_t kLine = kMaxUntaggedLine;
// UIDs taken per EXPUNGE round in CLOSE.
constexpr std::size_t kExpungeBatch = 64;
}  // namespace

// ---- the user's store ----------------------------------------------------

bool Session::open_user_store(std::uint8_t* defaults, bool* new_root) {
    user_root_.clear();
    FixedText<port::kMaxPath> root;
    root.put(services_.mail_dir).put('/').put({user_, user_length_});
    if (services_.registry == nullptr || !root.ok() || !user_root_.assign(root.view())) {
        return false;
    }
    // mail_dir itself may not exist yet on a fresh appliance.
    (void)services_.registry->services().fs.mkdir(services_.mail_dir);
    store::UserStore store(*services_.registry, user_root_.view());
    bool created = false, inbox_missing = false;
    const Status st = store.ensure(&created, &inbox_missing, new_root);
    if (st != Status::Ok) {
        log_line(port::LogLevel::Error,
                 "cannot open the mail store of user=", {user_, user_length_}, " at ",
                 user_root_.view());
        return false;
    }
    // Staging files a crash left behind (none is in use by anyone: locked).
    store::remove_stale_stages(services_.registry->services(), user_root_.view());
    *defaults = created ? next_default_mailbox(0) : kNoDefaults;
    if (inbox_missing) *defaults = created ? kInboxThenDefaults : kInboxOnly;
    return true;
}

// A first login makes INBOX (RFC 3501 §5.1: every user has one) and, RFC
// 6154, Sent, Drafts, Trash, Junk, Archive (names from the configuration),
// marked with their special use: one after the other by TreeJobs before
// LOGIN's OK (finish_tree_job), so their flushes, like CREATE's, run on the
// I/O threads. The user's directory itself is made by UserStore::ensure,
// and the sync of its entry is a TreeJob too, before them
// (start_root_sync): the first login syncs nothing on the loop's thread.
std::uint8_t Session::next_default_mailbox(std::uint8_t from) const {
    constexpr std::uint8_t n =
        sizeof config_.special_mailboxes / sizeof config_.special_mailboxes[0];
    for (std::uint8_t i = from; i < n; ++i) {
        const SessionConfig::SpecialMailbox& m = config_.special_mailboxes[i];
        if (!m.name.empty() && mail::is_valid_mailbox_name(m.name)) return i;
    }
    return kNoDefaults;
}

void Session::start_root_sync(std::uint8_t then) {
    start_tree_job(store::TreeOp::Kind::Root, {});
    job_.get<TreeJob>().login_default = then;
    run_tree_job();
}

void Session::start_default_mailbox(std::uint8_t index) {
    const bool inbox = index == kInboxOnly || index == kInboxThenDefaults;
    const SessionConfig::SpecialMailbox& m = config_.special_mailboxes[inbox ? 0 : index];
    start_tree_job(store::TreeOp::Kind::Create, inbox ? std::string_view("INBOX") : m.name);
    TreeJob& job = job_.get<TreeJob>();
    job.op.use = inbox ? 0 : m.use;
    job.login_default = index;
    run_tree_job();
}

// One made (or not: logged, and the login goes on without it); then the
// next, or LOGIN's OK.
void Session::default_mailbox_done(const store::TreeOp& op, std::uint8_t index, Status st) {
    const bool root = op.kind == store::TreeOp::Kind::Root;
    if (root && st == Status::Ok) {  // the new root is durable: then the mailboxes
        return index != kNoDefaults ? start_default_mailbox(index) : logged_in();
    }
    const bool inbox = index == kInboxOnly || index == kInboxThenDefaults;
    if ((root || inbox) && st != Status::Ok && st != Status::Exists) {
        log_line(port::LogLevel::Error, "cannot create INBOX for user=", {user_, user_length_},
                 " at ", user_root_.view());
        state_ = SessionState::NotAuthenticated;
        user_length_ = 0;
        user_root_.clear();
        return tagged("NO", "UNAVAILABLE", "The mail store is not available; try again later");
    }
    if (index == kInboxOnly) return logged_in();
    if (!inbox && st != Status::Ok && st != Status::Exists) {
        log_line(port::LogLevel::Warning, "cannot create mailbox ", op.name,
                 " for user=", {user_, user_length_});
    }
    const std::uint8_t next =
        next_default_mailbox(inbox ? 0 : static_cast<std::uint8_t>(index + 1));
    if (next != kNoDefaults) return start_default_mailbox(next);
    logged_in();
}

// ---- SELECT / EXAMINE / CLOSE / UNSELECT ------------------------------------

void Session::deselect() {
    if (selected_ == nullptr) return;
    // A STORE or COPY job cut short (the connection ended): nothing of it
    // was acknowledged, so nothing of it is kept.
    release_job_store();
    flag_scan_since_ = UINT64_MAX;
    vanished_.pending = false;
    saved_result_.clear();          // RFC 5182 §2.1: "$" belongs to the mailbox
    if (notify_ != nullptr) notify_->fetched_box = nullptr;  // RFC 5465 §5.2: counted again
    drop_contexts();                // RFC 5267 §4.3: updates end with the selection
    selected_->detach(view_);
    store::UserStore(*services_.registry, user_root_.view()).close(selected_);
    selected_ = nullptr;
    seen_ = SeenView{};
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
    MailboxRef ref;  // RFC 4314 §4: r to open it; read-only without a right to change it
    if (!resolve_for(cmd.mailbox, store::kRightRead, &ref)) return;
    read_only = read_only || !ref.writable();
    store::UserStore store(*services_.registry, ref.root.view());
    Result<store::Mailbox*> r = store.open(ref.name);
    if (r.status == Status::WouldBlock && retry_later()) {
        // Another session's CREATE of it is being made durable
        // (Registry::hold_commit): a few milliseconds.
        wait_select(read_only);
        return;
    }
    if (!r.ok()) {
        answer_store(r.status, "");
        return;
    }
    if (!r.value->ready()) {
        select_later(r.value, read_only);
        return;
    }
    job_.waiting_since_ms = job_.retry_at_ms = 0;
    selected_ = r.value;
    selected_access(ref);  // RFC 4314 §5.1.1 rights, §4 whose \Seen (cmd_seen.cpp)
    selected_->attach(view_, read_only);
    saved_result_.clear();  // RFC 5182 §2.1: reset by SELECT and EXAMINE
    state_ = SessionState::Selected;

    // FLAGS and PERMANENTFLAGS (read-write): now if they fit with the
    // reserve behind them, else before the tagged line (a Sync job).
    flags_announced_ = permanent_announced_ = kNotAnnounced;
    (void)announce_keywords();
    if (read_only) untagged("OK [PERMANENTFLAGS ()] No permanent flags in read-only mode");
    select_counts(cmd.mailbox);
    FixedText<kLine> w;
    w.put("OK [UIDVALIDITY ").put_uint(selected_->uid_validity()).put("] UIDs valid");
    untagged(w.view());
    w.clear();
    w.put("OK [UIDNEXT ").put_uint(selected_->uid_next()).put("] Predicted next UID");
    untagged(w.view());
    w.clear();  // RFC 8474 §4.2: every SELECT and EXAMINE names the MAILBOXID
    w.put("OK [MAILBOXID (");
    imap::put_object_id(w, imap::kMailboxIdPrefix, selected_->mailbox_id());
    w.put(")] Ok");
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
    const std::string_view text =
        cmd.id == CommandId::Examine ? "EXAMINE completed" : "SELECT completed";
    if (job_.kind() == JobKind::Resync) {
        defer_tagged("OK", code, text);
        run_job();
        return;
    }
    if (!announce_keywords()) {
        defer_tagged("OK", code, text);
        job_.start<SyncJob>(JobKind::Sync);
        return;  // run_job() once the output drains
    }
    tagged("OK", code, text);
}

// SELECT's EXISTS; for IMAP4rev1 RECENT and [UNSEEN] (RFC 3501 §6.3.1), for
// IMAP4rev2 the mailbox's LIST instead (RFC 9051 §6.3.2: "MUST return a LIST
// response with the mailbox name", its attributes those LIST gives; RECENT
// and UNSEEN are deprecated, Appendix E.11-12).
void Session::select_counts(std::string_view name) {
    FixedText<kLine> w;
    w.put_uint(view_.exists).put(" EXISTS");
    untagged(w.view());
    if (rev2_) {
        MailboxRef ref;  // its owner's tree (RFC 4314 other users' namespace)
        if (resolve_mailbox(name, &ref) != Status::Ok) (void)ref.root.assign(user_root_.view());
        store::UserStore store(*services_.registry, ref.root.view());
        // Room for the longest name quoted with every byte escaped.
        FixedText<kLine + kWireName> line;
        ResponseWriter r(line);
        r.atom("LIST").open_list();
        r.atom(store.mailbox_has_children(ref.name) ? "\\HasChildren" : "\\HasNoChildren");
        special_use_atoms(r, store.special_use(ref.name));
        FixedText<mail::kMaxMailboxName> canonical;  // "INBOX" as INBOX is written
        mail::normalize_mailbox(name, canonical);
        FixedText<kWireName> wire;
        r.close_list().string("/").mailbox(wire_name(canonical.view(), wire));
        if (r.ok()) untagged(line.view());
        return;
    }
    w.clear();
    w.put_uint(selected_->recent_count(view_)).put(" RECENT");
    untagged(w.view());
    const std::uint32_t unseen = user_first_unseen();
    if (unseen != 0) {
        w.clear();
        w.put("OK [UNSEEN ").put_uint(unseen).put("] First unseen message");
        untagged(w.view());
    }
}

// The list of expunged runs overflowed while the mailbox was closed:
// sequence numbers are known once the compaction that opening started has
// ended (in steps, between turns of the loop; other clients are answered
// meanwhile). The command waits and is run again then (run_select_job).
void Session::select_later(store::Mailbox* box, bool read_only) {
    const bool running = box->compacting();
    store::UserStore(*services_.registry, user_root_.view()).close(box);
    if (running && retry_later()) {
        wait_select(read_only);
        return;
    }
    job_.waiting_since_ms = job_.retry_at_ms = 0;
    tagged("NO", "UNAVAILABLE", "Mailbox is being compacted; try again later");
}

// SELECT or EXAMINE waits for the timer retry_later() set (start() clears
// it: the wait goes on) and runs again then (run_select_job).
void Session::wait_select(bool read_only) {
    const std::uint64_t since = job_.waiting_since_ms, retry = job_.retry_at_ms;
    job_.start<SelectJob>(JobKind::Select).read_only = read_only;
    job_.waiting_since_ms = since;
    job_.retry_at_ms = retry;
}

// The SELECT/EXAMINE whose mailbox was not ready, again (its arguments are
// still in the parser, which is not fed while a job runs).
void Session::run_select_job() {
    const bool read_only = job_.get<SelectJob>().read_only;
    job_.end();  // the timer stays: cmd_select may wait again (select_later)
    ParsedCommand cmd{ArgReader(parser_)};
    if (!check_syntax(&cmd)) return;  // it passed once: cannot happen
    cmd_select(cmd, read_only);
}

// CLOSE's expunge needs the mailbox's write turn: while another session's
// transaction holds it (a STORE group being flushed, an APPEND, a \Recent
// commit) CLOSE waits, woken when it is let go (or after a retry timer), and
// runs again then; it is never refused because another session is busy.
// True: the turn is ours now.
bool Session::close_turn() {
    const bool ready = store_turn(true) == store::Mailbox::Turn::Ready;
    if (ready) {
        leave_store_turn();
        job_.waiting_since_ms = job_.retry_at_ms = 0;
        return true;
    }
    if (retry_later()) {
        // start() clears the timer retry_later() set: the wait goes on.
        const std::uint64_t since = job_.waiting_since_ms, retry = job_.retry_at_ms;
        job_.start<CloseJob>(JobKind::Close);
        job_.waiting_since_ms = since;
        job_.retry_at_ms = retry;
        return false;
    }
    leave_store_turn();
    tagged("NO", "INUSE", "Mailbox in use; try again later");
    return false;
}

void Session::run_close_job() {
    job_.end();  // the timer stays: cmd_close may wait again
    cmd_close(true);
}

// RFC 3501 §6.4.2: CLOSE expunges silently (no untagged EXPUNGE) when the
// mailbox is read-write; RFC 3691 UNSELECT never expunges.
void Session::cmd_close(bool expunge) {
    // RFC 4314 §4: without e, CLOSE closes without expunging, and says OK.
    const bool purge =
        expunge && !view_.read_only && (selected_rights_ & store::kRightExpunge) != 0;
    if (purge && !close_turn()) return;
    if (purge) {
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

}  // namespace tinyimapd::session
