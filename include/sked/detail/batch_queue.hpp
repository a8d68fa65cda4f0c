// sked/detail/batch_queue.hpp — the ends of runs that finish together, sent to the
// backend in one round trip, as a database commits a group: run keys settled
// (settle_queue, sked::batch_settles) and one-offs finished (finish_queue,
// sked::batch_finishes).
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
#include <span>
#include <utility>
#include <vector>

#include "../backend_ref.hpp"
#include "../idempotency.hpp"
#include "../one_off.hpp"

namespace sked::detail {

/// Run keys: settle_many.
struct settle_calls {
    using item = key_settlement;
    using answer = key_settled;
    static result<std::vector<answer>, backend_error> send(const backend_ref& b, std::span<const item> items) {
        return b.settle_many(items);
    }
    static answer failed(const backend_error& e) { return {e, e}; }
};

/// One-offs: finish_jobs.
struct finish_calls {
    using item = job_finish;
    using answer = result<bool, backend_error>;
    static result<std::vector<answer>, backend_error> send(const backend_ref& b, std::span<const item> items) {
        return b.finish_jobs(items);
    }
    static answer failed(const backend_error& e) { return e; }
};

template <class Calls>
class batch_queue {
public:
    using item_type = typename Calls::item;
    using answer_type = typename Calls::answer;
    static constexpr std::size_t max_batch = 256;
    /// What to do with an end's answer. It is called on whichever thread sent the batch,
    /// with no lock held; `item`'s pointers must stay valid until it has been called.
    using answered = std::function<void(answer_type)>;

    explicit batch_queue(backend_ref backend) : backend_(std::move(backend)) {}

    /// Settles `item` with whatever else is queued, and hands its answer to `then`:
    /// before this returns when this thread sends the batch, else on the sender's thread.
    /// After the last answer it hands on, the queue is not touched again, so an answer
    /// may end what owns the queue.
    void settle(const item_type& item, answered then) {
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
    answer_type settle(const item_type& item) {
        std::promise<answer_type> answer;
        auto ready = answer.get_future();
        settle(item, [&answer](answer_type a) { answer.set_value(std::move(a)); });
        return ready.get();
    }

    /// How many run ends wait for a batch (not the one on the wire).
    [[nodiscard]] std::size_t queued() const {
        std::lock_guard hold{mutex_};
        return queued_.size();
    }

private:
    struct waiting {
        const item_type* item;
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
        std::vector<item_type> items;
        items.reserve(batch.size());
        for (const auto& w : batch)
            items.push_back(*w.item);
        auto answers = Calls::send(backend_, items);
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
                batch[i].then(Calls::failed(unanswered()));
            else
                batch[i].then(Calls::failed(answers.error()));
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

using settle_queue = batch_queue<settle_calls>;
using finish_queue = batch_queue<finish_calls>;

}  // namespace sked::detail
