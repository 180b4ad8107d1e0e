#include "core/imap/thread.h"

#include <algorithm>

#include "core/base/text.h"

namespace tinyimapd::imap {
namespace {

constexpr std::int32_t kRoot = 0;  // the dummy parent of every thread (step 2)
constexpr std::int32_t kNone = -1;

std::uint32_t slot_count(std::uint32_t ids) {
    std::uint32_t n = 2;
    while (n < 2u * ids && n < (1u << 30)) n <<= 1;
    return n;
}

std::size_t node_count(std::uint32_t messages, std::uint32_t ids) {
    // The root, the messages, a dummy per referenced ID, a dummy per step-5 merge.
    return 1 + std::size_t{messages} * 2 + ids;
}

std::size_t align8(std::size_t n) {
    return (n + 7) & ~std::size_t{7};
}

}  // namespace

std::size_t ThreadWork::bytes(std::uint32_t messages, std::uint32_t ids) {
    const std::size_t nodes = node_count(messages, ids);
    return align8(nodes * sizeof(Node)) + align8(std::size_t{slot_count(ids)} * sizeof(Slot)) +
           align8(nodes * sizeof(std::int32_t)) + 8;
}

bool ThreadWork::init(void* area, std::size_t area_bytes, const ThreadMessage* msgs,
                      std::uint32_t count, std::uint32_t ids) {
    if (area_bytes < bytes(count, ids)) return false;
    auto* p = static_cast<char*>(area);
    p += (8 - reinterpret_cast<std::uintptr_t>(p) % 8) % 8;
    const std::size_t nodes = node_count(count, ids);
    nodes_ = static_cast<Node*>(static_cast<void*>(p));  // aligned above
    p += align8(nodes * sizeof(Node));
    slots_ = static_cast<Slot*>(static_cast<void*>(p));
    p += align8(std::size_t{slot_count(ids)} * sizeof(Slot));
    scratch_ = static_cast<std::int32_t*>(static_cast<void*>(p));
    msgs_ = msgs;
    count_ = count;
    node_cap_ = static_cast<std::uint32_t>(nodes);
    slot_mask_ = slot_count(ids) - 1;
    id_cap_ = ids;
    ids_ = dropped_ = 0;
    for (std::uint32_t i = 0; i <= slot_mask_; ++i) slots_[i] = {0, kNone};
    nodes_used_ = 0;
    (void)new_node(kNone);  // kRoot
    current_ = prev_ref_ = cursor_ = kNone;
    leaving_ = rendered_ = false;
    return true;
}

std::int32_t ThreadWork::new_node(std::int32_t msg) {
    const auto x = static_cast<std::int32_t>(nodes_used_++);
    nodes_[x] = {kNone, kNone, kNone, kNone, kNone, msg};
    return x;
}

// The node of an ID: found, or (create) a new dummy — kNone when the area
// holds no more IDs.
std::int32_t ThreadWork::lookup(std::uint64_t hash, bool create) {
    const std::uint64_t key = hash == 0 ? 1 : hash;
    std::uint32_t i = static_cast<std::uint32_t>(key ^ (key >> 32)) & slot_mask_;
    while (slots_[i].node != kNone) {
        if (slots_[i].key == key) return slots_[i].node;
        i = (i + 1) & slot_mask_;
    }
    if (!create || ids_ == id_cap_) return kNone;
    ++ids_;
    slots_[i] = {key, new_node(kNone)};
    return slots_[i].node;
}

// Whether `a` is `of` or one of its ancestors.
bool ThreadWork::is_ancestor(std::int32_t a, std::int32_t of) const {
    for (std::int32_t x = of; x != kNone; x = nodes_[x].parent) {
        if (x == a) return true;
    }
    return false;
}

void ThreadWork::unlink(std::int32_t x) {
    Node& n = nodes_[x];
    if (n.parent == kNone) return;
    Node& p = nodes_[n.parent];
    (n.prev == kNone ? p.first : nodes_[n.prev].next) = n.next;
    (n.next == kNone ? p.last : nodes_[n.next].prev) = n.prev;
    n.parent = n.next = n.prev = kNone;
}

void ThreadWork::append_child(std::int32_t parent, std::int32_t child) {
    Node& p = nodes_[parent];
    Node& c = nodes_[child];
    c.parent = parent;
    c.prev = p.last;
    c.next = kNone;
    (p.last == kNone ? p.first : nodes_[p.last].next) = child;
    p.last = child;
}

// Puts the unlinked `x` just before `pos` among pos's siblings.
void ThreadWork::insert_before(std::int32_t pos, std::int32_t x) {
    Node& n = nodes_[x];
    Node& at = nodes_[pos];
    n.parent = at.parent;
    n.next = pos;
    n.prev = at.prev;
    (at.prev == kNone ? nodes_[at.parent].first : nodes_[at.prev].next) = x;
    at.prev = x;
}

// ---------------------------------------------------------------- step 1

void ThreadWork::begin_message(std::uint32_t index, std::uint64_t id_hash) {
    std::int32_t x = id_hash != 0 ? lookup(id_hash, true) : kNone;
    // 1.A: an ID already taken by an earlier message is given a unique one,
    // as is a message without an ID (or whose ID no longer fits).
    if (x == kNone || !dummy(x)) x = new_node(static_cast<std::int32_t>(index));
    nodes_[x].msg = static_cast<std::int32_t>(index);
    current_ = x;
    prev_ref_ = kNone;
}

void ThreadWork::add_reference(std::uint64_t id_hash) {
    const std::int32_t r = lookup(id_hash, true);
    if (r == kNone) {
        ++dropped_;
        return;
    }
    // 1.A: the previous reference becomes this one's parent, unless it
    // already has one or that would make a loop.
    if (prev_ref_ != kNone && nodes_[r].parent == kNone && !is_ancestor(r, prev_ref_)) {
        append_child(prev_ref_, r);
    }
    prev_ref_ = r;
}

void ThreadWork::end_message() {
    // 1.B: the last reference is the parent, replacing any earlier link;
    // no references: no parent.
    const std::int32_t x = current_;
    if (prev_ref_ != kNone && nodes_[x].parent == prev_ref_) return;
    unlink(x);
    if (prev_ref_ != kNone && !is_ancestor(x, prev_ref_)) append_child(prev_ref_, x);
}

// ---------------------------------------------------------------- steps 2-6

std::int32_t ThreadWork::sort_msg(std::int32_t x) const {
    while (x != kNone && dummy(x)) x = nodes_[x].first;
    return x == kNone ? kNone : nodes_[x].msg;
}

// §2.2: by sent date, then by position in the mailbox.
bool ThreadWork::before(std::int32_t a, std::int32_t b) const {
    const std::int32_t ma = sort_msg(a), mb = sort_msg(b);
    if (ma == kNone || mb == kNone) return ma != kNone;  // (a childless dummy: none left)
    if (msgs_[ma].sent != msgs_[mb].sent) return msgs_[ma].sent < msgs_[mb].sent;
    return ma < mb;
}

void ThreadWork::sort_children(std::int32_t parent) {
    std::uint32_t n = 0;
    for (std::int32_t c = nodes_[parent].first; c != kNone; c = nodes_[c].next) scratch_[n++] = c;
    if (n < 2) return;
    std::sort(scratch_, scratch_ + n,
              [this](std::int32_t a, std::int32_t b) { return before(a, b); });
    Node& p = nodes_[parent];
    p.first = p.last = kNone;
    for (std::uint32_t i = 0; i < n; ++i) append_child(parent, scratch_[i]);
}

std::int32_t ThreadWork::descend(std::int32_t x) const {
    while (nodes_[x].first != kNone) x = nodes_[x].first;
    return x;
}

// Step 3 for one node whose children are already pruned.
void ThreadWork::prune(std::int32_t x) {
    if (!dummy(x)) return;
    const Node n = nodes_[x];
    const bool one_child = n.first != kNone && n.first == n.last;
    if (n.first != kNone && n.parent == kRoot && !one_child) return;  // kept under the root
    // No children: deleted. Children: promoted to this level.
    for (std::int32_t c = n.first, next; c != kNone; c = next) {
        next = nodes_[c].next;
        nodes_[c].parent = kNone;
        insert_before(x, c);
    }
    nodes_[x].first = nodes_[x].last = kNone;
    unlink(x);
}

// Step 5: the thread subject of a child of the root (a dummy's first child's).
std::int32_t ThreadWork::subject_of(std::int32_t x) const {
    const std::int32_t m = dummy(x) ? nodes_[nodes_[x].first].msg : nodes_[x].msg;
    return static_cast<std::int32_t>(msgs_[m].subject);
}

// Step 5.C for one child `x` of the root whose subject's table entry is
// another node `t`.
void ThreadWork::merge_into(std::int32_t t, std::int32_t x, std::int32_t* entry) {
    unlink(x);
    if (dummy(t) && dummy(x)) {
        for (std::int32_t c = nodes_[x].first, next; c != kNone; c = next) {
            next = nodes_[c].next;
            nodes_[c].parent = kNone;
            append_child(t, c);
        }
        nodes_[x].first = nodes_[x].last = kNone;
    } else if (dummy(t) || (msgs_[nodes_[x].msg].reply && !msgs_[nodes_[t].msg].reply)) {
        append_child(t, x);
    } else {
        const std::int32_t d = new_node(kNone);
        insert_before(t, d);
        unlink(t);
        append_child(d, t);
        append_child(d, x);
        *entry = d;
    }
}

void ThreadWork::merge_subjects() {
    // The subject table: one entry per subject rank (ranks < count + 1).
    std::int32_t* table = scratch_;
    for (std::uint32_t i = 0; i <= count_; ++i) table[i] = kNone;
    for (std::int32_t x = nodes_[kRoot].first; x != kNone; x = nodes_[x].next) {  // 5.B
        const std::int32_t s = subject_of(x);
        if (s == 0 || s > static_cast<std::int32_t>(count_)) continue;
        std::int32_t& t = table[s];
        if (t == kNone || (!dummy(t) && (dummy(x) || (msgs_[nodes_[t].msg].reply &&
                                                      !msgs_[nodes_[x].msg].reply)))) {
            t = x;
        }
    }
    for (std::int32_t x = nodes_[kRoot].first, next; x != kNone; x = next) {  // 5.C
        next = nodes_[x].next;
        const std::int32_t s = subject_of(x);
        if (s == 0 || s > static_cast<std::int32_t>(count_) || table[s] == x) continue;
        const std::int32_t t = table[s];
        merge_into(t, x, &table[s]);
        if (next == t) next = table[s];  // a new dummy took t's place
    }
}

void ThreadWork::finish_references() {
    // Step 2: every node without a parent goes under the root.
    for (std::uint32_t x = 1; x < nodes_used_; ++x) {
        if (nodes_[x].parent == kNone) append_child(kRoot, static_cast<std::int32_t>(x));
    }
    // Step 3, children first; a promoted child was pruned already.
    for (std::int32_t x = nodes_[kRoot].first == kNone ? kNone : descend(nodes_[kRoot].first);
         x != kNone;) {
        const std::int32_t parent = nodes_[x].parent, next = nodes_[x].next;
        prune(x);
        x = next != kNone ? descend(next) : parent == kRoot ? kNone : parent;
    }
    // Step 4: the threads by date (a dummy by its first child's, its
    // children sorted first).
    for (std::int32_t x = nodes_[kRoot].first; x != kNone; x = nodes_[x].next) {
        if (dummy(x)) sort_children(x);
    }
    sort_children(kRoot);
    merge_subjects();
    // Step 6: every set of siblings by date, the deepest first.
    for (std::int32_t x = nodes_[kRoot].first == kNone ? kNone : descend(nodes_[kRoot].first);
         x != kNone;) {
        const std::int32_t parent = nodes_[x].parent, next = nodes_[x].next;
        sort_children(x);
        x = next != kNone ? descend(next) : parent == kRoot ? kNone : parent;
    }
    sort_children(kRoot);
}

void ThreadWork::ordered_subject() {
    std::int32_t* order = scratch_;
    for (std::uint32_t i = 0; i < count_; ++i) order[i] = static_cast<std::int32_t>(i);
    std::sort(order, order + count_, [this](std::int32_t a, std::int32_t b) {
        const ThreadMessage &x = msgs_[a], &y = msgs_[b];
        if (x.subject != y.subject) return x.subject < y.subject;
        if (x.sent != y.sent) return x.sent < y.sent;
        return a < b;
    });
    // One thread per subject: its first message at the root, the others
    // its children, in that order (no grandchildren).
    std::int32_t head = kNone;
    for (std::uint32_t i = 0; i < count_; ++i) {
        const std::int32_t x = new_node(order[i]);
        if (head != kNone && msgs_[order[i]].subject == msgs_[nodes_[head].msg].subject) {
            append_child(head, x);
        } else {
            append_child(kRoot, x);
            head = x;
        }
    }
    sort_children(kRoot);
}

// ---------------------------------------------------------------- the answer

// One step of the walk that writes thread-data (RFC 5256 §5): a thread is
// "(" members ")"; a message is its number, then its only child after a
// space, or its children each in parentheses; a dummy (only under the
// root, with two or more children) writes just its children's lists.
std::size_t ThreadWork::render_step(char* out) {
    TextWriter w(out, 32);
    const std::int32_t x = cursor_;
    const Node& n = nodes_[x];
    const Node& p = nodes_[n.parent];
    const bool wrapped = n.parent == kRoot || p.first != p.last;
    if (!leaving_) {
        if (wrapped) w.put(!dummy(n.parent) && n.parent != kRoot && p.first == x ? " (" : "(");
        if (!dummy(x)) {
            if (!wrapped && !dummy(n.parent)) w.put(' ');
            w.put_uint(msgs_[n.msg].number);
        }
        if (n.first != kNone) {
            cursor_ = n.first;
        } else {
            leaving_ = true;
        }
        return w.size();
    }
    if (wrapped) w.put(')');
    if (n.next != kNone) {
        cursor_ = n.next;
        leaving_ = false;
    } else if (n.parent == kRoot) {
        rendered_ = true;
    } else {
        cursor_ = n.parent;
    }
    return w.size();
}

std::size_t ThreadWork::render(char* out, std::size_t cap, bool* done) {
    if (!rendered_ && cursor_ == kNone) {
        cursor_ = nodes_[kRoot].first;
        rendered_ = cursor_ == kNone;
    }
    std::size_t used = 0;
    while (!rendered_ && cap - used >= 32) used += render_step(out + used);
    *done = rendered_;
    return used;
}

}  // namespace tinyimapd::imap
