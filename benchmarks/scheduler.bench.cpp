// The scheduler engine and runner:
//   engine_dispatch/N     N local jobs every second, driven on a virtual clock, inline:
//                         due jobs started and finished per second on one core
//   registered_jobs_memory  bytes per registered job at 1,000,000 jobs (heap, mallinfo2)
//   runner_wakeup_latency   real time: one-off jobs due on whole milliseconds, how late
//                           the job body starts (p50, p99, max in µs)
//   runner_idle_cpu         CPU the process uses while 1,000 jobs wait an hour away
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

#include "sked/cron.hpp"
#include "sked/runner.hpp"
#include "sked/scheduler.hpp"
#include "sked/thread_pool.hpp"
#include "wakeup_probe.hpp"

namespace {

using namespace std::chrono_literals;

std::string job_name(std::size_t i) {
    std::string name = "job-";
    const auto digits = std::to_string(i);
    name.append(7 - std::min<std::size_t>(7, digits.size()), '0').append(digits);  // 11 bytes: fits SSO
    return name;
}

void engine_dispatch(benchmark::State& state) {
    const auto jobs = static_cast<std::size_t>(state.range(0));
    sked::virtual_clock clock{sked::instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 23}}};
    sked::scheduler s{{.clock = clock.source(), .steady = clock.steady_source()}};
    std::size_t runs = 0;
    for (std::size_t i = 0; i < jobs; ++i) {
        (void)s.add({job_name(i),
                     sked::schedule::every(1s),
                     [&runs](const sked::job_context&) { ++runs; },
                     {.mode = sked::distribution::local}});
    }
    s.run_due(clock.now());
    for (auto _ : state) {
        clock.advance(1s);
        benchmark::DoNotOptimize(s.run_due(clock.now()));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(runs));
}
BENCHMARK(engine_dispatch)->Arg(1'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

// Bytes in use from malloc: small blocks plus the large ones it maps separately.
std::size_t heap_bytes() {
    const auto info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

void registered_jobs_memory(benchmark::State& state) {
    constexpr std::size_t jobs = 1'000'000;
    const auto every_minute = sked::schedule::every(60s);
    const auto nightly = sked::schedule::cron("0 3 * * *");
    for (auto _ : state) {
        const auto before = heap_bytes();
        {
            sked::virtual_clock clock{sked::instant{std::chrono::sys_days{std::chrono::year{2026} / 11 / 23}}};
            sked::scheduler s{{.clock = clock.source(), .steady = clock.steady_source()}};
            const auto start = std::chrono::sys_days{std::chrono::year{2026} / 11 / 24};
            for (std::size_t i = 0; i < jobs; ++i) {
                // A third each: a minute period, a nightly cron, a one-off timeout.
                const auto& schedule = i % 3 == 0   ? every_minute
                                       : i % 3 == 1 ? nightly
                                                    : sked::schedule::once(start + std::chrono::seconds{i});
                (void)s.add({job_name(i), schedule, [](const sked::job_context&) {}});
            }
            const auto after = heap_bytes();
            state.counters["bytes_per_job"] = static_cast<double>(after - before) / jobs;
            state.counters["jobs"] = static_cast<double>(s.size());
        }
    }
}
BENCHMARK(registered_jobs_memory)->Iterations(1)->Unit(benchmark::kMillisecond);

void runner_wakeup_latency(benchmark::State& state) {
    for (auto _ : state) {
        sked::thread_pool pool{2};
        sked::scheduler s{{.executor = pool.executor()}};
        bench::wakeup_probe probe{s, 400};
        sked::runner r{s};
        probe.wait();
        (void)r.stop(1s);
        probe.report(state);
    }
}
BENCHMARK(runner_wakeup_latency)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

void runner_idle_cpu(benchmark::State& state) {
    for (auto _ : state) {
        sked::thread_pool pool{2};
        sked::scheduler s{{.executor = pool.executor()}};
        const auto later = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) + 1h;
        for (std::size_t i = 0; i < 1000; ++i)
            (void)s.add({job_name(i), sked::schedule::once(later), [](const sked::job_context&) {}});
        sked::runner r{s};
        std::this_thread::sleep_for(100ms);  // let it settle into its wait
        const double before = process_cpu_seconds();
        std::this_thread::sleep_for(2s);
        const double used = process_cpu_seconds() - before;
        state.counters["cpu_ms_per_s"] = used * 1000.0 / 2.0;
        (void)r.stop(1s);
    }
}
BENCHMARK(runner_idle_cpu)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
