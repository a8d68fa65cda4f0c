// sked/detail/due_queue.hpp — what comes due next: a binary min-heap of 16-byte entries.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sked::detail {

enum class due_kind : std::uint8_t {
    fire,  ///< a job's next slot (target = job index)
    ticket,  ///< a retry, a claim retry or a run-now (target = ticket id)
    renew,  ///< renew a run's lease (target = run id)
    timeout,  ///< check a run's timeout (target = run id)
};

struct due_entry {
    std::int64_t due_ms;
    std::uint32_t target;
    std::uint16_t generation;  ///< fire: the job's generation when pushed (stale if changed)
    due_kind kind;
    std::uint8_t unused = 0;
};
static_assert(sizeof(due_entry) == 16);

class due_queue {
public:
    void push(due_entry e) {
        entries_.push_back(e);
        std::push_heap(entries_.begin(), entries_.end(), later);
    }
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
    [[nodiscard]] const due_entry& top() const noexcept { return entries_.front(); }
    due_entry pop() {
        std::pop_heap(entries_.begin(), entries_.end(), later);
        const auto e = entries_.back();
        entries_.pop_back();
        return e;
    }
    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    void reserve(std::size_t n) { entries_.reserve(n); }

private:
    // Ties go by target, so jobs due together run in registration order.
    static bool later(const due_entry& a, const due_entry& b) noexcept {
        return a.due_ms != b.due_ms ? a.due_ms > b.due_ms : a.target > b.target;
    }
    std::vector<due_entry> entries_;
};

}  // namespace sked::detail
