// RFC 5267 §4.3 (CONTEXT=SEARCH): updating contexts, what they keep
// (core/session/search_context.h) and how they follow the mailbox.
//
// When a context is brought up to date:
// - an expunge (this session's EXPUNGE, CLOSE excepted, MOVE, or another
//   session's or process's): "* ESEARCH (TAG "t") [UID] REMOVEFROM (0 n)"
//   just before that message's EXPUNGE or VANISHED (§4.3.4: a sequence
//   number must still be valid), written by sync.cpp's writer through
//   context_removals();
// - flag changes and new messages, whoever made them: after a report of
//   changes that is complete (sync_selected, so after the EXISTS and FETCH
//   lines, §4.3.3) and at the end of this session's STORE, a walk over the
//   view (update_contexts) looks at every message whose mod-sequence is
//   above the context's seen_modseq or whose UID is above its seen_uid,
//   evaluates the kept program and writes one line per context:
//   "* ESEARCH (TAG "t") [UID] REMOVEFROM (0 set) ADDTO (0 set)", position 0
//   and the sets in mailbox order (§4.3.3, §4.3.4 RECOMMENDED), as many
//   lines as room in the output allows, the rest after it drains, and
//   kWalkBatch messages per call (the rest in the next turn). This also
//   covers the Resync scan after the store's change ring overflowed: the
//   walk needs no ring, only mod-sequences.
// Updates stop at CANCELUPDATE and when the mailbox is no longer selected
// (§4.3). A result that outgrows its 64 ranges later (a removal splitting a
// range) ends the context with an untagged NO [NOUPDATE "t"]: the client
// learns it is no longer told, in the words §4.3.1 gives that refusal.
#include "core/session/search_context.h"

#include "core/base/text.h"
#include "core/mime/header.h"
#include "core/session/session.h"

namespace tinyimapd::session {

namespace {

// Messages a walk looks at per call (per context): a large mailbox is
// walked over several turns of the loop, as SEARCH is.
constexpr std::uint32_t kWalkBatch = 4096;
// Header bytes a walk step reads for header keys before it yields (SEARCH's
// kSearchWorkBudget).
constexpr std::uint64_t kWalkWorkBudget = 256 * 1024;

// The longest update line: tag, two sets of UidRanges::kCapacity ranges.
constexpr std::size_t kUpdateLine = 96 + kMaxTagLength + 2 * UidRanges::kCapacity * 22;

bool is_date_key(SearchKey k) {
    return k == SearchKey::Before || k == SearchKey::On || k == SearchKey::Since ||
           k == SearchKey::SavedBefore || k == SearchKey::SavedOn || k == SearchKey::SavedSince ||
           k == SearchKey::SentBefore || k == SearchKey::SentOn || k == SearchKey::SentSince;
}

void put_head(TextWriter& w, const SearchContext& c) {
    w.put("* ESEARCH (TAG \"").put(c.tag_view()).put("\")");
    if (c.uid) w.put(" UID");
}

// BEFORE ON SINCE by the internal date's own day, SAVED* by the save date's
// UTC day (the internal date when there is none), SENT* by `sent_day` (the
// Date: field's, -1 if none): as cmd_search.cpp.
bool date_matches(const ContextNode& n, const store::MessageInfo& m, std::int64_t sent_day) {
    std::int64_t day = day_of(m.internal_date, m.zone_minutes);
    const bool saved = n.key == SearchKey::SavedBefore || n.key == SearchKey::SavedOn ||
                       n.key == SearchKey::SavedSince;
    if (saved && m.save_date != store::kNoSaveDate) day = day_of(m.save_date, 0);
    if (sent_day >= 0) day = sent_day;
    const auto want = static_cast<std::int64_t>(n.number);
    if (n.key == SearchKey::Before || n.key == SearchKey::SavedBefore ||
        n.key == SearchKey::SentBefore) {
        return day < want;
    }
    if (n.key == SearchKey::On || n.key == SearchKey::SavedOn || n.key == SearchKey::SentOn) {
        return day == want;
    }
    return day >= want;
}

// A string of the program (keyword, header key's string, field name)
// copied into c.text; false when it does not fit.
bool context_text(SearchContext& c, std::string_view text, std::uint16_t* at, std::uint16_t* len) {
    if (text.size() > SearchContext::kText - c.text_used) return false;
    *at = c.text_used;
    *len = static_cast<std::uint16_t>(text.size());
    for (char ch : text) c.text[c.text_used++] = ch;
    return true;
}

bool in_ranges(const SearchContext& c, const ContextNode& n, std::uint32_t uid) {
    for (std::size_t i = n.set_at; i < std::size_t{n.set_at} + n.set_count; ++i) {
        if (c.ranges[i].lo <= uid && uid <= c.ranges[i].hi) return true;
    }
    return false;
}

}  // namespace

const char* context_refusal(const SearchNode* nodes, std::size_t count) {
    if (count > SearchContext::kNodes) return "Search program too large to follow";
    for (std::size_t i = 0; i < count; ++i) {
        switch (nodes[i].key) {
            case SearchKey::Body:
            case SearchKey::Text: return "BODY and TEXT are not followed";
            case SearchKey::Older:
            case SearchKey::Younger: return "OLDER and YOUNGER are not followed";
            default: break;
        }
    }
    return "";
}

// The kept program's node i against message m (the SEARCH matcher's rules
// for the keys a context can keep: context_refusal()).
bool Session::context_matches(const SearchContext& c, std::uint32_t i,
                              const store::MessageInfo& m) {
    const ContextNode& n = c.nodes[i];
    if (is_flag_key(n.key)) return flags_match(n.key, n.flag_bit, {}, n.number, m);
    switch (n.key) {
        case SearchKey::SequenceSet:
        case SearchKey::Uid: return in_ranges(c, n, m.uid);
        case SearchKey::Keyword:
        case SearchKey::Unkeyword: return flags_match(n.key, n.flag_bit, c.keyword(n), n.number, m);
        case SearchKey::ModSeq: return m.modseq >= n.number;
        case SearchKey::EmailId: return n.number != 0 && m.email_id == n.number;
        case SearchKey::ThreadId: return false;
        case SearchKey::Not: return !context_matches(c, i + 1, m);
        case SearchKey::Or:
            return context_matches(c, i + 1, m) || context_matches(c, c.nodes[i + 1].end, m);
        case SearchKey::And:
            for (std::uint32_t k = i + 1; k < n.end; k = c.nodes[k].end) {
                if (!context_matches(c, k, m)) return false;
            }
            return true;
        case SearchKey::From: return context_header_contains(m, "From", c.keyword(n));
        case SearchKey::To: return context_header_contains(m, "To", c.keyword(n));
        case SearchKey::Cc: return context_header_contains(m, "Cc", c.keyword(n));
        case SearchKey::Bcc: return context_header_contains(m, "Bcc", c.keyword(n));
        case SearchKey::Subject: return context_header_contains(m, "Subject", c.keyword(n));
        case SearchKey::Header: return context_header_contains(m, c.field(n), c.keyword(n));
        default: break;
    }
    if (is_date_key(n.key)) return date_matches(n, m, context_sent_day(n, m));
    return true;  // ALL, SAVEDATESUPPORTED
}

bool Session::program_matches(const SearchContext& c, const store::MessageInfo& m) {
    for (std::uint32_t i = 0; i < c.node_count; i = c.nodes[i].end) {
        if (!context_matches(c, i, m)) return false;
    }
    return true;
}

// The header of m, of it the fields called `name` when it is larger than
// the window (load_search_header's rule), counted against the walk's budget.
mime::HeaderBlock Session::context_header(const store::MessageInfo& m, std::string_view name) {
    mime_source_.box = selected_;
    mime_source_.message = &m;
    std::size_t size = 0;
    char* buf = search_window(&size);
    mime::HeaderBlock block;
    mime::load_header(mime_source_, 0, m.size, buf, size, &block, mime::FieldNames{&name, 1});
    context_work_ += block.body_start;
    return block;
}

bool Session::context_header_contains(const store::MessageInfo& m, std::string_view name,
                                      std::string_view needle) {
    if (!prepare_needle(needle)) return false;
    return block_contains(context_header(m, name), name);
}

// SENTBEFORE SENTON SENTSINCE: the Date: field's day (-1 for other keys, or
// when it cannot be read: the internal date's day is used, as SEARCH does).
std::int64_t Session::context_sent_day(const ContextNode& n, const store::MessageInfo& m) {
    if (n.key != SearchKey::SentBefore && n.key != SearchKey::SentOn &&
        n.key != SearchKey::SentSince) {
        return -1;
    }
    constexpr std::string_view kDate = "Date";
    const mime::HeaderBlock block = context_header(m, kDate);
    std::string_view value;
    std::int64_t day = -1;
    if (mime::find_field(block.fields, kDate, &value) && !date_header_day(value, &day)) day = -1;
    return day;
}

// §4.3: "An attempt to use UPDATE where a tag is already in use with a
// previous searching command that itself used UPDATE SHALL result in ...
// BAD".
bool Session::context_tag_in_use() const {
    const std::string_view tag{tag_, tag_length_};
    for (const SearchContext* c : contexts_) {
        if (c != nullptr && c->state == SearchContext::State::Active && c->tag_view() == tag) {
            return true;
        }
    }
    return false;
}

void Session::drop_contexts() {
    for (SearchContext* c : contexts_) free_context(c);
}

// The context ends: it goes back to the shared pool (search_contexts).
void Session::free_context(SearchContext* c) {
    for (SearchContext*& mine : contexts_) {
        if (mine != c || c == nullptr) continue;
        c->state = SearchContext::State::Free;
        if (services_.context_pool != nullptr) services_.context_pool->give(c);
        mine = nullptr;
        return;
    }
}

// A sequence set of the program as UID ranges into c.ranges (errata of
// §4.3: message numbers, and "*", as they are when the command runs).
bool Session::context_set(SearchContext& c, const SearchNode& src, std::uint32_t largest_uid,
                          ContextNode* out) {
    const bool numbers = src.key == SearchKey::SequenceSet;
    out->set_at = c.range_count;
    SeqSet::Cursor cursor;
    std::uint32_t lo = 0, hi = 0;
    while (src.set.next(cursor, numbers ? view_.exists : largest_uid, &lo, &hi)) {
        if (numbers) {
            if (lo > view_.exists || lo == 0) continue;
            if (hi > view_.exists) hi = view_.exists;
            store::MessageInfo a, b;
            if (selected_->message(view_, lo, &a) != Status::Ok ||
                selected_->message(view_, hi, &b) != Status::Ok) {
                continue;
            }
            lo = a.uid;
            hi = b.uid;
        }
        if (c.range_count == SearchContext::kRanges) return false;
        c.ranges[c.range_count++] = {lo, hi};
    }
    out->set_count = static_cast<std::uint8_t>(c.range_count - out->set_at);
    return true;
}

// The program of `cmd` (nodes in scratch_) copied into `c`; false when it
// does not fit.
bool Session::context_copy(SearchContext& c, const ParsedCommand& cmd, std::uint32_t largest_uid) {
    c.node_count = static_cast<std::uint8_t>(cmd.search_node_count);
    c.text_used = 0;
    c.range_count = 0;
    for (std::size_t i = 0; i < cmd.search_node_count; ++i) {
        const SearchNode& src = scratch_.search_nodes[i];
        ContextNode& n = c.nodes[i];
        n = ContextNode{};
        n.key = src.key;
        n.flag_bit = src.flag_bit;
        n.end = static_cast<std::uint8_t>(src.end);
        n.number = src.number;
        if (is_date_key(src.key)) {
            n.number = static_cast<std::uint64_t>(
                days_from_civil(src.date.year, src.date.month, src.date.day));
        }
        if (!context_text(c, src.text, &n.text_at, &n.text_len) ||
            !context_text(c, src.field, &n.field_at, &n.field_len)) {
            return false;
        }
        if (src.key == SearchKey::SequenceSet || src.key == SearchKey::Uid) {
            if (!context_set(c, src, largest_uid, &n)) return false;
            n.key = SearchKey::Uid;
        }
    }
    return true;
}

// A SEARCH with UPDATE starts: a context is taken and filled, or why not is
// kept in the result (answered NOUPDATE at the end).
void Session::start_context(SearchResult& r, const ParsedCommand& cmd, std::uint32_t largest_uid) {
    r.context = -1;
    if (!r.update) return;
    r.noupdate = context_refusal(scratch_.search_nodes, cmd.search_node_count);
    if (*r.noupdate != '\0') return;
    r.noupdate = "Too many updating contexts";
    for (std::size_t i = 0; i < kSearchContexts; ++i) {
        // One command runs at a time: a Building context is left over
        // from a search that never finished. A free place borrows one
        // from the shared pool; none left there: refused (§4.3.1 "an
        // internal limit"), the search itself is answered.
        if (contexts_[i] != nullptr && contexts_[i]->state == SearchContext::State::Active) {
            continue;
        }
        if (contexts_[i] == nullptr && services_.context_pool != nullptr) {
            contexts_[i] = services_.context_pool->take();
        }
        if (contexts_[i] == nullptr) {
            r.noupdate = "Too many updating contexts in use on this server; try again later";
            return;
        }
        SearchContext& c = *contexts_[i];
        c.state = SearchContext::State::Free;
        if (!context_copy(c, cmd, largest_uid)) {
            free_context(&c);
            r.noupdate = "Search program too large to follow";
            return;
        }
        c.state = SearchContext::State::Building;
        c.uid = cmd.uid;
        c.tag_length = static_cast<std::uint8_t>(tag_length_);
        for (std::size_t k = 0; k < tag_length_; ++k) c.tag[k] = tag_[k];
        c.result.clear();
        c.seen_modseq = selected_->highest_modseq();
        store::MessageInfo m;
        c.seen_uid = 0;
        if (view_.exists > 0 && selected_->message(view_, view_.exists, &m) == Status::Ok) {
            c.seen_uid = m.uid;
        }
        c.walking = false;
        r.context = static_cast<std::int8_t>(i);
        r.noupdate = "";
        return;
    }
}

// A match of the search building the context: its UID joins the result,
// with the previous one's range when the two are neighbours in the mailbox
// (the UIDs between them are gone and never come back).
void Session::context_found(SearchResult& r, std::uint32_t seq, std::uint32_t uid) {
    if (r.context < 0) return;
    SearchContext& c = *contexts_[r.context];
    bool ok = false;
    const std::size_t n = c.result.range_count();
    if (n > 0 && r.context_prev_seq != 0 && r.context_prev_seq + 1 == seq) {
        ok = c.result.add_range(c.result.range(n - 1).hi, uid);
    } else {
        ok = c.result.add(uid);
    }
    r.context_prev_seq = seq;
    if (ok) return;
    free_context(&c);
    r.context = -1;
    r.noupdate = "Search result too fragmented to follow";
}

// Before the tagged line of a searching command with UPDATE: the context
// starts following, or the untagged NO [NOUPDATE "tag"] (§4.3.1).
void Session::finish_context(SearchResult& r) {
    if (!r.update) return;
    if (r.context >= 0) {
        contexts_[r.context]->state = SearchContext::State::Active;
        r.context = -1;
        return;
    }
    FixedText<kMaxTagLength + 128> w;
    w.put("NO [NOUPDATE \"").put({tag_, tag_length_}).put("\"] ").put(r.noupdate);
    untagged(w.view());
}

// §4.3.5: CANCELUPDATE "tag" ...; a tag with no context is no error (the
// client may not know a context was refused or has ended).
void Session::cmd_cancelupdate(const ParsedCommand& cmd) {
    ArgReader r = cmd.rest;
    std::string_view tag;
    while (r.quoted(&tag)) {
        for (SearchContext* c : contexts_) {
            if (c != nullptr && c->state == SearchContext::State::Active && c->tag_view() == tag) {
                free_context(c);
            }
        }
    }
    tagged("OK", "", "No further updates");
}

// Lines removing an expunged message from the contexts that hold it (before
// its EXPUNGE); the contexts' walks start again, the numbers having moved.
void context_removals(SearchContext* const* contexts, std::uint32_t seq, std::uint32_t uid,
                      TextWriter& w) {
    for (std::size_t i = 0; i < kSearchContexts; ++i) {
        if (contexts[i] == nullptr) continue;
        SearchContext& c = *contexts[i];
        if (c.state != SearchContext::State::Active) continue;
        if (c.result.contains(uid)) {
            put_head(w, c);
            w.put(" REMOVEFROM (0 ").put_uint(c.uid ? uid : seq).put(")\r\n");
        }
    }
}

void contexts_expunged(SearchContext* const* contexts) {
    for (std::size_t i = 0; i < kSearchContexts; ++i) {
        if (contexts[i] != nullptr) contexts[i]->walk_seq = 1;
    }
}

// Every context brought up to date with the view (see the top); false when
// there is more to do: the output has no room, or a batch is done (called
// again by the Sync job, or at the next report).
bool Session::update_contexts() {
    if (selected_ == nullptr) return true;
    for (SearchContext* c : contexts_) {
        if (c != nullptr && c->state == SearchContext::State::Active && !context_walk(*c)) {
            return false;
        }
    }
    return true;
}

bool Session::context_walk(SearchContext& c) {
    if (!c.walking) {
        store::MessageInfo last;
        const bool any =
            view_.exists > 0 && selected_->message(view_, view_.exists, &last) == Status::Ok;
        if (selected_->highest_modseq() <= c.seen_modseq && (!any || last.uid <= c.seen_uid)) {
            return true;
        }
        c.walking = true;
        c.walk_seq = 1;
        c.walk_modseq = selected_->highest_modseq();
        c.walk_max_uid = c.seen_uid;
    }
    context_work_ = 0;
    UidRanges add, remove;
    auto flush = [&] {
        if (add.empty() && remove.empty()) return;
        FixedText<kUpdateLine> w;
        put_head(w, c);
        if (!remove.empty()) {
            w.put(" REMOVEFROM (0 ");
            remove.write(w);
            w.put(')');
        }
        if (!add.empty()) {
            w.put(" ADDTO (0 ");
            add.write(w);
            w.put(')');
        }
        w.put("\r\n");
        out_.append_reserved(w.view());  // room was checked before each message
        add.clear();
        remove.clear();
    };
    for (std::uint32_t looked = 0; c.walk_seq <= view_.exists; ++c.walk_seq, ++looked) {
        if (looked == kWalkBatch || context_work_ >= kWalkWorkBudget ||
            out_.room() < kUpdateLine + kResponseReserve) {
            flush();
            return false;
        }
        store::MessageInfo m;
        if (selected_->message(view_, c.walk_seq, &m) != Status::Ok) break;
        const bool is_new = m.uid > c.seen_uid;
        if (m.expunged || (!is_new && m.modseq <= c.seen_modseq)) continue;
        if (m.uid > c.walk_max_uid) c.walk_max_uid = m.uid;
        // A new message is in the result only if this walk, cut short and
        // started again, has added it already.
        const bool was = c.result.contains(m.uid);
        const bool now = program_matches(c, m);
        if (was == now) continue;
        // The result first: a change it cannot hold is not announced.
        if (!(now ? c.result.insert(m.uid) : c.result.remove(m.uid))) {
            flush();
            FixedText<kMaxTagLength + 96> w;
            w.put("NO [NOUPDATE \"").put(c.tag_view()).put("\"] Too many changes to follow");
            untagged(w.view());
            free_context(&c);
            return true;
        }
        UidRanges& set = now ? add : remove;
        const std::uint32_t number = c.uid ? m.uid : c.walk_seq;
        if (!set.add(number)) {
            flush();
            (void)set.add(number);
        }
    }
    flush();
    c.walking = false;
    c.seen_modseq = c.walk_modseq;
    c.seen_uid = c.walk_max_uid;
    return true;
}

}  // namespace tinyimapd::session
