// sked/detail/settle_queue.hpp — the ends of runs that finish together, sent to the
// backend in one round trip (sked::batch_settles), as a database commits a group.
//
// No thread waits to fill a batch. A run that ends while no batch is on the wire sends
// at once, alone or with whatever else is queued; a run that ends while one is on the
// wire queues, and the first of the queued to wake after it sends all of them. A run's
// end so waits for at most the batch before it and its own: two round trips, never a
// timer. Batches hold at most max_batch items; the rest go in the next.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "../backend_ref.hpp"
#include "../idempotency.hpp"

namespace sked::detail {

class settle_queue {
public:
    static constexpr std::size_t max_batch = 256;

    explicit settle_queue(backend_ref backend) : backend_(std::move(backend)) {}

    /// Settles `one` with whatever else is queued; returns its answer.
    key_settled settle(const key_settlement& one) {
        waiting me{&one, {}};
        std::unique_lock lock{mutex_};
        queued_.push_back(&me);
        while (true) {
            while (!me.answer && sending_)
                answered_.wait(lock);
            if (me.answer) return *std::move(me.answer);
            send_queued(lock);  // nobody is sending, and this run is still queued: it sends
        }
    }

    /// How many run ends wait for a batch (not the one on the wire).
    [[nodiscard]] std::size_t queued() const {
        std::lock_guard hold{mutex_};
        return queued_.size();
    }

private:
    struct waiting {
        const key_settlement* item;
        std::optional<key_settled> answer;
    };

    // Sends the first max_batch queued (the caller among them, unless more were ahead).
    void send_queued(std::unique_lock<std::mutex>& lock) {
        sending_ = true;
        const auto n = std::min(queued_.size(), max_batch);
        std::vector<waiting*> batch(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(n));
        queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(n));
        lock.unlock();
        std::vector<key_settlement> items;
        items.reserve(batch.size());
        for (const auto* w : batch)
            items.push_back(*w->item);
        auto answers = backend_.settle_many(items);
        lock.lock();
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (answers && i < answers->size())
                batch[i]->answer = std::move((*answers)[i]);
            else if (answers)
                batch[i]->answer = key_settled{unanswered(), unanswered()};
            else
                batch[i]->answer = key_settled{answers.error(), answers.error()};
        }
        sending_ = false;
        answered_.notify_all();  // the answered return; the first still queued sends next
    }

    static backend_error unanswered() {
        return {backend_errc::protocol, "the backend answered fewer items of a batch than were sent"};
    }

    backend_ref backend_;
    mutable std::mutex mutex_;
    std::condition_variable answered_;
    std::vector<waiting*> queued_;
    bool sending_ = false;
};

}  // namespace sked::detail
