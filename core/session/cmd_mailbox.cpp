// The mailbox commands of the authenticated state over the flat-file store
// (core/store): CREATE DELETE RENAME (RFC 3501 §6.3.3-5, RFC 6154 USE),
// SUBSCRIBE UNSUBSCRIBE (§6.3.6-7), LIST LSUB (§6.3.8-9, RFC 5258
// LIST-EXTENDED, RFC 6154 special-use) and STATUS (§6.3.10).
#include "core/base/text.h"
#include "core/imap/encoder.h"
#include "core/imap/object_id.h"
#include "core/session/session.h"
#include "core/store/name_map.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

namespace {

constexpr std::size_t kLine = kMaxUntaggedLine;
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
        case Status::WouldBlock:  // a CREATE's commit not durable yet (Registry::hold_commit)
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
    if ((cmd.create_use & (mail::kUseAll | mail::kUseFlagged)) != 0) {
        tagged("NO", "USEATTR", "\\All and \\Flagged mailboxes are not supported");
        return;
    }
    if (cmd.create_use_unknown) {
        tagged("NO", "USEATTR", "Unknown special-use attribute");
        return;
    }
    // RFC 4314 §4: k on the nearest existing parent, in the owner's tree.
    MailboxRef ref;
    Status access = resolve_mailbox(name, &ref);
    if (access == Status::Ok && !ref.own) access = parent_rights(name, ref, store::kRightCreate);
    if (access != Status::Ok) return answer_access(access);
    start_tree_job(store::TreeOp::Kind::Create, ref.name, {}, ref.owner_name);
    job_.get<TreeJob>().op.use = cmd.create_use;
    run_tree_job();
}

// RFC 2180 §3.3: DELETE goes through while sessions have the mailbox
// selected. The others end with "* BYE Selected mailbox was deleted, have to
// disconnect" (Dovecot's words) at their next command or IDLE beat; this
// session, if it had it selected, is told "* OK [CLOSED]" (RFC 7162
// §3.2.11) and is back in the authenticated state (RFC 3501 §3).
void Session::cmd_delete(const ParsedCommand& cmd) {
    MailboxRef ref;  // RFC 4314 §4: x on the mailbox
    if (!resolve_for(cmd.mailbox, store::kRightDelete, &ref)) return;
    start_tree_job(store::TreeOp::Kind::Remove, ref.name, {}, ref.owner_name);
    run_tree_job();
}

// RFC 2180 §3.4: sessions with the mailbox (or a child) selected keep it
// under the new name. RENAME INBOX replaces INBOX's files: sessions that
// had INBOX selected are ended (BYE) like after a rewrite; this session is
// told "* OK [CLOSED]" and is back in the authenticated state.
void Session::cmd_rename(const ParsedCommand& cmd) {
    if (refuse_wildcard_name(cmd.mailbox2)) return;
    // RFC 4314 §4: x on the mailbox, k on the new parent; within one tree.
    MailboxRef from, to;
    if (!resolve_for(cmd.mailbox, store::kRightDelete, &from)) return;
    Status access = resolve_mailbox(cmd.mailbox2, &to);
    if (access == Status::Ok && to.owner.view() != from.owner.view()) {
        return tagged("NO", "CANNOT", "Mailboxes cannot move between users");
    }
    if (access == Status::Ok && !to.own) {
        access = parent_rights(cmd.mailbox2, to, store::kRightCreate);
    }
    if (access != Status::Ok) return answer_access(access);
    start_tree_job(store::TreeOp::Kind::Rename, from.name, to.name, from.owner_name);
    run_tree_job();
}

void Session::cmd_subscribe(const ParsedCommand& cmd, bool on) {
    start_tree_job(on ? store::TreeOp::Kind::Subscribe : store::TreeOp::Kind::Unsubscribe,
                   cmd.mailbox);
    run_tree_job();
}

// The tree operations are jobs (TreeJob): each step goes as far as the
// store can without waiting for a flush; at a durability barrier the flush
// goes to the I/O threads and the job waits for it (flush_completed), while
// the loop serves the other clients (docs/STORAGE.md "Flushes leave the
// loop"). The tagged OK goes out once the operation is durable.
void Session::start_tree_job(store::TreeOp::Kind kind, std::string_view a, std::string_view b,
                             std::string_view owner) {
    TreeJob& job = job_.start<TreeJob>(JobKind::Tree, kind, a, b);
    job.op.async = true;
    job.op.turn = &store_turn_;  // RENAME INBOX waits for INBOX's write turn
    job.owner = owner;
}

void Session::run_tree_job() {
    if (job_waiting()) return;  // for its flush, or for the tree lock (timer)
    job_.retry_at_ms = 0;
    store::TreeOp& op = job_.get<TreeJob>().op;
    op.token = (std::uint64_t{slot_} << 32) | ++flush_count_;
    const FixedString<port::kMaxPath> root = root_of(job_.get<TreeJob>().owner);
    const Status st = store::UserStore(*services_.registry, root.view()).step(op);
    if (st == Status::WouldBlock) {
        if (op.pending) {  // flush_completed goes on
            flush_token_ = op.token;
            flush_box_ = nullptr;
        }
        return;  // else a bounded step of RENAME INBOX's copy: more next turn
    }
    // The tree lock is another session's (its operation waits for a flush)
    // or another process's, or RENAME INBOX waits for INBOX's write turn
    // (woken when it is let go) or lock: wait for it on a timer.
    if (st == Status::Busy && (op.phase == 0 || op.queued) && retry_later()) return;
    if (op.queued) store::UserStore(*services_.registry, root.view()).abort(op);
    job_.waiting_since_ms = job_.retry_at_ms = 0;
    finish_tree_job(st);
}

// The answer of a finished tree operation (its job ends first; the
// command's names are still in the parser).
void Session::finish_tree_job(Status st) {
    const TreeJob job = job_.get<TreeJob>();
    job_.end();
    const store::TreeOp& op = job.op;
    // RFC 5465 events under the tree owner's names (RFC 4314: another
    // user's sessions translate them, cmd_notify_shared.cpp).
    auto post = [&](NotifyEvents::Kind kind, std::string_view name, std::string_view old = {}) {
        notify_post(kind, name, old, job.owner);
    };
    if (job.login_default != kNoDefaults || op.kind == store::TreeOp::Kind::Root) {
        return default_mailbox_done(op, job.login_default, st);
    }
    switch (op.kind) {
        case store::TreeOp::Kind::Create: {
            if (st != Status::Ok) return answer_store(st, "");
            // RFC 8474 §4.1: every successful CREATE names the new MAILBOXID.
            FixedText<32> code;
            code.put("MAILBOXID (");
            imap::put_object_id(code, imap::kMailboxIdPrefix, op.mailbox_id);
            code.put(')');
            post(NotifyEvents::Kind::Created, op.name);  // RFC 5465 §5.4
            return tagged("OK", code.view(), "CREATE completed");
        }
        case store::TreeOp::Kind::Remove:
            if (st == Status::Ok && selected_ != nullptr && view_.invalidated) {
                deselect();
                untagged("OK [CLOSED] The selected mailbox was deleted");
            }
            if (st == Status::Ok) post(NotifyEvents::Kind::Deleted, op.name);  // RFC 5465 §5.4
            return answer_store(st, "DELETE completed");
        case store::TreeOp::Kind::Rename:
            if (st == Status::Ok && mail::is_inbox(op.name) && selected_ != nullptr &&
                view_.invalidated) {
                deselect();
                untagged("OK [CLOSED] INBOX was emptied into the new mailbox");
            }
            // RFC 5465 §5.4: the new name with OLDNAME; RENAME INBOX makes a
            // new mailbox and leaves INBOX (no event for INBOX).
            if (st == Status::Ok && mail::is_inbox(op.name)) {
                post(NotifyEvents::Kind::Created, op.to);
            } else if (st == Status::Ok) {
                post(NotifyEvents::Kind::Renamed, op.to, op.name);
            }
            return answer_store(st, "RENAME completed");
        default: {
            const bool on = op.kind == store::TreeOp::Kind::Subscribe;
            if (st == Status::Ok) {  // RFC 5465 §5.5
                post(on ? NotifyEvents::Kind::Subscribed : NotifyEvents::Kind::Unsubscribed,
                            op.name);
            }
            return answer_store(st, on ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
        }
    }
}

// ---- LIST / LSUB ---------------------------------------------------------

namespace {

// A LIST pattern in modified UTF-7 (store_pattern): 1 KiB of UTF-8 at most
// (longer ones match nothing), whose modified UTF-7 is at most 5/2 as long
// ("&AOk-" for the 2 bytes of "é").
constexpr std::size_t kStorePattern = 3 * 1024;

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
    ListJob& job = job_.start<ListJob>(JobKind::List, cmd.patterns);
    job.reference = cmd.mailbox;
    job.pattern_count = cmd.pattern_count;
    job.options = opts;
    job.status = cmd.list_status;
    job.lsub = lsub;
    job.find = find;
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
            if (line.size() <= parent.size() || line[parent.size()] != mail::kHierarchyDelimiter ||
                ascii::head(line, parent.size()) != parent) {
                return true;
            }
            first = line == name;
            return false;
        };
        store::ListFn<decltype(find)> v(find);
        (void)store.list_subscribed("", "*", v);
        return first;
    };
    auto each = [&](std::string_view name, std::uint8_t) {
        for (std::size_t i = 1; i < name.size(); ++i) {
            if (name[i] != mail::kHierarchyDelimiter) continue;
            const std::string_view parent = ascii::head(name, i);
            if (!store::match_pattern(pattern, parent) || store.is_subscribed(parent) ||
                !first_below(parent, name)) {
                continue;
            }
            if (!entry(parent, store::kNoselect, false)) return false;
        }
        return true;
    };
    store::ListFn<decltype(each)> v(each);
    return store.list_subscribed("", "*", v);
}

}  // namespace

// One round of LIST's walk: its position, shared by the visitors of every
// pattern.
struct Session::ListRound {
    store::UserStore& store;
    std::size_t seen = 0;           // entries of this walk so far
    std::size_t pattern_index = 0;  // the pattern being walked
    bool full = false;              // the output is full: stop, go on next round
};

// RFC 5258 §3: each mailbox once, even when several patterns match: true if
// a pattern before the current one matched `name`.
bool Session::listed_earlier(const ListRound& round, std::string_view name) const {
    ArgReader earlier = list_job().patterns;
    for (std::size_t i = 0; i < round.pattern_index; ++i) {
        std::string_view p;
        if (!earlier.string(&p)) (void)earlier.atom(&p);
        FixedText<kStorePattern> converted;
        if (!store_pattern(p, converted, &p)) continue;
        FixedText<2 * mail::kMaxMailboxName + 2> joined;
        if (joined_pattern(list_job().reference, p, joined) &&
            store::match_pattern(joined.view(), name)) {
            return true;
        }
    }
    return false;
}

// Writes one LIST/LSUB (or FIND's MAILBOX) line, and STATUS after it when
// asked (RFC 5819 §2); false when the output has no room for it.
void Session::special_use_atoms(ResponseWriter& r, std::uint8_t uses) {
    for (std::uint8_t bit = 1; bit != 0; bit = static_cast<std::uint8_t>(bit << 1)) {
        if ((uses & bit) != 0) r.atom(mail::special_use_name(bit));
    }
}

bool Session::write_list_line(std::string_view name, std::uint8_t attrs, std::uint8_t uses,
                              bool childinfo) {
    const ListJob& job = list_job();
    const std::uint16_t opts = job.options;
    const bool return_status = (opts & kListReturnStatus) != 0;
    FixedText<kLine> line;
    ResponseWriter r(line);
    FixedText<kWireName> wire;  // RFC 6855 §3: UTF-8 names for UTF8=ACCEPT
    if (job.find) {
        // RFC 2062 §7.2.OBS.1: the name alone.
        r.star().atom("MAILBOX").mailbox(wire_name(name, wire)).crlf();
        if (!r.ok() || out_.room() < line.size() + kResponseReserve) return false;
        (void)r.append_to(out_);
        return true;
    }
    r.star().atom(job.lsub ? "LSUB" : "LIST").open_list();
    if (attrs & store::kNonExistent && !job.lsub) {
        r.atom("\\NonExistent");
    } else if (attrs & store::kNoselect) {
        r.atom("\\Noselect");
    }
    if (attrs & store::kHasChildren) r.atom("\\HasChildren");
    if (attrs & store::kHasNoChildren) r.atom("\\HasNoChildren");
    if (!job.lsub && (attrs & store::kSubscribed) &&
        (opts & (kListSubscribed | kListReturnSubscribed)) != 0) {
        r.atom("\\Subscribed");
    }
    special_use_atoms(r, uses);
    r.close_list().string("/").mailbox(wire_name(name, wire));
    if (childinfo) {
        // RFC 5258 §3.5: not subscribed itself, but a child is.
        r.open_list().string("CHILDINFO").open_list().string("SUBSCRIBED");
        r.close_list().close_list();
    }
    r.crlf();
    const std::size_t status_room = return_status ? kLine : 0;
    if (!r.ok() || out_.room() < line.size() + status_room + kResponseReserve) return false;
    (void)r.append_to(out_);
    if (return_status && !(attrs & store::kNoselect)) write_status(name, job.status);
    return true;
}

// One entry the walk found; false stops the walk (output full).
bool Session::list_entry(ListRound& round, std::string_view name, std::uint8_t attrs,
                         bool childinfo) {
    const std::uint16_t opts = list_job().options;
    const bool select_subscribed = (opts & kListSubscribed) != 0;
    if (listed_earlier(round, name)) return true;
    const std::uint8_t uses = (attrs & store::kNoselect) ? 0 : round.store.special_use(name);
    if ((opts & kListSpecialUseSel) != 0 && uses == 0) return true;
    if (round.seen++ < list_job().sent) return true;  // sent by an earlier round
    if (!list_job().lsub && !select_subscribed && (opts & kListReturnSubscribed) != 0 &&
        round.store.is_subscribed(name)) {
        attrs |= store::kSubscribed;
    }
    if (select_subscribed && (opts & kListReturnChildren) != 0 && !(attrs & store::kNonExistent)) {
        attrs |=
            round.store.mailbox_has_children(name) ? store::kHasChildren : store::kHasNoChildren;
    }
    if (!write_list_line(name, attrs, uses, childinfo)) {
        round.full = true;
        return false;
    }
    ++list_job().sent;
    return true;
}

// Walks the mailboxes (or subscriptions) one pattern matches.
Status Session::list_pattern(ListRound& round, std::string_view pattern) {
    const ListJob& job = list_job();
    store::UserStore& store = round.store;
    const bool recursive = (job.options & kListRecursiveMatch) != 0;
    FixedText<2 * mail::kMaxMailboxName + 2> joined;
    (void)joined_pattern(job.reference, pattern, joined);
    auto entry = [&](std::string_view name, std::uint8_t attrs, bool childinfo) {
        return list_entry(round, name, attrs, childinfo);
    };
    if (!job.lsub && (job.options & kListSubscribed) == 0) {
        auto all = [&](std::string_view name, std::uint8_t attrs) {
            return entry(name, attrs, false);
        };
        store::ListFn<decltype(all)> v(all);
        const Status st = store.list(job.reference, pattern, v);
        // RFC 2342, RFC 4314 §4: then what other users let this one see.
        if (st != Status::Ok || round.full || job.lsub || job.find) return st;
        return list_others(joined.view(), v);
    }
    // RFC 5258 §3.5: with RECURSIVEMATCH, CHILDINFO marks a mailbox with a
    // subscribed descendant that this listing does not show.
    auto subscribed = [&](std::string_view name, std::uint8_t attrs) {
        attrs = subscribed_attrs(name, attrs);  // another user's: from their tree (RFC 4314)
        return entry(name, attrs, recursive && store.has_subscribed_child(name, joined.view()));
    };
    store::ListFn<decltype(subscribed)> v(subscribed);
    Status st = store.list_subscribed(job.reference, pattern, v);
    if (st == Status::Ok && job.lsub && !round.full &&
        pattern.find('%') != std::string_view::npos) {
        st = list_unsubscribed_parents(store, joined.view(), entry);
    }
    if (st != Status::Ok || !recursive || round.full) return st;
    auto parents = [&](std::string_view name, std::uint8_t attrs) {
        if (store.is_subscribed(name) || !store.has_subscribed_child(name, joined.view())) {
            return true;
        }
        return entry(name, attrs & (store::kNoselect), true);
    };
    store::ListFn<decltype(parents)> pv(parents);
    return store.list(job.reference, pattern, pv);
}

// One round of a LIST: walks the tree again, skips the entries earlier
// rounds sent and writes what fits. The walk order is the directories' own,
// which stays the same while the tree does not change; a mailbox created or
// deleted between rounds may be missed or seen twice (as with any listing
// that races with changes).
void Session::run_list_job() {
    store::UserStore store(*services_.registry, user_root_.view());
    ListRound round{store};
    Status st = Status::Ok;
    ArgReader pats = list_job().patterns;
    for (; round.pattern_index < list_job().pattern_count && !round.full; ++round.pattern_index) {
        std::string_view pattern;
        if (!pats.string(&pattern)) (void)pats.atom(&pattern);
        FixedText<kStorePattern> converted;
        if (!store_pattern(pattern, converted, &pattern)) continue;  // matches nothing
        st = list_pattern(round, pattern);
        if (st != Status::Ok) break;
    }
    if (round.full && st == Status::Ok) return;  // more next round, once output drains
    const std::string_view done = list_job().find   ? "FIND completed"
                                  : list_job().lsub ? "LSUB completed"
                                                    : "LIST completed";
    job_.end();
    answer_store(st, done);
}

// ---- STATUS ----------------------------------------------------------------

// "* STATUS name (item value ...)" (RFC 3501 §7.2.4); false if the mailbox
// cannot be opened (nothing written; *why_not says why).
bool Session::write_status(std::string_view name, const StatusAtts& atts, Status* why_not) {
    store::StatusInfo info;
    MailboxRef ref;  // RFC 4314 §4: r
    Status st = check_access(name, store::kRightRead, &ref);
    store::UserStore store(*services_.registry, ref.root.view());
    if (st == Status::Ok) st = store.status(ref.name, &info);
    // RFC 4314 §4: a non-owner's UNSEEN counts their own \Seen (cmd_seen.cpp).
    if (st == Status::Ok && !ref.own && atts.has(StatusItem::Unseen)) {
        st = user_unseen(store, ref, &info.unseen);
    }
    // RFC 9208 §4.1.4: the \Deleted messages, counted on a read-only view.
    std::uint32_t deleted = 0;
    std::uint64_t deleted_bytes = 0;
    if (st == Status::Ok &&
        (atts.has(StatusItem::Deleted) || atts.has(StatusItem::DeletedStorage))) {
        Result<store::Mailbox*> box = store.open(ref.name);
        st = box.status;
        if (box.ok()) {
            store::View view;
            box.value->attach(view, true);
            for (std::uint32_t seq = 1; seq <= view.exists; ++seq) {
                store::MessageInfo m;
                if (box.value->message(view, seq, &m) != Status::Ok) break;
                if ((m.flags & mail::kDeleted) == 0) continue;
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
    FixedText<kWireName> wire;
    r.star().atom("STATUS").mailbox(wire_name(name, wire)).open_list();
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
            case StatusItem::MailboxId: {  // RFC 8474 §4.3
                FixedText<32> id;
                imap::put_object_id(id, imap::kMailboxIdPrefix, info.mailbox_id);
                r.open_list().atom(id.view()).close_list();
                break;
            }
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
    Status st = Status::Ok;
    if (!write_status(cmd.mailbox, cmd.status, &st)) {
        answer_access(st);
        return;
    }
    tagged("OK", "", "STATUS completed");
}

}  // namespace tinyimapd::session
