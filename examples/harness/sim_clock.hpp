// examples/harness/sim_clock.hpp — virtual time that jobs can spend.
//
// sked::virtual_clock is enough for a scheduler; a simulated job that "takes 4 minutes"
// also needs to wait for virtual time to pass while the rest of the world goes on. Here
// jobs run on pool threads and call sleep_until(); the driver moves time forward only when
// every job is either finished or asleep (quiet()), so a run is as deterministic as the
// scheduler's decisions, however the threads are scheduled.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <utility>

#include <sked/clock.hpp>
#include <sked/scheduler.hpp>
#include <sked/thread_pool.hpp>

namespace example {

class sim_clock {
public:
    explicit sim_clock(sked::instant start, std::size_t threads) : now_(start), pool_(threads) {}

    [[nodiscard]] sked::instant now() const {
        std::lock_guard hold{mutex_};
        return now_;
    }
    [[nodiscard]] sked::clock_source source() {
        return [this] { return now(); };
    }
    /// Virtual time passes evenly on both clocks: the steady clock reads the wall clock
    /// since the epoch, as a time_point of std::chrono::steady_clock.
    [[nodiscard]] sked::steady_instant steady_now() const {
        return sked::steady_instant{
            std::chrono::duration_cast<sked::steady_instant::duration>(now().time_since_epoch())};
    }
    [[nodiscard]] sked::steady_source steady_source() {
        return [this] { return steady_now(); };
    }

    /// Runs tasks on the pool and counts them, so quiet() knows when all are asleep or done.
    /// The pool must have a thread for every job that can sleep at once (one per job and
    /// replica is plenty), or a queued task would wait for time that never moves.
    [[nodiscard]] sked::executor_function executor() {
        return [this](std::function<void()> task) {
            {
                std::lock_guard hold{mutex_};
                ++unfinished_;
            }
            pool_.submit([this, task = std::move(task)] {
                task();
                std::lock_guard hold{mutex_};
                if (--unfinished_ == asleep_) quiet_.notify_one();
            });
        };
    }

    /// From a job: returns once virtual time reaches `until`, or early when `stop` is requested.
    void sleep_until(sked::instant until, const std::stop_token& stop) {
        std::size_t id = 0;  // 0 until we sleep: a stop before that finds nothing to wake
        // A stop wakes us in the thread that requests it (the driver, through the
        // scheduler), so that thread already counts us awake when it next waits for quiet.
        // Registered before we count as asleep, or the driver could see us asleep and
        // stop us before the callback exists.
        const std::stop_callback on_stop(stop, [&] {
            std::lock_guard hold{mutex_};
            wake(until, id);
        });
        std::unique_lock hold{mutex_};
        if (now_ >= until || stop.stop_requested()) return;
        id = ++sleeper_ids_;
        sleepers_.insert({until, id});
        if (unfinished_ == ++asleep_) quiet_.notify_one();
        wake_.wait(hold, [&] { return woken_.contains(id); });
        woken_.erase(id);
    }

    /// When the earliest sleeping job wants to wake.
    [[nodiscard]] std::optional<sked::instant> next_wake() const {
        std::lock_guard hold{mutex_};
        if (sleepers_.empty()) return std::nullopt;
        return sleepers_.begin()->first;
    }

    /// Moves time to `to` and wakes the jobs whose sleep ends by then.
    void advance_to(sked::instant to) {
        std::lock_guard hold{mutex_};
        if (to > now_) now_ = to;
        while (!sleepers_.empty() && sleepers_.begin()->first <= now_)
            wake(sleepers_.begin()->first, sleepers_.begin()->second);
    }

    /// Blocks until every task submitted so far has finished or is asleep.
    void quiet() {
        std::unique_lock hold{mutex_};
        quiet_.wait(hold, [&] { return unfinished_ == asleep_; });
    }

private:
    /// Counts a sleeper awake and lets it go, unless that happened already. Holds mutex_.
    void wake(sked::instant until, std::size_t id) {
        const auto found = sleepers_.find({until, id});
        if (found == sleepers_.end()) return;
        sleepers_.erase(found);
        --asleep_;
        woken_.insert(id);
        wake_.notify_all();
    }

    mutable std::mutex mutex_;
    std::condition_variable quiet_;  // the driver waits here
    std::condition_variable wake_;  // sleeping jobs wait here
    sked::instant now_;
    std::multiset<std::pair<sked::instant, std::size_t>> sleepers_;
    std::set<std::size_t> woken_;
    std::size_t sleeper_ids_ = 0, unfinished_ = 0, asleep_ = 0;
    sked::thread_pool pool_;  // last: its threads are joined before the state they use goes
};

}  // namespace example
