#include "core/imap/sort_table.h"

#include <cstring>

namespace tinyimapd::imap {
namespace {

constexpr std::size_t kHead = 8;  // seq, number
constexpr std::size_t kSlot = 8;
constexpr std::size_t kMaxRecord = kHead + kSlot * kSortKeyCount;

std::uint32_t load32(const char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

void store32(char* p, std::uint32_t v) {
    std::memcpy(p, &v, sizeof v);
}

}  // namespace

bool sort_key_is_text(SortKey key) {
    return key != SortKey::Arrival && key != SortKey::Date && key != SortKey::Size;
}

std::size_t SortTable::record_bytes(const SortProgram& program) {
    return kHead + kSlot * program.count;
}

bool SortTable::init(void* area, std::size_t bytes, const SortProgram& program) {
    base_ = static_cast<char*>(area);
    size_ = bytes;
    program_ = program;
    record_ = record_bytes(program);
    for (std::size_t i = 0; i < program.count; ++i)
        text_[i] = sort_key_is_text(program.criteria[i].key);
    records_end_ = 0;
    heap_low_ = bytes;
    count_ = 0;
    phase_ = Phase::Build;
    build_ = end_ = 0;
    return base_ != nullptr && record_ <= kMaxRecord;
}

const char* SortTable::blob(std::string_view bytes) {
    if (heap_low_ - records_end_ < bytes.size()) return nullptr;
    heap_low_ -= bytes.size();
    if (!bytes.empty()) std::memcpy(base_ + heap_low_, bytes.data(), bytes.size());
    return base_ + heap_low_;
}

bool SortTable::add(std::uint32_t seq, std::uint32_t number, const SortValue* values) {
    std::size_t text_bytes = 0;
    for (std::size_t k = 0; k < program_.count; ++k) {
        if (text_[k])
            text_bytes +=
                values[k].text.size() < kSortTextMax ? values[k].text.size() : kSortTextMax;
    }
    if (heap_low_ - records_end_ < record_ + text_bytes || count_ == UINT32_MAX) return false;
    char* r = base_ + records_end_;
    store32(r, seq);
    store32(r + 4, number);
    for (std::size_t k = 0; k < program_.count; ++k) {
        char* slot = r + kHead + kSlot * k;
        if (!text_[k]) {
            std::memcpy(slot, &values[k].number, kSlot);
            continue;
        }
        const std::string_view t = values[k].text.substr(0, kSortTextMax);
        const char* at = blob(t);  // fits: checked above
        store32(slot, static_cast<std::uint32_t>(at - base_));
        store32(slot + 4, static_cast<std::uint32_t>(t.size()));
    }
    records_end_ += record_;
    ++count_;
    return true;
}

std::uint32_t SortTable::seq(std::uint32_t i) const {
    return load32(record(i));
}

std::uint32_t SortTable::number(std::uint32_t i) const {
    return load32(record(i) + 4);
}

std::string_view SortTable::text(std::uint32_t i, std::size_t criterion) const {
    const char* slot = record(i) + kHead + kSlot * criterion;
    return {base_ + load32(slot), load32(slot + 4)};
}

// RFC 5256: the criteria in order, REVERSE turning one; then the sequence
// number, ascending whatever REVERSE said.
int SortTable::compare(std::uint32_t a, std::uint32_t b) const {
    const char* ra = record(a);
    const char* rb = record(b);
    for (std::size_t k = 0; k < program_.count; ++k) {
        int c = 0;
        if (text_[k]) {
            const std::string_view x = text(a, k), y = text(b, k);
            const std::size_t n = x.size() < y.size() ? x.size() : y.size();
            c = n == 0 ? 0 : std::memcmp(x.data(), y.data(), n);
            if (c == 0) c = x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
        } else {
            std::int64_t x, y;
            std::memcpy(&x, ra + kHead + kSlot * k, kSlot);
            std::memcpy(&y, rb + kHead + kSlot * k, kSlot);
            c = x < y ? -1 : x > y ? 1 : 0;
        }
        if (c != 0) return program_.criteria[k].reverse ? -c : c;
    }
    const std::uint32_t sa = load32(ra), sb = load32(rb);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
}

void SortTable::swap(std::uint32_t a, std::uint32_t b) {
    char tmp[kMaxRecord];
    std::memcpy(tmp, record(a), record_);
    std::memcpy(record(a), record(b), record_);
    std::memcpy(record(b), tmp, record_);
}

// Max-heap over [0, end): the largest record goes last in Extract.
void SortTable::sift_down(std::uint32_t root, std::uint32_t end) {
    for (;;) {
        const std::uint64_t left = 2 * std::uint64_t{root} + 1;
        if (left >= end) return;
        auto child = static_cast<std::uint32_t>(left);
        if (child + 1 < end && compare(child, child + 1) < 0) ++child;
        if (compare(root, child) >= 0) return;
        swap(root, child);
        root = child;
    }
}

bool SortTable::sort_step(std::uint32_t budget) {
    if (phase_ == Phase::Build && build_ == 0 && end_ == 0) {
        build_ = count_ / 2;
        end_ = count_;
    }
    while (budget > 0 && phase_ != Phase::Done) {
        --budget;
        if (phase_ == Phase::Build) {
            if (build_ == 0) {
                phase_ = Phase::Extract;
                continue;
            }
            sift_down(--build_, count_);
            continue;
        }
        if (end_ <= 1) {
            phase_ = Phase::Done;
            break;
        }
        --end_;
        swap(0, end_);
        sift_down(0, end_);
    }
    if (phase_ != Phase::Done && count_ <= 1) phase_ = Phase::Done;
    return phase_ == Phase::Done;
}

}  // namespace tinyimapd::imap
