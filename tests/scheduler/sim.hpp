// tests/scheduler/sim.hpp — schedulers on a virtual clock, with their events recorded.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include <sked/scheduler.hpp>

#include "../support/time.hpp"

namespace sked::test {

using namespace std::chrono_literals;

/// An event with its strings owned.
struct seen {
    event_kind kind;
    skip_reason reason;
    std::string job;
    std::string slot;  // RFC 3339
    std::uint32_t attempt;
    fence_token fence;
    std::chrono::milliseconds duration, lateness;
    std::string message, replica;
    instant at;
};

/// Collects events from any number of schedulers (thread-safe).
class recorder {
public:
    event_hook hook() {
        return [this](const event& e) {
            std::lock_guard hold{mutex_};
            events_.push_back({e.kind, e.reason, std::string(e.job), utc(e.nominal), e.attempt, e.fence, e.duration,
                               e.lateness, std::string(e.message), std::string(e.replica), e.at});
        };
    }
    std::vector<seen> all() {
        std::lock_guard hold{mutex_};
        return events_;
    }
    std::vector<seen> of(event_kind kind) {
        std::vector<seen> out;
        for (auto& e : all())
            if (e.kind == kind) out.push_back(e);
        return out;
    }
    std::size_t count(event_kind kind, skip_reason reason = skip_reason::none) {
        std::size_t n = 0;
        for (auto& e : all())
            n += e.kind == kind && (kind != event_kind::skipped || reason == skip_reason::none || e.reason == reason);
        return n;
    }
    /// The slots of the `kind` events, in order.
    std::vector<std::string> slots(event_kind kind) {
        std::vector<std::string> out;
        for (auto& e : of(kind))
            out.push_back(e.slot);
        return out;
    }

private:
    std::mutex mutex_;
    std::vector<seen> events_;
};

/// Holds submitted runs until the test lets them go, so a job can be "still running".
class manual_executor {
public:
    executor_function function() {
        return [this](std::function<void()> task) { tasks_.push_back(std::move(task)); };
    }
    std::size_t pending() const { return tasks_.size(); }
    /// Runs the oldest held task.
    void run_one() {
        auto task = std::move(tasks_.front());
        tasks_.erase(tasks_.begin());
        task();
    }
    void run_all() {
        while (!tasks_.empty())
            run_one();
    }

private:
    std::vector<std::function<void()>> tasks_;
};

inline instant moment(std::string_view rfc3339) { return instant{at(rfc3339)}; }

/// Drives schedulers on one virtual clock: each due time in turn, as a runner would.
class simulation {
public:
    explicit simulation(std::string_view start = "2026-11-23T00:00:00Z") : clock(moment(start)) {}

    scheduler_options options(std::string replica = {}, backend_ref backend = {}) {
        return {.clock = clock.source(),
                .steady = clock.steady_source(),
                .backend = std::move(backend),
                .replica = std::move(replica),
                .hooks = {events.hook()}};
    }

    /// Runs every wakeup of `schedulers` up to and including `until`, then sets the
    /// clock to `until`.
    void run_until(instant until, std::vector<scheduler*> schedulers) {
        while (true) {
            std::optional<instant> next;
            for (auto* s : schedulers) {
                const auto w = s->next_wakeup();
                if (w && (!next || *w < *next)) next = w;
            }
            if (!next || *next > until) break;
            clock.set(*next);
            for (auto* s : schedulers)
                s->run_due(clock.now());
        }
        clock.set(until);
        for (auto* s : schedulers)
            s->run_due(clock.now());
    }
    void run_until(std::string_view until, std::vector<scheduler*> schedulers) {
        run_until(moment(until), std::move(schedulers));
    }
    void run_for(std::chrono::milliseconds d, std::vector<scheduler*> schedulers) {
        run_until(clock.now() + d, std::move(schedulers));
    }

    virtual_clock clock;
    recorder events;
};

/// A job body that does nothing.
inline void nothing(const job_context&) {}

}  // namespace sked::test

namespace doctest {
template <>
struct StringMaker<std::vector<std::string>> {
    static String convert(const std::vector<std::string>& v) {
        std::string out = "{";
        for (const auto& s : v)
            out += (out.size() > 1 ? ", " : "") + s;
        return (out + "}").c_str();
    }
};
}  // namespace doctest
