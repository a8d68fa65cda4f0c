// sked/runner.hpp — a thread that drives a scheduler on the real clock.
//
//     sked::thread_pool pool{4};
//     sked::scheduler s{{.backend = keys, .executor = pool.executor()}};
//     sked::runner r{s};                      // sleeps until the next due time, runs it
//     ...
//     auto report = r.stop(30s);              // graceful: see stop()
//
// It sleeps on a condition variable until the scheduler's next wakeup, and is woken
// early when jobs change (add, run_now, a retry), so an idle scheduler uses little CPU.
// No sleep is longer than max_wait (1 s): the sleep is measured on the steady clock, and
// a slot's due time on the wall clock, so a step of the wall clock (NTP, an operator, a
// resumed VM) is acted on within max_wait, forward or back.
// The scheduler's clock must be the real one (the default); drive a scheduler on a
// virtual clock with run_due() yourself.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <utility>

#include "scheduler.hpp"

namespace sked {

struct runner_options {
    /// The longest sleep between two looks at the clock: how soon a wall-clock step is
    /// noticed, at the cost of one wakeup per max_wait when idle.
    std::chrono::milliseconds max_wait{1'000};
};

class runner {
public:
    explicit runner(scheduler& engine, runner_options options = {})
        : engine_(engine), options_(options), signal_(std::make_shared<wake_signal>()) {
        // Shared, so a notification racing with the runner's destruction stays safe.
        engine_.on_wakeup_change([signal = signal_] { signal->raise(); });
        thread_ = std::jthread([this](std::stop_token stop) { loop(stop); });
    }
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;
    ~runner() { (void)stop(std::chrono::seconds{5}); }

    /// Graceful shutdown: stop dispatching, request stop on running jobs (their
    /// stop_token), wait up to `deadline` for them to return. Runs that return release
    /// their leases as usual; a run still going at the deadline keeps its lease until
    /// it expires, so no other replica starts the same slot while it may still write,
    /// and it is listed in the report. Calling it again reports nothing new.
    shutdown_report stop(std::chrono::milliseconds deadline) {
        if (stopped_) return {};
        stopped_ = true;
        engine_.stop_dispatching();
        thread_.request_stop();
        if (thread_.joinable()) thread_.join();
        engine_.on_wakeup_change({});
        shutdown_report report;
        report.stop_requested = engine_.request_stop_all();
        report.unfinished = engine_.wait_idle(std::chrono::steady_clock::now() + deadline);
        return report;
    }

private:
    struct wake_signal {
        std::mutex mutex;
        std::condition_variable_any changed;
        bool raised = false;
        void raise() {
            {
                std::lock_guard hold{mutex};
                raised = true;
            }
            changed.notify_one();
        }
    };

    void loop(const std::stop_token& stop) {
        auto& signal = *signal_;
        while (!stop.stop_requested()) {
            engine_.run_due();
            std::unique_lock hold{signal.mutex};
            if (!std::exchange(signal.raised, false)) {
                const auto raised = [&signal] { return signal.raised; };
                std::chrono::nanoseconds wait = options_.max_wait;
                if (const auto next = engine_.next_wakeup()) {
                    // Against the full-resolution clock: the engine's reads whole
                    // milliseconds, and waiting on those would wake up to 1 ms late.
                    wait = std::min(wait, std::chrono::nanoseconds{*next - std::chrono::system_clock::now()});
                }
                // wait_for is relative, so measured on the steady clock.
                if (wait > std::chrono::nanoseconds::zero()) signal.changed.wait_for(hold, stop, wait, raised);
                signal.raised = false;
            }
        }
    }

    scheduler& engine_;
    runner_options options_;
    std::shared_ptr<wake_signal> signal_;
    bool stopped_ = false;
    std::jthread thread_;  // last: started after the members it uses
};

}  // namespace sked
