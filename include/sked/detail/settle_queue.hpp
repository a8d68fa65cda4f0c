// sked/detail/settle_queue.hpp — the ends of runs that finish together, sent to the
// backend in one round trip (sked::batch_settles), as a database commits a group.
//
// No thread waits to fill a batch, and none waits for another's. A run that ends while
// no batch is on the wire sends at once, alone or with whatever is queued, and goes on
// sending what queued meanwhile until nothing is left; a run that ends while a batch is
// on the wire queues its end with what to do with the answer, and its thread goes back
// to work. The sender hands each answer on as it comes. A run's end so waits for at most
// the batch before it and its own: two round trips, never a timer. Batches hold at most
// max_batch items; the rest go in the next.
//
// A thread blocked on a run's end costs a sleep and a wake-up per run: with a pool
// busy with short runs, that was half of the CPU a replica spent (docs/benchmarks.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <future>
#include <mutex>
#include <utility>
#include <vector>

#include "../backend_ref.hpp"
#include "../idempotency.hpp"

namespace sked::detail {

class settle_queue {
public:
    static constexpr std::size_t max_batch = 256;
    /// What to do with an end's answer. It is called on whichever thread sent the batch,
    /// with no lock held; `item`'s pointers must stay valid until it has been called.
    using answered = std::function<void(key_settled)>;

    explicit settle_queue(backend_ref backend) : backend_(std::move(backend)) {}

    /// Settles `item` with whatever else is queued, and hands its answer to `then`:
    /// before this returns when this thread sends the batch, else on the sender's thread.
    /// After the last answer it hands on, the queue is not touched again, so an answer
    /// may end what owns the queue.
    void settle(const key_settlement& item, answered then) {
        std::vector<waiting> batch;
        {
            std::lock_guard hold{mutex_};
            queued_.push_back({&item, std::move(then)});
            if (sending_) return;  // the sender takes it with the next batch
            sending_ = true;
            take_batch(batch);
        }
        while (!batch.empty())
            batch = send(std::move(batch));
    }

    /// Settles `item` and waits for its answer.
    key_settled settle(const key_settlement& item) {
        std::promise<key_settled> answer;
        auto ready = answer.get_future();
        settle(item, [&answer](key_settled a) { answer.set_value(std::move(a)); });
        return ready.get();
    }

    /// How many run ends wait for a batch (not the one on the wire).
    [[nodiscard]] std::size_t queued() const {
        std::lock_guard hold{mutex_};
        return queued_.size();
    }

private:
    struct waiting {
        const key_settlement* item;
        answered then;
    };

    // Moves the first max_batch queued into `batch`; under the lock.
    void take_batch(std::vector<waiting>& batch) {
        const auto n = static_cast<std::ptrdiff_t>(std::min(queued_.size(), max_batch));
        batch.assign(std::make_move_iterator(queued_.begin()), std::make_move_iterator(queued_.begin() + n));
        queued_.erase(queued_.begin(), queued_.begin() + n);
    }

    // Sends `batch`, takes the next (or stops sending), then hands on the answers: the
    // queue is touched before the answers, never after the last of them.
    std::vector<waiting> send(std::vector<waiting> batch) {
        std::vector<key_settlement> items;
        items.reserve(batch.size());
        for (const auto& w : batch)
            items.push_back(*w.item);
        auto answers = backend_.settle_many(items);
        std::vector<waiting> next;
        {
            std::lock_guard hold{mutex_};
            take_batch(next);
            sending_ = !next.empty();
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (answers && i < answers->size())
                batch[i].then(std::move((*answers)[i]));
            else if (answers)
                batch[i].then(key_settled{unanswered(), unanswered()});
            else
                batch[i].then(key_settled{answers.error(), answers.error()});
        }
        return next;
    }

    static backend_error unanswered() {
        return {backend_errc::protocol, "the backend answered fewer items of a batch than were sent"};
    }

    backend_ref backend_;
    mutable std::mutex mutex_;
    std::vector<waiting> queued_;
    bool sending_ = false;
};

}  // namespace sked::detail
