// benchmarks/wakeup_probe.hpp — how late job bodies start, for any driver of a scheduler
// (sked::runner in scheduler.bench.cpp, sked::asio::driver in asio.bench.cpp).
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sked/hash.hpp"
#include "sked/scheduler.hpp"

namespace bench {

/// `jobs` one-off jobs from the next whole second on, 200 a second, spread over each
/// second by the documented jitter; each records how late its body started against its
/// planned start.
class wakeup_probe {
public:
    wakeup_probe(sked::scheduler& s, int jobs) : jobs_(static_cast<std::size_t>(jobs)) {
        using namespace std::chrono_literals;
        const auto first = std::chrono::ceil<std::chrono::seconds>(std::chrono::system_clock::now()) + 1s;
        for (int i = 0; i < jobs; ++i) {
            (void)s.add({"probe-" + std::to_string(1'000'000 + i).substr(1),
                         sked::schedule::once(first + std::chrono::seconds{i / 200}),
                         [this](const sked::job_context& c) { started(c); },
                         {.mode = sked::distribution::local, .max_jitter = 999ms}});
        }
    }

    /// Waits until every job has started.
    void wait() {
        while (true) {
            std::this_thread::sleep_for(std::chrono::milliseconds{50});
            std::lock_guard hold{mutex_};
            if (late_us_.size() == jobs_) return;
        }
    }

    /// p50, p99 and max in µs, as the benchmark's counters.
    void report(benchmark::State& state) {
        std::lock_guard hold{mutex_};
        std::sort(late_us_.begin(), late_us_.end());
        state.counters["p50_us"] = late_us_[late_us_.size() / 2];
        state.counters["p99_us"] = late_us_[late_us_.size() * 99 / 100];
        state.counters["max_us"] = late_us_.back();
    }

private:
    void started(const sked::job_context& c) {
        const auto now = std::chrono::system_clock::now();
        // The documented jitter: spread(name, slot seconds, max_jitter ms + 1).
        const auto seconds = static_cast<std::uint64_t>(c.nominal.time_since_epoch().count());
        const auto planned = c.nominal + std::chrono::milliseconds{sked::spread(c.job, seconds, 1000)};
        std::lock_guard hold{mutex_};
        late_us_.push_back(std::chrono::duration<double, std::micro>(now - planned).count());
    }

    std::size_t jobs_;
    std::mutex mutex_;
    std::vector<double> late_us_;
};

}  // namespace bench
