#include "core/server/server.h"

#include <cstring>
#include <new>

#include "core/base/arena.h"
#include "core/base/assert.h"
#include "core/base/text.h"
#include "core/server/server_slot.h"

namespace tinyimapd {

// Every line that must go out whole fits an output buffer of the smallest
// configurable size with the session's reserve behind it (a FETCH FLAGS
// line naming every keyword a mailbox can hold: RFC 3501 §7.4.2).
static_assert(session::kMaxFlagList + session::kFlagLineExtra + session::kResponseReserve <=
              kMinOutputBuffer);

namespace {

// A connection that is logging out gets this long to take its last bytes.
constexpr std::uint64_t kLingerMs = 5000;
// Lingering close: once the last output is sent and our side shut down, the
// client's input is read and discarded for at most this long (or to its end)
// before the socket is closed. Closing with unread input would make the
// kernel send a reset, which can destroy the BYE still in flight (RFC 2525
// §2.17; the lingering close of Apache httpd and RFC 9112 §9.6).
constexpr std::uint64_t kDrainMs = 2000;
// Reads (of up to input_buffer bytes each) a lingering connection gets per
// turn of the loop: a client that keeps sending cannot hold the loop.
constexpr int kDrainReads = 4;
// While the server shuts down, lingering is cut to this, so that SIGTERM is
// honoured within a second whatever the clients do.
constexpr std::uint64_t kShutdownDrainMs = 300;
// A client that takes none of its output for this long is dropped: it would
// otherwise hold a slot (and its buffers) forever.
constexpr std::uint64_t kOutputStallMs = 120000;
// Output buffers a resumable job may fill per loop turn.
constexpr int kJobTurns = 8;
// Staging for literals streamed from the store (one for all connections).
constexpr std::size_t kStreamScratch = 16384;
// Arguments one command may have (each list and string is one): bounds the
// size of a SEARCH program or FETCH attribute list.
constexpr std::size_t kMaxArgs = 512;
// Failed-login memory: addresses remembered, delay cap, how long they count.
constexpr std::size_t kLoginGuardEntries = 256;
constexpr std::uint32_t kMaxLoginDelayMs = 30000;
constexpr std::uint64_t kForgetFailuresMs = 15 * 60 * 1000;

constexpr std::string_view kTooMany = "* BYE Too many connections, try again later\r\n";
constexpr std::string_view kTooManyFromAddress = "* BYE Too many connections from your address\r\n";

session::SessionConfig session_config_from(const Config& c) {
    session::SessionConfig s;
    s.parser.max_line_length = c.max_line_length;
    s.parser.max_literal_size = c.max_literal_size;
    s.parser.max_depth = c.max_nesting;
    s.plaintext_auth = c.plaintext_auth;
    s.literal_plus = c.literal_plus;
    s.login_timeout_ms = c.login_timeout * 1000u;
    s.idle_timeout_ms = c.idle_timeout * 1000u;
    s.max_login_attempts = c.max_login_attempts;
    s.max_append_size = c.max_append_size;
    s.quota_storage_kib = std::uint64_t{c.quota_storage_mb} * 1024;
    s.quota_messages = c.quota_messages;
    s.special_mailboxes[0] = {c.mailbox_sent.view(), mail::kUseSent};
    s.special_mailboxes[1] = {c.mailbox_drafts.view(), mail::kUseDrafts};
    s.special_mailboxes[2] = {c.mailbox_trash.view(), mail::kUseTrash};
    s.special_mailboxes[3] = {c.mailbox_junk.view(), mail::kUseJunk};
    s.special_mailboxes[4] = {c.mailbox_archive.view(), mail::kUseArchive};
    s.metadata = {c.metadata_max_size, c.metadata_max_entries, c.metadata_max_bytes,
                  c.metadata_admin.view()};
    s.public_owner = c.public_owner.view();
    return s;
}

// Open mailboxes: a pool shared by all sessions (docs/CONFIG.md `open_mailboxes`:
// NO [LIMIT] when exhausted). run_once commits the groups (loop_commits).
store::StoreLimits store_limits_from(const Config& c) {
    store::StoreLimits l;
    l.max_open_mailboxes = c.open_mailboxes;
    l.loop_commits = true;
    return l;
}

}  // namespace

std::size_t Server::tls_engines(const Config& c) {
    return c.tls_sessions < c.max_clients ? c.tls_sessions : c.max_clients;
}

std::size_t Server::compress_engines(const Config& c) {
    return c.compress_sessions < c.max_clients ? c.compress_sessions : c.max_clients;
}

std::size_t Server::notify_states(const Config& c) {
    return c.notify_sessions < c.max_clients ? c.notify_sessions : c.max_clients;
}

std::size_t Server::search_contexts(const Config& c) {
    const std::size_t most = std::size_t{c.max_clients} * session::kSearchContexts;
    return c.search_contexts < most ? c.search_contexts : most;
}

namespace {

// The command arena holds one command's bytes: the line and its literals.
std::size_t arena_size_for(const Config& c) {
    return static_cast<std::size_t>(c.max_line_length) + c.max_literal_size;
}

}  // namespace

namespace {

// Every per-slot buffer is aligned to this, and no buffer's type needs more,
// so all slots' shares have one size (slot_stride) and lie back to back.
constexpr std::size_t kBufferAlign = 8;
static_assert(alignof(imap::Arg) <= kBufferAlign && alignof(imap::FetchItem) <= kBufferAlign &&
              alignof(imap::SearchNode) <= kBufferAlign);

// One connection's buffers, taken from `arena` in the order they lie there.
struct SlotBuffers {
    std::uint8_t* in = nullptr;
    session::SessionMemory memory;
    bool complete = false;
};

SlotBuffers take_slot_buffers(Arena& arena, const Config& config,
                              Server::LayoutItems* items = nullptr) {
    SlotBuffers b;
    session::SessionMemory& m = b.memory;
    std::size_t mark = arena.used();
    // Notes the bytes taken since the last note (padding included).
    auto note = [&](std::string_view name) {
        if (items != nullptr) items->note(name, arena.used() - mark, 1, true);
        mark = arena.used();
    };
    b.in = static_cast<std::uint8_t*>(arena.take_bytes(config.input_buffer, kBufferAlign));
    note("input buffer (input_buffer)");
    m.output = static_cast<char*>(arena.take_bytes(config.output_buffer, kBufferAlign));
    m.output_size = config.output_buffer;
    note("output buffer (output_buffer)");
    // The command's memory comes from the command pool (take_command_block).
    m.arena = nullptr;
    m.arena_size = arena_size_for(config);
    m.args = nullptr;
    m.max_args = kMaxArgs;
    m.scratch.fetch_items = nullptr;
    m.scratch.max_fetch_items = config.max_fetch_items;
    m.scratch.search_nodes = nullptr;
    m.scratch.max_search_nodes = config.max_search_keys;
    m.scratch.max_set_ranges = config.max_set_ranges;
    b.complete = !arena.exhausted();
    return b;
}

// One block of the command pool (core/session/command_pool.h): what one
// command needs while it is parsed and answered.
session::CommandBlock take_command_block(Arena& arena, const Config& config,
                                         Server::LayoutItems* items = nullptr) {
    session::CommandBlock b;
    std::size_t mark = arena.used();
    auto note = [&](std::string_view name) {
        const std::size_t n = config.command_buffers;
        if (items != nullptr) items->note(name, (arena.used() - mark) * n, n, false);
        mark = arena.used();
    };
    b.arena = static_cast<char*>(arena.take_bytes(arena_size_for(config), kBufferAlign));
    // Padding before the first block is not every block's (write_layout
    // lists it apart).
    mark = arena.used() - arena_size_for(config);
    note("pool: command arena (max_line_length + max_literal_size)");
    b.args = arena.take<imap::Arg>(kMaxArgs);
    note("pool: command arguments (512 Args)");
    b.fetch_items = arena.take<imap::FetchItem>(config.max_fetch_items);
    note("pool: FETCH items (max_fetch_items)");
    b.search_nodes = arena.take<imap::SearchNode>(config.max_search_keys);
    note("pool: SEARCH nodes (max_search_keys)");
    b.work = arena.take<session::CommandWork>(1);
    note("pool: FETCH/SEARCH job state (text walk, PREVIEW, BODYSTRUCTURE, section)");
    return b;
}

std::size_t slot_stride(const Config& config, Server::LayoutItems* items = nullptr) {
    Arena measure = Arena::measuring();
    (void)take_slot_buffers(measure, config, items);
    return (measure.used() + kBufferAlign - 1) & ~(kBufferAlign - 1);
}

}  // namespace

void Server::LayoutItems::note(std::string_view name, std::size_t bytes, std::size_t n,
                               bool per_slot) {
    if (count == kMax) return;
    items[count++] = {name, n == 0 ? 0 : bytes / n, n, per_slot};
}

// The passwd buffers and the login guard's table come first (the
// constructor's member initialisers need them), then what the sessions
// share, then the slots and their buffers, the TLS pool's list and the
// command pool.

Server::Layout Server::lay_out(void* block, std::size_t size, const Config& config,
                               LayoutItems* items) {
    Arena arena = block == nullptr ? Arena::measuring() : Arena(block, size);
    const std::size_t clients = config.max_clients;
    std::size_t mark = 0;
    // Notes the bytes taken since the last note (padding included).
    auto note = [&](std::string_view name, std::size_t count, bool per_slot) {
        if (items != nullptr) items->note(name, arena.used() - mark, count, per_slot);
        mark = arena.used();
    };
    Layout l;
    l.passwd = static_cast<char*>(arena.take_bytes(2u * config.passwd_max_size, 1));
    note("passwd file buffers (passwd_max_size)", 2, false);
    l.guard = arena.take<LoginGuard::Entry>(kLoginGuardEntries);
    note("failed-login table", kLoginGuardEntries, false);
    const store::StoreLimits limits = store_limits_from(config);
    l.registry_size = store::Registry::bytes_needed(limits);
    l.registry = arena.take_bytes(l.registry_size, alignof(std::max_align_t));
    if (items != nullptr) {
        // The open mailboxes (state, record cache, gone list, change ring)
        // apart from the store's shared scratch buffer.
        store::StoreLimits none = limits;
        none.max_open_mailboxes = 0;
        const std::size_t shared = store::Registry::bytes_needed(none);
        const std::size_t boxes = limits.max_open_mailboxes;
        items->note("open mailboxes (open_mailboxes)", l.registry_size - shared, boxes, false);
        mark += l.registry_size - shared;
        note("store scratch", 1, false);
    }
    mark = arena.used();
    l.stream_scratch = static_cast<char*>(arena.take_bytes(kStreamScratch, 8));
    note("literal streaming scratch", 1, false);
    l.fetch_cache_size = std::size_t{config.fetch_cache_kib} * 1024;
    l.fetch_cache = arena.take_bytes(l.fetch_cache_size, 8);
    note("ENVELOPE/BODYSTRUCTURE cache (fetch_cache_kib)", 1, false);
    l.slots = arena.take<Slot>(clients);
    note("slot: Session object and connection state", clients, true);
    l.reservations = arena.take<session::QuotaReservations::Entry>(clients);
    note("quota reservation", clients, true);
    // One more: the fs port's flush completions (flush_events).
    l.wait_items = arena.take<port::WaitItem>(clients + 2 * kConfigMaxAddresses + 1);
    note("poll entries (slots, listeners, flush completions)",
         clients + 2 * kConfigMaxAddresses + 1, true);
    l.slot_stride = slot_stride(config, items);
    l.slot_buffers = static_cast<char*>(arena.take_bytes(clients * l.slot_stride, kBufferAlign));
    mark = arena.used();
    l.tls_free = arena.take<port::TlsSession*>(tls_engines(config));
    note("TLS engine free list (tls_sessions)", tls_engines(config), false);
    l.compress_free = arena.take<port::CompressSession*>(compress_engines(config));
    note("COMPRESS engine free list (compress_sessions)", compress_engines(config), false);
    // The command pool: its descriptors, then the blocks back to back.
    const std::size_t blocks = config.command_buffers;
    l.command_blocks = arena.take<session::CommandBlock>(blocks);
    l.command_free = arena.take<session::CommandBlock*>(blocks);
    note("pool: block descriptors (command_buffers)", blocks, false);
    for (std::size_t i = 0; i < blocks; ++i) {
        const session::CommandBlock b = take_command_block(arena, config, i == 0 ? items : nullptr);
        if (l.command_blocks != nullptr) l.command_blocks[i] = b;
    }
    lay_out_borrowed(arena, l, config, items);
    l.used = arena.used();
    l.complete = !arena.exhausted();
    return l;
}

// The pools lent per feature and per command after the command blocks:
// NOTIFY states, updating contexts, then the SORT/THREAD work areas.
void Server::lay_out_borrowed(Arena& arena, Layout& l, const Config& config, LayoutItems* items) {
    std::size_t mark = arena.used();
    auto note = [&](std::string_view name, std::size_t count, bool per_slot) {
        if (items != nullptr) items->note(name, arena.used() - mark, count, per_slot);
        mark = arena.used();
    };
    // What sessions borrow while they use NOTIFY (RFC 5465) or an updating
    // search context (RFC 5267 §4.3): free lists, then the objects.
    l.notify_free = arena.take<session::NotifyState*>(notify_states(config));
    l.notify_states = arena.take<session::NotifyState>(notify_states(config));
    note("pool: NOTIFY states (notify_sessions)", notify_states(config), false);
    l.context_free = arena.take<session::SearchContext*>(search_contexts(config));
    l.contexts = arena.take<session::SearchContext>(search_contexts(config));
    note("pool: updating search contexts (search_contexts)", search_contexts(config), false);
    // The SORT/THREAD work areas (RFC 5256), last: untouched until a SORT
    // needs one.
    mark = arena.used();
    l.sort_areas = arena.take<char*>(config.sort_buffers);
    note("pool: sort area list (sort_buffers)", config.sort_buffers, false);
    const std::size_t area = std::size_t{config.sort_buffer_kib} * 1024;
    for (std::size_t i = 0; i < config.sort_buffers; ++i) {
        char* a = static_cast<char*>(arena.take_bytes(area, kBufferAlign));
        if (l.sort_areas != nullptr) l.sort_areas[i] = a;
    }
    note("pool: SORT/THREAD work areas (sort_buffers x sort_buffer_kib)", config.sort_buffers,
         false);
}

namespace {

void put_padded(TextWriter& w, std::uint64_t v, std::size_t width) {
    FixedText<24> t;
    t.put_uint(v);
    for (std::size_t i = t.size(); i < width; ++i) w.put(' ');
    w.put(t.view());
}

}  // namespace

void Server::write_layout(const Config& config, TextWriter& w) {
    LayoutItems items;
    const Layout l = lay_out(nullptr, 0, config, &items);
    const std::size_t clients = config.max_clients;
    w.put("max_clients = ").put_uint(clients).put("\n");
    w.put("     bytes each      count   KiB total  item\n");
    std::size_t per_slot = 0;
    std::size_t counted = 0;
    for (std::size_t i = 0; i < items.count; ++i) {
        const LayoutItem& it = items.items[i];
        // The slot buffers are noted once for one slot: there are `clients`.
        const std::size_t count = it.per_slot && it.count == 1 ? clients : it.count;
        const std::size_t total = it.each * count;
        put_padded(w, it.each, 16);
        put_padded(w, count, 11);
        put_padded(w, (total + 512) / 1024, 12);
        w.put("  ").put(it.name).put(it.per_slot ? "  [per slot]" : "").put("\n");
        if (it.per_slot) per_slot += it.each;  // extras beyond max_clients are shared
        counted += total;
    }
    if (counted < l.used) {
        // Where an item's size is not a multiple of the next one's alignment
        // (32-bit targets: 4-byte poll entries before 8-aligned buffers; an
        // odd count divided into "each"). None on 64-bit hosts.
        put_padded(w, l.used - counted, 16);
        w.put("                         alignment padding between items\n");
        counted = l.used;
    }
    session::Session::write_layout(w);
    w.put("per slot: ").put_uint(per_slot).put(" bytes (").put_uint((per_slot + 512) / 1024);
    w.put(" KiB); shared: ").put_uint((l.used - per_slot * clients + 512) / 1024);
    w.put(" KiB; block: ").put_uint(l.used).put(" bytes");
    w.put(counted == l.used ? "\n" : " (items do not add up to the block)\n");
}

std::size_t Server::memory_needed(const Config& config) {
    return lay_out(nullptr, 0, config).used;
}

std::size_t Server::bytes_per_slot(const Config& config) {
    LayoutItems items;
    (void)lay_out(nullptr, 0, config, &items);
    std::size_t per_slot = 0;
    for (std::size_t i = 0; i < items.count; ++i) {
        if (items.items[i].per_slot) per_slot += items.items[i].each;
    }
    return per_slot;
}

Server::Server(port::Platform& platform, const Config& config, void* block, std::size_t size)
    : platform_(platform),
      config_(config),
      session_config_(session_config_from(config)),
      layout_(lay_out(block, size, config)),
      passwd_(layout_.passwd,
              layout_.passwd == nullptr ? nullptr : layout_.passwd + config.passwd_max_size,
              layout_.passwd == nullptr ? 0 : config.passwd_max_size),
      login_guard_(layout_.guard, kLoginGuardEntries, config.login_fail_delay_ms, kMaxLoginDelayMs,
                   kForgetFailuresMs),
      registry_(platform.fs, platform.clock, platform.entropy, store_limits_from(config)),
      services_{platform.log,    passwd_,
                login_guard_,    platform.tls != nullptr,
                &registry_,      config.mail_dir.view(),
                &platform.clock, &notify_events_} {
    passwd_.set_hasher(platform.password);
    // A block smaller than memory_needed(): no slots, the server does not serve.
    if (!layout_.complete) return;
    // No symbolic link is followed beneath mail_dir: a link planted in a
    // user's tree must not lead into another's (docs/STORAGE.md "Symbolic
    // links"). Without that, no slots: the server does not serve.
    if (platform.fs.confine(config.mail_dir.view()) != Status::Ok) return;
    Arena registry_arena(layout_.registry, layout_.registry_size);
    if (registry_.init(registry_arena) != Status::Ok) return;
    services_.stream_scratch = layout_.stream_scratch;
    services_.stream_scratch_size = kStreamScratch;
    // The ENVELOPE/BODYSTRUCTURE cache shared by all sessions (0 KiB: off).
    if (layout_.fetch_cache_size != 0) {
        std::uint64_t seed = 0;
        (void)platform.entropy.fill(&seed, sizeof seed);  // a fixed basis if it fails
        fetch_cache_.init(layout_.fetch_cache, layout_.fetch_cache_size, seed);
        if (fetch_cache_.enabled()) services_.fetch_cache = &fetch_cache_;
    }
    (void)place_slots();  // without the slots (slots_ready_ false), the server does not serve
}

// Readies the slots where the layout put them; each is constructed, over its
// share of the slot buffers, when a connection first needs it
// (construct_slot), so that an idle server's slots and buffers are reserved
// but not yet touched (docs/DESIGN.md "Memory reserved, touched on use").
bool Server::place_slots() {
    TINYIMAPD_ASSERT(layout_.complete);  // the constructor checked it
    const std::size_t clients = config_.max_clients;
    slots_ = static_cast<Slot*>(layout_.slots);
    wait_items_ = layout_.wait_items;
    reservations_.init(layout_.reservations, clients);
    services_.reservations = &reservations_;
    command_pool_.init(layout_.command_blocks, layout_.command_free, config_.command_buffers);
    services_.command_pool = &command_pool_;
    sort_pool_.init(layout_.sort_areas, config_.sort_buffers,
                    std::size_t{config_.sort_buffer_kib} * 1024);
    services_.work_areas = &sort_pool_;
    notify_pool_.init(layout_.notify_free, layout_.notify_states, notify_states(config_));
    services_.notify_pool = &notify_pool_;
    context_pool_.init(layout_.context_free, layout_.contexts, search_contexts(config_));
    services_.context_pool = &context_pool_;
    // Every slot's share has the same size: one that fits fits them all.
    Arena share(layout_.slot_buffers, layout_.slot_stride);
    if (!take_slot_buffers(share, config_).complete) return false;
    // The TLS engines the platform set up (port/tls.h: one per index).
    tls_pool_.init(layout_.tls_free, tls_engines(config_));
    std::size_t engines = 0;
    while (platform_.tls != nullptr && engines < tls_engines(config_) &&
           platform_.tls->session(engines) != nullptr) {
        ++engines;
    }
    // Added last to first: the first lent is session(0).
    for (std::size_t i = engines; i > 0; --i) (void)tls_pool_.add(platform_.tls->session(i - 1));
    if (platform_.tls != nullptr) services_.tls_pool = &tls_pool_;
    // The COMPRESS engines likewise (port/compress.h); none: not offered.
    compress_pool_.init(layout_.compress_free, compress_engines(config_));
    std::size_t zs = 0;
    while (platform_.compress != nullptr && zs < compress_engines(config_) &&
           platform_.compress->session(zs) != nullptr) {
        ++zs;
    }
    for (std::size_t i = zs; i > 0; --i)
        (void)compress_pool_.add(platform_.compress->session(i - 1));
    if (zs > 0) services_.compress_pool = &compress_pool_;
    slots_ready_ = true;
    return true;
}

// The next slot, constructed now: slots are constructed in order, the first
// time that many connections are open at once, and then kept (a slot a
// client left is reused as before). nullptr when all max_clients are.
Server::Slot* Server::construct_slot() {
    if (!slots_ready_ || slot_count_ >= config_.max_clients) return nullptr;
    const std::size_t i = slot_count_;
    Arena share(layout_.slot_buffers + i * layout_.slot_stride, layout_.slot_stride);
    SlotBuffers b = take_slot_buffers(share, config_);
    b.memory.slot = static_cast<std::uint32_t>(i);
    Slot* slot = new (&slots_[i]) Slot(session_config_, services_, b.memory);
    slot->in = b.in;
    ++slot_count_;
    return slot;
}

Status Server::load_passwd() {
    return passwd_.load(platform_.fs, config_.passwd_file.view());
}

Status Server::open_listeners() {
    if (!slots_ready_) return Status::Exhausted;
    if (!config_.tls_listen.empty() && platform_.tls == nullptr) {
        failed_address_ = config_.tls_listen[0];
        return Status::Unsupported;
    }
    const AddressList* lists[] = {&config_.listen, &config_.tls_listen};
    for (const AddressList* list : lists) {
        const bool tls = list == &config_.tls_listen;
        for (std::size_t i = 0; i < list->size(); ++i) {
            Result<port::Handle> h = platform_.net.listen((*list)[i]);
            if (!h.ok()) {
                failed_address_ = (*list)[i];
                return h.status;
            }
            listeners_[listener_count_++] = Listener{h.value, tls};
            log(port::LogLevel::Info, tls ? "listening (implicit TLS) on " : "listening on ",
                (*list)[i]);
        }
    }
    return Status::Ok;
}

Result<std::uint16_t> Server::listener_port(std::size_t i) const {
    if (i >= listener_count_ || listeners_[i].handle == port::kNoHandle) {
        return Result<std::uint16_t>::failure(Status::NotFound);
    }
    return platform_.net.local_port(listeners_[i].handle);
}

// What the loop waits for on an active slot's connection; lowers *deadline
// to when the slot needs a turn without any event.
port::WaitItem Server::wait_item(Slot& s, std::uint64_t now, std::uint64_t* deadline) {
    auto until = [deadline](std::uint64_t t) {
        if (t < *deadline) *deadline = t;
    };
    if (s.lingering) {
        until(s.close_by);
        return {s.handle, port::kWaitRead, 0};
    }
    std::uint8_t want = 0;
    if (!s.peer_eof && s.in_length < config_.input_buffer && s.session.can_receive()) {
        want |= port::kWaitRead;
        // Bytes already decrypted inside TLS: do not sleep on the socket.
        if (s.tls_on && s.tls->pending() > 0) until(now);
        if (s.z_on && s.z->input_pending()) until(now);  // inflated bytes waiting
    }
    if (!sent_all(s) || (s.tls_on && s.tls->wants_write())) {
        want |= port::kWaitWrite;
    } else if ((s.session.has_job() && !s.session.job_waiting()) || s.input_waiting) {
        until(now);  // more to answer and room for it: no sleeping
    } else if (s.session.wants_block() && s.in_length > 0 && s.session.can_receive()) {
        until(now);  // input waited for a command block and one is free
    }
    until(s.session.deadline());
    until(s.close_by);
    if (s.stalled_since != session::kNoDeadline) until(s.stalled_since + kOutputStallMs);
    return {s.handle, want, 0};
}

Status Server::run_once(std::int32_t max_wait_ms) {
    std::uint64_t now = platform_.clock.monotonic_ms();
    std::size_t n = 0;
    if (!shutting_down_) {
        for (std::size_t i = 0; i < listener_count_; ++i) {
            wait_items_[n++] = {listeners_[i].handle, port::kWaitRead, 0};
        }
    }
    const std::size_t first_slot_item = n;
    std::uint64_t deadline = session::kNoDeadline;
    for (std::size_t i = 0; i < slot_count_; ++i) {
        if (slots_[i].active) wait_items_[n++] = wait_item(slots_[i], now, &deadline);
    }

    // A compaction under way goes on in the next turn: no sleeping (a
    // shutdown abandons it; the next open discards its files).
    if (!shutting_down_ && registry_.background_pending()) deadline = now;
    // Sessions waiting for a flush wake when it is done: through its event
    // handle, or (an fs port without one) by polling each turn.
    const port::File flush_events = platform_.fs.flush_events();
    std::size_t flush_item = n;
    if (flush_events != port::kNoFile) {
        wait_items_[n++] = {flush_events, port::kWaitRead, 0};
    } else {
        for (std::size_t i = 0; i < slot_count_; ++i) {
            if (slots_[i].active && slots_[i].session.flush_waiting()) deadline = now;
        }
        if (registry_.group_flushing()) deadline = now;
    }
    std::int32_t timeout = max_wait_ms;
    if (deadline != session::kNoDeadline) {
        const std::uint64_t wait = deadline > now ? deadline - now : 0;
        if (timeout < 0 || wait < static_cast<std::uint64_t>(timeout)) {
            timeout = wait > INT32_MAX ? INT32_MAX : static_cast<std::int32_t>(wait);
        }
    }
    const Status st = platform_.net.wait(wait_items_, n, timeout);
    if (st == Status::Interrupted) return st;
    now = platform_.clock.monotonic_ms();
    if (flush_events == port::kNoFile || wait_items_[flush_item].got != 0) take_flushes();

    // Connections first, in the order they were listed, then the listeners.
    std::size_t item = first_slot_item;
    for (std::size_t i = 0; i < slot_count_; ++i) {
        Slot& s = slots_[i];
        if (!s.active) continue;
        serve(s, wait_items_[item++].got, now);
    }
    for (std::size_t i = 0; i < first_slot_item; ++i) {
        if (wait_items_[i].got != 0) accept_all(listeners_[i], now);
    }
    registry_.commit_groups();  // this turn's STOREs: one flush per mailbox
    // Bounded store work (one compaction piece: <= compact_step_bytes copied
    // or one fsync), after the sessions had their turn.
    if (!shutting_down_) registry_.background_step();
    return Status::Ok;
}

// Finished flushes (port/fs.h "Asynchronous flush") go to the sessions that started them
// (the token's high half is the slot) or the Registry (a group's); jobs go on in this turn.
void Server::take_flushes() {
    constexpr std::size_t kBatch = 16;
    port::FlushDone done[kBatch];
    for (;;) {
        const std::size_t n = platform_.fs.flush_done(done, kBatch);
        for (std::size_t i = 0; i < n; ++i) {
            if ((done[i].token & store::Registry::kFlushToken) != 0)  // a group's
                registry_.flush_completed(done[i].token, done[i].status);
            const std::size_t slot = static_cast<std::size_t>(done[i].token >> 32);
            if (slot < slot_count_ && slots_[slot].active) {
                slots_[slot].session.flush_completed(done[i].token, done[i].status);
            }
        }
        if (n < kBatch) return;
    }
}

// An fs port without an event handle (the sim) finishes a flush when asked:
// a job waiting for one goes on in this turn, as if the disk were instant
// (SimFs::set_flush_delay makes flushes take turns, so that tests can put
// other sessions' work in between).
void Server::settle_flushes(Slot& s, std::uint64_t now) {
    if (platform_.fs.flush_events() != port::kNoFile) return;
    for (int i = 0; i < kJobTurns && s.active && s.session.flush_waiting(); ++i) {
        take_flushes();
        if (s.session.flush_waiting()) return;  // not done yet (a simulated delay)
        s.session.run_job();
        flush(s, now);
    }
}

void Server::refuse(port::Handle h, std::string_view bye, std::string_view why,
                    const port::PeerAddress& peer) {
    // Best effort: the socket buffer of a just-accepted connection has room. On an
    // implicit-TLS listener there is nothing to say in plaintext.
    if (!bye.empty()) {
        (void)platform_.net.write(h, reinterpret_cast<const std::uint8_t*>(bye.data()), bye.size());
    }
    platform_.net.close(h);
    log(port::LogLevel::Warning, why, peer.view());
}

void Server::accept_all(const Listener& listener, std::uint64_t now) {
    for (;;) {
        port::PeerAddress peer;
        Result<port::Handle> h = platform_.net.accept(listener.handle, &peer);
        if (!h.ok()) return;  // WouldBlock, or a transient error on this one
        Slot* free_slot = nullptr;
        std::size_t same_address = 0;
        for (std::size_t i = 0; i < slot_count_; ++i) {
            Slot& c = slots_[i];
            if (!c.active) {
                if (free_slot == nullptr) free_slot = &c;
            } else if (c.peer.view() == peer.view()) {
                ++same_address;
            }
        }
        if (free_slot == nullptr) free_slot = construct_slot();
        if (free_slot == nullptr) {
            refuse(h.value, listener.tls ? std::string_view() : kTooMany,
                   "too many connections, refused ", peer);
            continue;
        }
        if (same_address >= config_.clients_per_address()) {
            refuse(h.value, listener.tls ? std::string_view() : kTooManyFromAddress,
                   "too many connections from one address, refused ", peer);
            continue;
        }
        Slot& s = *free_slot;
        if (listener.tls) {
            // RFC 8314 §3.2: nothing can be said in plaintext; without an
            // engine the connection is closed at once.
            s.tls = tls_pool_.take();
            if (s.tls == nullptr) {
                refuse(h.value, {}, "no TLS engine free (tls_sessions), refused ", peer);
                continue;
            }
            if (s.tls->start(h.value) != Status::Ok) {
                give_back_tls(s);
                refuse(h.value, {}, "TLS could not start, refused ", peer);
                continue;
            }
        }
        s.handle = h.value;
        s.active = true;
        s.lingering = false;
        s.peer_eof = false;
        s.in_length = 0;
        s.close_by = session::kNoDeadline;
        s.stalled_since = session::kNoDeadline;
        s.peer = peer;
        // RFC 8314 §3.2: on an implicit-TLS listener even the greeting is
        // encrypted.
        s.tls_on = listener.tls;
        s.session.open(peer.view(), now, s.tls_on);
        ++active_;
        log(port::LogLevel::Debug, "connection from ", peer.view());
        flush(s, now);
    }
}

port::IoResult Server::read_some(Slot& s) {
    if (s.z_on) return read_inflated(s);
    std::uint8_t* to = s.in + s.in_length;
    const std::size_t room = config_.input_buffer - s.in_length;
    return s.tls_on ? s.tls->read(to, room) : platform_.net.read(s.handle, to, room);
}

// Everything the session wrote is on its way: none left in its buffer, nor
// compressed bytes or a flush in the engine.
bool Server::sent_all(Slot& s) {
    if (!s.session.output().empty()) return false;
    return !s.z_on || (s.z->output().empty() && !s.z->deflate_pending());
}

port::IoResult Server::write_some(Slot& s, std::string_view out) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(out.data());
    const port::IoResult r =
        s.tls_on ? s.tls->write(data, out.size()) : platform_.net.write(s.handle, data, out.size());
    if (r.status == Status::Ok && r.bytes > 0) s.wrote = true;
    return r;
}

// Reads what the connection has for the session, if it can take it; false
// when the connection was closed. `*got`: bytes came.
bool Server::take_input(Slot& s, std::uint8_t ready, bool* got) {
    // With TLS, a readable or writable socket may mean handshake progress,
    // and decrypted bytes may wait inside the engine with nothing on the
    // socket: let the engine decide.
    const bool tls_ready = s.tls_on && (ready != 0 || s.tls->pending() > 0);
    const bool z_ready = s.z_on && s.z->input_pending();
    const bool readable =
        (ready & (port::kWaitRead | port::kWaitHangup)) != 0 || tls_ready || z_ready;
    if (readable && !s.peer_eof && s.in_length < config_.input_buffer && s.session.can_receive()) {
        port::IoResult r = read_some(s);
        if (r.status == Status::Ok) {
            s.in_length += r.bytes;
            *got = r.bytes > 0;
        } else if (r.status == Status::Eof) {
            s.peer_eof = true;
        } else if (r.status == Status::Invalid && s.z_on) {
            // RFC 4978: what follows COMPRESS is not a DEFLATE stream.
            s.session.shutdown("Corrupt compressed data");
            s.peer_eof = true;
        } else if (r.status != Status::WouldBlock) {
            close_slot(s, s.tls_on ? "TLS error or connection reset" : "connection reset");
            return false;
        }
    }
    return true;
}

void Server::serve(Slot& s, std::uint8_t ready, std::uint64_t now) {
    if (s.lingering) {
        drain(s, now);
        return;
    }
    bool got = false;
    s.wrote = false;
    if (!take_input(s, ready, &got)) return;
    s.session.tick(now);
    feed(s, now);
    flush(s, now);
    // A FETCH still answering goes on as its output drains; then the input
    // that waited behind it.
    // Bounded per turn, so one big FETCH does not starve the others.
    for (int turn = 0; turn < kJobTurns && s.active && s.session.has_job(); ++turn) {
        settle_flushes(s, now);
        s.session.run_job();
        flush(s, now);
        if (!s.session.output().empty()) break;  // the socket is full: wait for it
    }
    // Pipelined commands already read wait in `in` while the output has no
    // room for their answers; once flushing made room they are taken here,
    // not left for a socket event that will not come (the client sent
    // everything). Bounded per turn like the jobs; `input_waiting` makes the
    // loop come back without sleeping.
    s.input_waiting = false;
    for (int turn = 0; turn < kJobTurns && s.active && !s.session.has_job(); ++turn) {
        const bool could = s.session.can_receive();
        const std::size_t before = s.in_length;
        feed(s, now);
        flush(s, now);
        settle_flushes(s, now);
        if (s.in_length == 0 || !s.active || s.session.has_job()) break;
        if (could && s.in_length == before) break;  // a command still arriving
        if (!s.session.can_receive()) break;        // the socket must take output first
        s.input_waiting = turn + 1 == kJobTurns;
    }
    // A command that ended in this turn (its job done) gives its block back
    // for the sessions waiting for one (woken in run_once).
    s.session.return_block();
    if (!s.active) return;
    // Part of a command came (a line not yet whole stays in `in`) and no
    // answer carries the ACK: acknowledge now (port/net.h acknowledge()).
    if (got && !s.wrote && (s.in_length > 0 || s.session.mid_command()))
        platform_.net.acknowledge(s.handle);
    if (s.session.starttls_requested() && s.session.output().empty()) {
        start_tls(s);
        if (!s.active) return;
    }
    if (s.session.compress_requested() && sent_all(s)) {
        start_compress(s);
        if (!s.active) return;
    }
    if (s.stalled_since != session::kNoDeadline && now >= s.stalled_since + kOutputStallMs) {
        close_slot(s, "took none of its output for too long");
        return;
    }

    if (s.session.closing()) {
        if (sent_all(s)) {
            linger(s, "logged out", now);
        } else if (s.close_by == session::kNoDeadline) {
            s.close_by = now + kLingerMs;
        } else if (now >= s.close_by) {
            close_slot(s, "did not read its last output");
        }
        return;
    }
    if (s.peer_eof && s.in_length == 0 && sent_all(s) && s.session.can_receive()) {
        close_slot(s, "client closed the connection");
    }
}

void Server::feed(Slot& s, std::uint64_t now) {
    if (s.in_length == 0) return;
    const std::size_t used = s.session.receive(s.in, s.in_length, now);
    if (used == 0) return;
    std::memmove(s.in, s.in + used, s.in_length - used);
    s.in_length -= used;
}

// RFC 3501 §6.2.1, RFC 2595 §3.1: bytes the client pipelined after STARTTLS
// were sent in plaintext and are discarded, never executed.
void Server::start_tls(Slot& s) {
    s.in_length = 0;
    s.tls = s.session.hand_over_tls();  // taken from tls_pool_ before the OK
    if (s.tls == nullptr || s.tls->start(s.handle) != Status::Ok) {
        close_slot(s, "TLS handshake could not start");
        return;
    }
    s.tls_on = true;
    s.session.tls_started();
}

void Server::flush(Slot& s, std::uint64_t now) {
    bool progress = false;
    if (s.tls_on && sent_all(s) && s.tls->wants_write()) {
        // A record the engine already took is still partly unsent: push it.
        const port::IoResult r = s.tls->write(nullptr, 0);
        if (r.status != Status::Ok && r.status != Status::WouldBlock) {
            close_slot(s, "write failed");
            return;
        }
    }
    if (s.z_on && !write_deflated(s, &progress)) return;
    while (!s.z_on && !s.session.output().empty()) {
        port::IoResult r = write_some(s, s.session.output());
        if (r.status == Status::Ok) {
            s.session.output_sent(r.bytes);
            progress = true;
            continue;
        }
        if (r.status != Status::WouldBlock) {
            close_slot(s, "write failed");
            return;
        }
        break;
    }
    if (sent_all(s)) {
        s.stalled_since = session::kNoDeadline;
    } else if (progress || s.stalled_since == session::kNoDeadline) {
        s.stalled_since = now;
    }
}

void Server::close_slot(Slot& s, std::string_view why) {
    if (!s.active) return;
    if (!s.lingering) {
        s.session.end();
        if (s.tls_on) s.tls->finish();
    }
    give_back_tls(s);
    give_back_compress(s);
    s.tls_on = false;
    platform_.net.close(s.handle);
    s.handle = port::kNoHandle;
    s.active = false;
    s.lingering = false;
    s.in_length = 0;
    --active_;
    FixedText<256> w;
    w.put("connection closed: ").put(s.peer.view()).put(" (").put(why).put(')');
    platform_.log.write(port::LogLevel::Debug, w.view());
}

// The session is over and its last output sent: end it, shut down our
// sending side (after TLS's close_notify) and let drain() read what the
// client still sends until it closes or kDrainMs pass.
void Server::linger(Slot& s, std::string_view why, std::uint64_t now) {
    if (!s.active || s.lingering) return;
    s.session.end();
    if (s.tls_on) s.tls->finish();
    give_back_tls(s);
    give_back_compress(s);
    s.tls_on = false;
    platform_.net.shutdown_write(s.handle);
    s.lingering = true;
    s.why = why;
    s.in_length = 0;
    s.stalled_since = session::kNoDeadline;
    s.close_by = now + (shutting_down_ ? kShutdownDrainMs : kDrainMs);
}

void Server::give_back_tls(Slot& s) {
    if (s.tls == nullptr) return;
    if (!s.tls_on) s.tls->finish();  // started (or not) but never switched on: reusable again
    tls_pool_.give(s.tls);
    s.tls = nullptr;
}

void Server::drain(Slot& s, std::uint64_t now) {
    for (int i = 0; i < kDrainReads; ++i) {
        const port::IoResult r = platform_.net.read(s.handle, s.in, config_.input_buffer);
        if (r.status == Status::WouldBlock) break;
        if (r.status != Status::Ok) {
            close_slot(s, s.why);  // the client's end (or a reset): nothing more to wait for
            return;
        }
    }
    if (now >= s.close_by) close_slot(s, s.why);
}

void Server::begin_shutdown(std::string_view reason) {
    if (shutting_down_) return;
    shutting_down_ = true;
    for (std::size_t i = 0; i < listener_count_; ++i) {
        platform_.net.close(listeners_[i].handle);
        listeners_[i].handle = port::kNoHandle;
    }
    const std::uint64_t now = platform_.clock.monotonic_ms();
    for (std::size_t i = 0; i < slot_count_; ++i) {
        Slot& s = slots_[i];
        if (!s.active) continue;
        if (s.lingering) {
            if (s.close_by > now + kShutdownDrainMs) s.close_by = now + kShutdownDrainMs;
            continue;
        }
        s.session.shutdown(reason);
        flush(s, now);
        if (s.active && sent_all(s)) linger(s, "server shutdown", now);
    }
}

void Server::close_all() {
    for (std::size_t i = 0; i < slot_count_; ++i) close_slot(slots_[i], "server stopped");
    registry_.close_all();  // a compaction under way is abandoned (files removed)
    for (std::size_t i = 0; i < listener_count_; ++i) {
        if (listeners_[i].handle != port::kNoHandle) platform_.net.close(listeners_[i].handle);
        listeners_[i].handle = port::kNoHandle;
    }
}

void Server::log(port::LogLevel level, std::string_view a, std::string_view b, std::string_view c) {
    FixedText<512> w;
    w.put(a).put(b).put(c);
    platform_.log.write(level, w.view());
}

}  // namespace tinyimapd
