// THREAD (RFC 5256 §BASE.6.4.THREAD): the ORDEREDSUBJECT and REFERENCES
// algorithms over the searched messages, and the thread-data they answer.
//
// The caller (the THREAD command) reads each searched message's headers and
// gives, in mailbox order, one ThreadMessage per message (sent date per §2.2
// with the INTERNALDATE fallback applied, the base subject's rank, whether
// its subject marks a reply or forward: base_subject.h) and, for REFERENCES,
// its Message-ID and references (message_id.h) as 64-bit hashes of the
// normalised IDs. Two different IDs with one hash would be threaded as one:
// with 64 bits that is about one chance in 10^9 for 200 000 IDs, the price
// of a work area that holds no strings.
//
// Subject ranks: equal base subjects (i;unicode-casemap, RFC 5256 §7) have
// equal ranks, a smaller rank collates first, 0 is the empty subject (which
// collates before every other, §BASE.6.4.SORT). The caller computes them.
//
// Memory: everything lives in the caller's work area (ThreadWork::bytes()
// for n messages and up to `ids` distinct IDs); nothing else is allocated.
// When the area holds no more IDs, further unknown references are ignored,
// as if the References header had been truncated (which the algorithm is
// built to tolerate); dropped_references() counts them.
//
// Cost: step 1's loop checks walk up the tree (RFC 5256: "make sure that A
// is not a descendent of B"), O(depth) per link; steps 2-6 are O(n log n).
//
// render() writes the thread-data's list ("(2)(3 6 (4 23)(44 7 96))", no
// "* THREAD" prefix) in pieces of any size: each call writes what fits and
// says whether it is done, so a job can send a 100 000-message answer
// through a small output buffer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tinyimapd::imap {

struct ThreadMessage {
    std::int64_t sent = 0;      // RFC 5256 §2.2, UTC seconds
    std::uint32_t number = 0;   // what the answer shows: sequence number or UID
    std::uint32_t subject = 0;  // base subject rank, 0 = empty
    bool reply = false;         // base subject extraction removed a reply/forward mark
};

class ThreadWork {
public:
    // Bytes of work area for `messages` messages and `ids` distinct message
    // IDs (their own and those they reference).
    static std::size_t bytes(std::uint32_t messages, std::uint32_t ids);

    // `msgs` stays the caller's and must outlive the ThreadWork. False if
    // the area is smaller than bytes(count, ids).
    bool init(void* area, std::size_t area_bytes, const ThreadMessage* msgs, std::uint32_t count,
              std::uint32_t ids);

    // REFERENCES step 1, one message at a time in mailbox order:
    // begin_message(i, its Message-ID hash or 0 if it has none valid), then
    // add_reference(h) for each reference in order (References, or the
    // first ID of In-Reply-To when References has none), then end_message().
    void begin_message(std::uint32_t index, std::uint64_t id_hash);
    void add_reference(std::uint64_t id_hash);
    void end_message();
    // REFERENCES steps 2-6, after every message went through step 1.
    void finish_references();

    // ORDEREDSUBJECT, instead of all of the above.
    void ordered_subject();

    // Writes the next part of the answer into out[0..cap) (cap >= 32);
    // returns the bytes written and sets *done once all is written.
    std::size_t render(char* out, std::size_t cap, bool* done);

    std::uint32_t dropped_references() const { return dropped_; }

private:
    struct Node {
        std::int32_t parent, first, last, next, prev;
        std::int32_t msg;  // index into msgs_, -1 for a dummy
    };
    struct Slot {
        std::uint64_t key;
        std::int32_t node;
    };

    std::int32_t new_node(std::int32_t msg);
    std::int32_t lookup(std::uint64_t hash, bool create);
    bool is_ancestor(std::int32_t a, std::int32_t of) const;
    void unlink(std::int32_t x);
    void append_child(std::int32_t parent, std::int32_t child);
    void insert_before(std::int32_t pos, std::int32_t x);
    std::int32_t descend(std::int32_t x) const;
    void prune(std::int32_t x);
    void sort_children(std::int32_t parent);
    std::int32_t subject_of(std::int32_t x) const;
    void merge_subjects();
    void merge_into(std::int32_t table_node, std::int32_t x, std::int32_t* table_entry);
    bool dummy(std::int32_t x) const { return nodes_[x].msg < 0; }
    // The message a node sorts as: itself, or a dummy's first child's.
    std::int32_t sort_msg(std::int32_t x) const;
    bool before(std::int32_t a, std::int32_t b) const;
    std::size_t render_step(char* out);

    const ThreadMessage* msgs_ = nullptr;
    std::uint32_t count_ = 0;
    Node* nodes_ = nullptr;
    std::uint32_t node_cap_ = 0, nodes_used_ = 0;
    Slot* slots_ = nullptr;
    std::uint32_t slot_mask_ = 0, ids_ = 0, id_cap_ = 0;
    std::int32_t* scratch_ = nullptr;  // one entry per node: sorting, subject table
    std::int32_t current_ = -1, prev_ref_ = -1;
    std::uint32_t dropped_ = 0;
    // Rendering cursor: the node to enter, or to leave when leaving_.
    std::int32_t cursor_ = -1;
    bool leaving_ = false, rendered_ = false;
};

}  // namespace tinyimapd::imap
