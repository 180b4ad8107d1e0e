// The session's jobs: one small context per command that answers over
// several turns of the loop (DESIGN.md: "Large responses are resumable
// jobs"), and the one slot a session keeps them in.
//
// A command that cannot finish in one turn starts its context in the slot
// (JobSlot::start, placement new into storage sized for the largest
// context; no heap) and returns; Session::run_job() then calls the step of
// the job's kind (the table in jobs.cpp) whenever the output drained, a
// timer fired or the store changed, until the step ends the job
// (JobSlot::end destroys the context). A step does a bounded amount of work
// and stops when the output lacks room or the store is busy (the slot's
// retry_at_ms: the job waits on a timer).
//
// Each context holds only its command's state; what a step needs besides
// (the parser's arguments, the selected mailbox, the streamer, the MIME
// walkers) stays in Session. Invariants: at most one job per session; no
// context is read after JobSlot::end; a step that ends its job and starts
// another (COPY -> MOVE's Expunge, StoreApply -> Store, Sync -> Resync)
// copies what it carries over before ending the first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "core/base/assert.h"
#include "core/base/text.h"
#include "core/imap/args.h"
#include "core/imap/fetch_spec.h"
#include "core/imap/metadata_spec.h"
#include "core/imap/seqset.h"
#include "core/imap/sort_table.h"
#include "core/imap/status_spec.h"
#include "core/imap/store_spec.h"
#include "core/imap/thread.h"
#include "core/imap/uid_pairs.h"
#include "core/session/protocol_names.h"
#include "core/session/work_area_pool.h"
#include "core/store/mailbox.h"
#include "core/store/sort_cache.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

// Which step runs the job. Store: STORE's answers, once StoreApply (the
// changes, in steps) has committed them; Copy: COPY and MOVE's copy, in
// steps (MOVE's removal is an Expunge job).
enum class JobKind : std::uint8_t {
    None,
    Fetch,
    Store,
    Search,
    Sync,
    Resync,
    List,
    Expunge,
    StoreApply,
    Copy,
    Append,
    Select,  // SELECT/EXAMINE waiting for the compaction that opening started
    Close,   // CLOSE waiting for its write turn (another session's transaction)
    Sort,    // SORT (cmd_sort.cpp): SEARCH's walk, then the order, then the answer
    Thread,  // THREAD, likewise
    Tree,    // CREATE DELETE RENAME SUBSCRIBE UNSUBSCRIBE waiting for their flushes
    // GETMETADATA's answers (cmd_metadata.cpp)
    Metadata,
};

// What a step reports to the loop: the job ended, it goes on when the
// output has room (or at once), or it waits for the store (a timer).
enum class JobProgress : std::uint8_t { Done, Again, Wait };

// The walk over a command's message set (FETCH, STORE, COPY, SEARCH's UID
// flag, EXPUNGE's UIDs): the set is a view into the parser's arena, which
// is not fed while a job runs.
struct SetWalk {
    SeqSet set;
    SeqSet::Cursor cursor;
    bool uid = false;
    std::uint32_t range_next = 1, range_hi = 0, next_position = 1;
    std::uint32_t largest_uid = 0;  // "*" of a UID set (RFC 3501 §6.4.8)
};

// The message a FETCH, STORE or SEARCH is looking at, and its header's size
// once known (UINT64_MAX: not yet).
struct MessageJob {
    SetWalk walk;
    store::MessageInfo message;
    std::uint64_t header_size = UINT64_MAX;
};

// FETCH answering message by message (cmd_fetch.cpp, cmd_binary.cpp).
struct FetchJob : MessageJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::Fetch; }
    const FetchItem* items = nullptr;
    std::size_t item_count = 0;
    bool sets_seen = false;
    bool first_item = true;
    bool add_flags = false;  // report FLAGS after \Seen was set
    // RFC 3501 §6.4.5's \Seen: its transaction waits for its flush (the
    // redo record's, on the I/O threads); seen_flags is the message's result.
    bool seen_txn = false;
    std::uint8_t seen_flags = 0;
    std::uint64_t seen_keywords = 0;  // and its keywords (per-user \Seen)
    std::uint32_t seq = 0;       // message being answered, 0 between messages
    std::uint32_t held_seq = 0;  // the next message, put back while waiting
    // start_message is looking up BINARY item binary_check's part (over
    // turns of the loop; held_seq holds the message).
    bool checking = false;
    std::size_t binary_check = 0;
    bool previewing = false;  // the PREVIEW item's walk (CommandWork::text_walk) is under way
    std::size_t item = 0;
    // RFC 7162 §3.1.4.1: CHANGEDSINCE (0: none) and whether MODSEQ is an
    // item (asked) or added to each response (implied).
    std::uint64_t changedsince = 0;
    std::uint64_t seen_modseq = 0;  // the \Seen change's modseq (seen_txn)
    bool modseq_asked = false;
    bool modseq_implied = false;
    bool notify = false;  // NOTIFY's MessageNew (RFC 5465 §5.2): no tagged line
};

// STORE (cmd_store.cpp, RFC 3501 §6.4.6): the changes as StoreApply (one
// transaction, open across turns, a bounded number of messages per step),
// then the answers as Store (FetchJob's machinery, no items) once it has
// committed.
inline constexpr std::size_t kModifiedText = 320;
struct StoreJob : FetchJob {
    static constexpr bool runs(JobKind k) {
        return k == JobKind::StoreApply || k == JobKind::Store;
    }
    explicit StoreJob(const StoreSpec& s) : spec(s) {}
    StoreSpec spec;  // the command's (its flags are re-read on a retry)
    bool txn = false;
    bool committing = false;       // commit_store() stopped at a barrier
    std::uint32_t intent_seq = 0;  // store() stopped at the intent's barrier
    bool alone = false;            // did not fit a group: waits for a turn of its own
    store::FlagOp op = store::FlagOp::Add;
    std::uint8_t flags = 0;
    std::uint64_t keywords = 0;
    std::uint64_t seen = 0;      // a non-owner's \Seen bit (cmd_seen.cpp), 0: none
    std::uint32_t seq_scan = 0;  // conditional STORE by number: last one done
    AscendingRun failed;
    // RFC 7162 §3.1.3: the modifiers and the messages (numbers or UIDs, as
    // the command used) that failed UNCHANGEDSINCE (`modified` views
    // `modified_text`).
    bool conditional = false;
    bool silent = false;
    FixedText<kModifiedText> modified_text;
    SeqSet modified;
};

// SEARCH (cmd_search.cpp): the messages in order, a bounded amount of
// message bytes per batch. ESEARCH (RFC 4731) and MODSEQ (RFC 7162 §3.1.5)
// results are gathered as it goes. ALL ranges (or PARTIAL's, RFC 5267
// §4.4) are held to write MIN MAX COUNT before them; beyond kHeldRanges,
// they are streamed and MAX, COUNT follow.
inline constexpr std::size_t kHeldRanges = 32;
struct SearchResult {
    bool esearch = false;
    bool modseq = false;      // a MODSEQ key: report the highest mod-sequence
    bool streaming = false;   // ALL is being written (ranges no longer held)
    std::uint8_t mask = 0;    // SearchReturn bits
    std::uint32_t count = 0;  // matches so far
    std::uint32_t min = 0, max = 0;
    std::uint32_t min_uid = 0, max_uid = 0;  // RFC 5182 §2.4: SAVE with MIN/MAX alone
    std::uint64_t min_modseq = 0, max_modseq = 0, highest_modseq = 0;
    std::uint64_t work = 0;  // message bytes read in this batch
    // BODY/TEXT over one large message goes on over several batches
    // (TextWalk): the message's text keys are evaluated again in the
    // same order, those already done answered from text_results.
    bool suspended = false;    // a walk ran out of budget: same message next batch
    bool walking = false;      // CommandWork::text_walk holds key number text_done's walk
    bool update = false;       // RFC 5267 §4.3 UPDATE asked for (context, below)
    std::int8_t context = -1;  // the context being built, -1: none
    std::uint32_t text_done = 0, text_ordinal = 0;
    std::uint64_t text_results = 0;
    std::uint32_t run_lo = 0, run_hi = 0;  // the ALL range being extended
    std::uint32_t listed = 0;              // numbers in ALL or PARTIAL so far
    // RFC 5267 §4.4: PARTIAL's range as written, and its bounds (lo <= hi).
    std::uint32_t partial_first = 0, partial_last = 0, partial_lo = 0, partial_hi = 0;
    std::uint32_t held = 0;
    // RFC 5267 §4.3 UPDATE: the context being built (-1: none), or why
    // there is none (answered NOUPDATE); the last match's sequence number.
    std::uint32_t context_prev_seq = 0;
    const char* noupdate = "";
    std::uint32_t lo[kHeldRanges] = {};
    std::uint32_t hi[kHeldRanges] = {};
};
struct SearchJob : MessageJob {
    // SORT and THREAD walk the mailbox as SEARCH does (SortJob below).
    static constexpr bool runs(JobKind k) {
        return k == JobKind::Search || k == JobKind::Sort || k == JobKind::Thread;
    }
    std::uint32_t search_count = 0;  // nodes of the SEARCH program
    SearchResult result;
};

// SORT and THREAD (cmd_sort.cpp, RFC 5256): SEARCH's walk over the
// mailbox (the SearchJob part) gathering the matches and their keys into a
// work area borrowed from the pool (given back by the destructor, however
// the job ends), then the order in bounded steps, then the answer.
// THREAD's area holds, from its start, one ThreadMessage and one
// ThreadExtra per message of the mailbox, then the SortTable that ranks the
// base subjects (and keeps the references), then the tree. A program whose
// keys the sort cache holds (store/sort_cache.h: ARRIVAL DATE SIZE SUBJECT,
// THREAD) keeps the area's last kSortCacheBuffer bytes for the cache's
// reads and writes.
struct ThreadExtra {
    std::uint64_t id = 0;    // Message-ID's hash, 0: none
    std::uint32_t refs = 0;  // offset in the area of the references' hashes
    std::uint32_t ref_count = 0;
};
struct SortJob : SearchJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::Sort || k == JobKind::Thread; }
    enum class Phase : std::uint8_t { Area, Gather, Order, Rank, Link, Build, Answer };
    explicit SortJob(WorkAreaPool* p) : pool(p) {}
    ~SortJob() {
        if (pool != nullptr) pool->give(area);
    }
    SortJob(const SortJob&) = delete;
    SortJob& operator=(const SortJob&) = delete;
    WorkAreaPool* pool;
    char* area = nullptr;
    Phase phase = Phase::Area;
    bool full = false;         // the area could not hold every match: NO [LIMIT]
    bool answering = false;    // "* SORT"/"* THREAD" is out, its line not ended
    bool cached_keys = false;  // the keys come from a SortCacheEntry (cache or header)
    SortProgram program;
    ThreadAlgorithm algorithm = ThreadAlgorithm::OrderedSubject;
    SortTable table;
    std::uint32_t capacity = 0;  // THREAD: messages the arrays below hold
    std::uint32_t matched = 0;
    std::uint32_t next = 0;        // Link: the next message; Answer: the next record
    std::uint32_t list_end = 0;    // ESORT: one past the last record of ALL/PARTIAL
    std::uint64_t references = 0;  // THREAD: references kept in all
    ThreadMessage* messages = nullptr;
    ThreadExtra* extras = nullptr;
    ThreadWork tree;
    store::SortCache cache;  // open while gathering, when the area has room for it
};

// A LIST or LSUB answering mailbox by mailbox (cmd_mailbox.cpp): the
// command's arguments (views into the parser) and how many entries earlier
// rounds wrote.
struct ListJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::List; }
    explicit ListJob(const ArgReader& r) : patterns(r) {}
    std::string_view reference;
    ArgReader patterns;
    std::size_t pattern_count = 0;
    std::uint16_t options = 0;
    StatusAtts status;
    bool lsub = false;
    bool find = false;  // RFC 2062 FIND: "* MAILBOX name" answers
    std::size_t sent = 0;
};

// COPY/MOVE's copy (cmd_copy.cpp, RFC 3501 §6.4.7, RFC 6851): one
// transaction on the destination, open across turns of the loop, a bounded
// number of message bytes copied per step; committed (durable) before the
// OK.
struct CopyJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::Copy; }
    SetWalk walk;
    store::Mailbox* dest = nullptr;  // opened for the job, closed at its end
    bool move = false;
    bool txn = false;         // begin_copy succeeded: dest is ours
    bool committing = false;  // commit_copy stopped at a barrier
    std::uint32_t seq = 0;    // message being copied; 0 between messages
    std::uint32_t lowest_uid = UINT32_MAX, highest_uid = 0;
    bool quota = false;       // RFC 9208: room left below
    bool over_quota = false;  // it would not fit: NO [OVERQUOTA]
    std::uint64_t quota_bytes = 0, quota_messages = 0;
    store::CopyCursor cursor;
    UidPairs pairs;
};

// EXPUNGE, UID EXPUNGE, MOVE's removal of its originals and REPLACE's of
// the replaced message (cmd_copy.cpp), in batches.
struct ExpungeJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::Expunge; }
    SetWalk walk;               // uid, set, largest_uid
    bool expunged_any = false;  // something went
    bool move = false;          // UID MOVE's originals (move_lo..move_hi)
    std::uint32_t move_lo = 0, move_hi = 0;
    std::uint32_t replace_uid = 0;       // REPLACE's replaced message (RFC 8508), or 0
    std::uint32_t expunge_from_uid = 1;  // where the store's scan goes on (0: done)
    bool expunge_txn = false;            // the store's call stopped at a barrier (ours)
    std::uint32_t commit_turn = 0;       // the loop turn of its last commit
};

// The flag changes of messages above a mod-sequence (sync.cpp: QRESYNC's
// SELECT, and a change report that overflowed the store's ring).
struct ResyncJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::Resync; }
    SetWalk walk;  // uid, set, largest_uid
    std::uint32_t seq = 1;
    std::uint64_t since_modseq = 0;  // changes above this one
};

// The change report still being written, then the deferred tagged line
// (sync.cpp), and APPEND waiting for the mailbox's write turn
// (cmd_append.cpp, whose state outlives the job: the literals come first).
struct SyncJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::Sync; }
};
struct AppendJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::Append; }
};
// SELECT or EXAMINE run again once the mailbox is ready (cmd_select.cpp;
// its arguments are still in the parser).
struct SelectJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::Select; }
    bool read_only = false;
};
// CLOSE run again once the mailbox's write turn is its own (cmd_select.cpp).
struct CloseJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::Close; }
};

// CREATE, DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE (cmd_mailbox.cpp): the
// store's operation in steps, waiting at each durability barrier for its
// flush on the I/O threads (docs/STORAGE.md "Flushes leave the loop"); the
// names are views into the parser, which is not fed while a job runs.
struct TreeJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::Tree; }
    TreeJob(store::TreeOp::Kind kind, std::string_view a, std::string_view b) : op(kind, a, b) {}
    store::TreeOp op;
    std::uint8_t login_default = 0xFF;  // a first login's default mailbox (cmd_select.cpp)
    // Whose tree (RFC 4314, other users' namespace): a view of the command's
    // name, of the configuration or of the session's user name.
    std::string_view owner;
};

// GETMETADATA (RFC 5464 §4.2, cmd_metadata.cpp): the entries' sources one
// after another (a computed entry, then the files), the open file and the
// next record in it; the request is a view into the parser, not fed while
// a job runs. The file is closed with the job.
struct MetadataJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::Metadata; }
    MetadataJob(port::Fs& f, const imap::MetadataSpec& s) : fs(&f), spec(s) {}
    ~MetadataJob() {
        if (file != port::kNoFile) (void)fs->close(file);
    }
    MetadataJob(const MetadataJob&) = delete;
    MetadataJob& operator=(const MetadataJob&) = delete;
    port::Fs* fs;
    imap::MetadataSpec spec;
    std::string_view mailbox;  // "" for the server
    std::uint8_t source = 0;   // cmd_metadata.cpp's MetaSource
    port::File file = port::kNoFile;
    std::uint64_t offset = 0;   // of the next record in `file`
    std::uint64_t longest = 0;  // the largest value over MAXSIZE (§4.2.1)
    bool too_long = false;
};

template <class... T>
constexpr std::size_t max_size_of() {
    std::size_t n = 0;
    ((n = sizeof(T) > n ? sizeof(T) : n), ...);
    return n;
}
inline constexpr std::size_t kJobStorage =
    max_size_of<FetchJob, StoreJob, SearchJob, ListJob, CopyJob, ExpungeJob, ResyncJob, SyncJob,
                AppendJob, SelectJob, CloseJob, SortJob, TreeJob, MetadataJob>();
// Every session carries this much for its job: keep it small (the FETCH
// engine's buffers live in Session, shared by the kinds that stream).
static_assert(kJobStorage <= 1024, "a job context grew: check what it holds");

// The one job of a session: its kind, the context in place, and the timer
// of a job waiting for the store.
class JobSlot {
public:
    JobSlot() = default;
    JobSlot(const JobSlot&) = delete;
    JobSlot& operator=(const JobSlot&) = delete;
    ~JobSlot() { end(); }

    JobKind kind() const { return kind_; }
    bool active() const { return kind_ != JobKind::None; }

    // Ends any job and starts `kind` with a new context J.
    template <class J, class... A>
    J& start(JobKind kind, A&&... args) {
        static_assert(sizeof(J) <= kJobStorage && alignof(J) <= alignof(std::max_align_t));
        TINYIMAPD_ASSERT(J::runs(kind));
        end();
        J* job = new (storage_) J(std::forward<A>(args)...);
        destroy_ = [](void* p) { static_cast<J*>(p)->~J(); };
        kind_ = kind;
        retry_at_ms = waiting_since_ms = 0;
        return *job;
    }
    // Destroys the context; nothing of it may be read afterwards.
    void end() {
        if (kind_ == JobKind::None) return;
        kind_ = JobKind::None;
        destroy_(storage_);
    }
    // A StoreJob started as StoreApply answers as Store (FetchJob's steps).
    void set_kind(JobKind kind) { kind_ = kind; }

    template <class J>
    J& get() {
        TINYIMAPD_ASSERT(J::runs(kind_));
        // Through void*: storage_ is aligned for any J (a direct cast from
        // unsigned char* warns, -Wcast-align, on 32-bit ARM).
        return *std::launder(static_cast<J*>(static_cast<void*>(storage_)));
    }
    template <class J>
    const J& get() const {
        TINYIMAPD_ASSERT(J::runs(kind_));
        return *std::launder(static_cast<const J*>(static_cast<const void*>(storage_)));
    }

    // A job waiting for the store: try again at retry_at_ms (0: not
    // waiting); it has waited since waiting_since_ms (0: not yet).
    std::uint64_t retry_at_ms = 0;
    std::uint64_t waiting_since_ms = 0;

private:
    JobKind kind_ = JobKind::None;
    void (*destroy_)(void*) = nullptr;
    alignas(std::max_align_t) unsigned char storage_[kJobStorage];
};

}  // namespace tinyimapd::session
