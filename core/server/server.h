// Server: the single-threaded event loop (after Redis's ae.c).
//
// It owns the listening handles and a fixed array of connection slots, each
// with an input buffer and a Session (with its parser arena, argument array
// and output buffer). All of it is carved out of one block reserved at
// startup (memory_needed() tells how big); afterwards nothing is allocated,
// whatever clients do (DESIGN.md "Memory: fixed at startup").
//
// One run_once() waits on every handle through the net port, accepts new
// connections (a client beyond max_clients gets "* BYE" and is closed),
// feeds each connection what arrived, flushes output, and fires timers
// (delayed LOGIN failures, autologout). A connection whose session cannot
// take input (output buffer full, reply delayed) is simply not read, so TCP
// flow control pushes back on that client only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/auth/login_guard.h"
#include "core/auth/passwd.h"
#include "core/server/config.h"
#include "core/session/session.h"
#include "port/platform.h"

namespace tinyimapd {

class Arena;

class Server {
public:
    // Bytes of the block the server needs for `config`.
    static std::size_t memory_needed(const Config& config);
    // What memory_needed() is made of, one line per item of the block (bytes
    // each, how many, total; items that scale with max_clients marked), then
    // the Session object's largest members and the sums per slot and shared.
    // `tinyimapd --print-layout`; docs/BENCHMARKS.md "Memory per slot".
    static void write_layout(const Config& config, TextWriter& w);
    // TLS engines the server lends to connections: tls_sessions, at most
    // max_clients. The platform's Tls must offer session(i) for each.
    static std::size_t tls_engines(const Config& config);
    // COMPRESS engines the server lends: compress_sessions, at most
    // max_clients. The platform's Compress must offer session(i) for each.
    static std::size_t compress_engines(const Config& config);
    // RFC 5465 NOTIFY states lent to sessions: notify_sessions, at most
    // max_clients; RFC 5267 updating contexts: search_contexts, at most
    // kSearchContexts per slot.
    static std::size_t notify_states(const Config& config);
    static std::size_t search_contexts(const Config& config);
    // Bytes the block grows by with one more client slot (the per-slot
    // items of lay_out and the slot buffers): what memory_needed() adds per
    // slot, and write_layout's "per slot".
    static std::size_t bytes_per_slot(const Config& config);
    // One item of the block, for write_layout().
    struct LayoutItem {
        std::string_view name;
        std::size_t each = 0;   // bytes of one (alignment padding included)
        std::size_t count = 0;  // how many
        bool per_slot = false;  // count grows with max_clients
    };
    struct LayoutItems {
        static constexpr std::size_t kMax = 32;
        LayoutItem items[kMax];
        std::size_t count = 0;
        void note(std::string_view name, std::size_t bytes, std::size_t count, bool per_slot);
    };

    // `block` must hold memory_needed(config) bytes and outlive the server.
    Server(port::Platform& platform, const Config& config, void* block, std::size_t size);
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Loads the passwd file; on failure the old users (if any) stay.
    Status load_passwd();
    std::size_t user_count() const { return passwd_.user_count(); }
    std::uint32_t passwd_error_line() const { return passwd_.last_error_line(); }

    // Listens on every configured address. On failure, failed_address() names
    // the address and the status says why (AddrInUse, Permission, Invalid).
    Status open_listeners();
    std::string_view failed_address() const { return failed_address_; }
    std::size_t listener_count() const { return listener_count_; }
    Result<std::uint16_t> listener_port(std::size_t i) const;

    // One turn of the loop: wait at most `max_wait_ms` (-1: until something
    // happens or a timer is due), then do all the work that is ready.
    // Returns Interrupted when a signal cut the wait short.
    Status run_once(std::int32_t max_wait_ms = -1);

    // Stops accepting, says "* BYE" to every client and lets their output
    // drain; the loop is done when connection_count() reaches 0 (or when the
    // caller's own deadline passes). A connection whose session is over
    // lingers (reads and discards input, up to 2 s or until the client
    // closes) before it is closed, and counts until then.
    void begin_shutdown(std::string_view reason);
    bool shutting_down() const { return shutting_down_; }
    std::size_t connection_count() const { return active_; }

    // Closes everything at once.
    void close_all();

private:
    struct Slot;
    struct Listener {
        port::Handle handle = port::kNoHandle;
        bool tls = false;  // implicit TLS (RFC 8314)
    };

    // Where each part of the block lies: lay_out() is the one description
    // of the block. memory_needed() runs it over no block (pointers null,
    // `used` the size), the constructor over the block it was given.
    struct Layout {
        char* passwd = nullptr;              // two buffers of passwd_max_size
        LoginGuard::Entry* guard = nullptr;  // kLoginGuardEntries
        void* registry = nullptr;            // Registry::bytes_needed
        std::size_t registry_size = 0;
        char* stream_scratch = nullptr;  // kStreamScratch
        void* fetch_cache = nullptr;     // fetch_cache_kib
        std::size_t fetch_cache_size = 0;
        void* slots = nullptr;  // max_clients Slots, constructed by place_slots
        session::QuotaReservations::Entry* reservations = nullptr;  // one per slot
        port::WaitItem* wait_items = nullptr;                       // slots and listeners
        port::TlsSession** tls_free = nullptr;            // tls_engines(): the TLS pool's free list
        port::CompressSession** compress_free = nullptr;  // compress_engines(): COMPRESS's
        session::CommandBlock* command_blocks = nullptr;  // command_buffers of them
        session::CommandBlock** command_free = nullptr;   // the pool's free list
        char** sort_areas = nullptr;                      // sort_buffers: the work area pool's list
        session::NotifyState* notify_states = nullptr;    // notify_states() of them
        session::NotifyState** notify_free = nullptr;     // the NOTIFY pool's free list
        session::SearchContext* contexts = nullptr;       // search_contexts() of them
        session::SearchContext** context_free = nullptr;  // the context pool's free list
        char* slot_buffers = nullptr;                     // max_clients shares of slot_stride
        std::size_t slot_stride = 0;                      // one slot's buffers (take_slot_buffers)
        std::size_t used = 0;                             // bytes of the block laid out
        bool complete = false;                            // the block held all of it
    };
    static Layout lay_out(void* block, std::size_t size, const Config& config,
                          LayoutItems* items = nullptr);
    static void lay_out_borrowed(Arena& arena, Layout& l, const Config& config,
                                 LayoutItems* items);
    bool place_slots();
    Slot* construct_slot();
    void accept_all(const Listener& listener, std::uint64_t now);
    void take_flushes();
    port::WaitItem wait_item(Slot& s, std::uint64_t now, std::uint64_t* deadline);
    void settle_flushes(Slot& slot, std::uint64_t now);
    void refuse(port::Handle h, std::string_view bye, std::string_view why,
                const port::PeerAddress& peer);
    port::IoResult read_some(Slot& slot);
    port::IoResult write_some(Slot& slot, std::string_view out);
    port::IoResult read_inflated(Slot& slot);
    bool write_deflated(Slot& slot, bool* progress);
    static bool sent_all(Slot& slot);
    void start_compress(Slot& slot);
    void give_back_compress(Slot& slot);
    void start_tls(Slot& slot);
    void give_back_tls(Slot& slot);
    bool take_input(Slot& slot, std::uint8_t ready, bool* got);
    void serve(Slot& slot, std::uint8_t ready, std::uint64_t now);
    void feed(Slot& slot, std::uint64_t now);
    void flush(Slot& slot, std::uint64_t now);
    void close_slot(Slot& slot, std::string_view why);
    void linger(Slot& slot, std::string_view why, std::uint64_t now);
    void drain(Slot& slot, std::uint64_t now);
    void log(port::LogLevel level, std::string_view a, std::string_view b = {},
             std::string_view c = {});

    port::Platform& platform_;
    const Config& config_;
    session::SessionConfig session_config_;
    Layout layout_;  // first: passwd_ and login_guard_ live where it says
    PasswdDb passwd_;
    LoginGuard login_guard_;
    store::Registry registry_;
    imap::FetchCache fetch_cache_;             // over fetch_cache_kib of the block
    session::QuotaReservations reservations_;  // one entry per slot, carved with the slots
    session::CommandPool command_pool_;        // command_buffers blocks, lent per command
    session::TlsPool tls_pool_;                // TLS engines, lent per connection
    session::WorkAreaPool sort_pool_;          // SORT/THREAD work areas, lent per command
    session::CompressPool compress_pool_;      // COMPRESS engines, lent per connection
    session::NotifyPool notify_pool_;          // RFC 5465 states, lent from NOTIFY SET on
    session::ContextPool context_pool_;        // RFC 5267 updating contexts, lent per context
    session::NotifyEvents notify_events_;      // RFC 5465 tree events, shared
    session::SessionServices services_;

    Slot* slots_ = nullptr;
    port::WaitItem* wait_items_ = nullptr;
    std::size_t slot_count_ = 0;  // slots constructed so far (construct_slot)
    bool slots_ready_ = false;    // place_slots() succeeded: slots may be constructed
    std::size_t active_ = 0;
    Listener listeners_[2 * kConfigMaxAddresses] = {};
    std::size_t listener_count_ = 0;
    std::string_view failed_address_;
    bool shutting_down_ = false;
};

}  // namespace tinyimapd
