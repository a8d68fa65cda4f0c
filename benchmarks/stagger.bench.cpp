// check() and plan() on tables of 10 to 100,000 jobs: periods of 1, 5, 10 and 60
// minutes, random offsets (fixed seed), durations of 1-5 s, and in the _long cases of
// 1 s to 2 min (a minute job may run its whole period).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "sked/stagger.hpp"
#include "sked/stagger_plan.hpp"

namespace {

struct table {
    std::vector<std::string> names;
    std::vector<sked::stagger_job> jobs;
};

table make_table(std::size_t count, std::uint32_t longest = 5) {
    std::mt19937_64 random{42};
    const std::uint32_t periods[] = {60, 300, 600, 3600};
    table t;
    t.names.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        t.names.push_back("job_" + std::to_string(i));
        const auto period = periods[random() % 4];
        t.jobs.push_back({.name = t.names.back(),
                          .period = period,
                          .offset = static_cast<std::uint32_t>(random() % period),
                          .duration = 1 + static_cast<std::uint32_t>(random() % std::min(longest, period))});
    }
    return t;
}

void stagger_check(benchmark::State& state) {
    const auto t = make_table(static_cast<std::size_t>(state.range(0)), static_cast<std::uint32_t>(state.range(1)));
    for (auto _ : state)
        benchmark::DoNotOptimize(sked::check(t.jobs));
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(stagger_check)
    ->ArgNames({"jobs", "longest"})
    ->ArgsProduct({{10, 1000, 10000, 100000}, {5, 120}})
    ->Unit(benchmark::kMillisecond);

void stagger_plan(benchmark::State& state) {
    const auto t = make_table(static_cast<std::size_t>(state.range(0)), static_cast<std::uint32_t>(state.range(1)));
    for (auto _ : state)
        benchmark::DoNotOptimize(sked::plan(t.jobs));
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(stagger_plan)
    ->ArgNames({"jobs", "longest"})
    ->ArgsProduct({{10, 1000, 10000, 100000}, {5, 120}})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
