// sked/detail/due_queue.hpp — what comes due next: a min-heap of 16-byte entries.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sked::detail {

enum class due_kind : std::uint8_t {
    fire,  ///< a job's next slot (target = job index)
    deferred,  ///< a deferred attempt: a retry, a claim retry, a run_now, a recheck (target = its id)
    renew,  ///< renew a run's lease (target = run id)
    timeout,  ///< check a run's timeout (target = run id)
    settle,  ///< settle a run's end again at the backend (target = its id)
};

struct due_entry {
    std::int64_t due_ms;
    std::uint32_t target;
    std::uint16_t generation;  ///< fire: the job's generation when pushed (stale if changed)
    due_kind kind;
    std::uint8_t unused = 0;
};
static_assert(sizeof(due_entry) == 16);

// A 4-ary heap: half the depth of a binary one, and a node's children share a cache
// line (4 x 16 bytes), so a pop touches fewer lines (docs/benchmarks.md has the figures).
class due_queue {
public:
    /// `tie_salt`: the order of entries due at the same ms. 0 (the default) orders them by
    /// target, so jobs due together run in registration order; any other value orders
    /// them by a permutation of the targets that the salt picks (see scheduler: replicas
    /// that claim in batches each take jobs due together in an order of their own).
    explicit due_queue(std::uint32_t tie_salt = 0) noexcept : tie_salt_(tie_salt) {}

    void push(due_entry e) {
        std::size_t at = entries_.size();
        entries_.push_back(e);
        while (at > 0) {
            const std::size_t parent = (at - 1) / arity;
            if (!before(e, entries_[parent])) break;
            entries_[at] = entries_[parent];
            at = parent;
        }
        entries_[at] = e;
    }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
    [[nodiscard]] const due_entry& top() const noexcept { return entries_.front(); }
    due_entry pop() {
        const due_entry first = entries_.front();
        const due_entry last = entries_.back();
        entries_.pop_back();
        if (!entries_.empty()) sift_down(0, last);
        return first;
    }
    /// Removes the entries `drop(entry)` is true of; O(n), for changes that are rare (a
    /// stagger switch), never on the dispatch path.
    template <class Predicate>
    std::size_t erase_if(Predicate drop) {
        const auto erased = std::erase_if(entries_, drop);
        if (entries_.size() > 1)  // Floyd: sift each parent down, the last first
            for (std::size_t at = (entries_.size() - 2) / arity + 1; at-- > 0;)
                sift_down(at, entries_[at]);
        return erased;
    }
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    void reserve(std::size_t n) { entries_.reserve(n); }

private:
    static constexpr std::size_t arity = 4;
    // Puts `e` at `at` or below it, moving smaller children up.
    void sift_down(std::size_t at, const due_entry e) {
        const std::size_t n = entries_.size();
        while (true) {
            const std::size_t child = at * arity + 1;
            if (child >= n) break;
            std::size_t least = child;
            const std::size_t end = std::min(child + arity, n);
            for (std::size_t c = child + 1; c < end; ++c)
                if (before(entries_[c], entries_[least])) least = c;
            if (!before(entries_[least], e)) break;
            entries_[at] = entries_[least];
            at = least;
        }
        entries_[at] = e;
    }
    [[nodiscard]] bool before(const due_entry& a, const due_entry& b) const noexcept {
        return a.due_ms != b.due_ms ? a.due_ms < b.due_ms : tie_rank(a.target) < tie_rank(b.target);
    }
    // A bijection of the targets (xor, then an odd multiplier and a fold): no two tie.
    [[nodiscard]] std::uint32_t tie_rank(std::uint32_t target) const noexcept {
        if (tie_salt_ == 0) return target;
        const std::uint32_t x = (target ^ tie_salt_) * 0x9E3779B1U;
        return x ^ (x >> 16);
    }
    std::vector<due_entry> entries_;
    std::uint32_t tie_salt_;
};

}  // namespace sked::detail
