// The PostgreSQL backend's claims, against the server on $SKED_POSTGRES_URL (schema
// $SKED_POSTGRES_SCHEMA, migrated here). benchmarks/postgres_compare.sh starts a server
// and runs these beside pgbench's single-row INSERT ... ON CONFLICT DO NOTHING.
//   postgres_claim/threads:N      claim of a fresh key; one connection (store) per thread
//   postgres_claim_many_16        claim_many of 16 fresh keys: one round trip
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <sked/postgres/store.hpp>

namespace {

std::atomic<std::uint64_t> next_key{0};

std::unique_ptr<sked::postgres::keys> store_or_skip(benchmark::State& state) {
    const char* url = std::getenv("SKED_POSTGRES_URL");
    if (url == nullptr) {
        state.SkipWithError("set SKED_POSTGRES_URL (benchmarks/postgres_compare.sh does)");
        return nullptr;
    }
    const char* schema = std::getenv("SKED_POSTGRES_SCHEMA");
    sked::postgres::options settings{.url = url, .schema = schema ? schema : "sked_bench"};
    // Every thread: its claims must not start before the schema is there (migrate is
    // safe to run at once, and applies each migration once).
    if (auto done = sked::postgres::migrate(settings); !done) {
        state.SkipWithError(done.error().message().c_str());
        return nullptr;
    }
    return std::make_unique<sked::postgres::keys>(settings);
}

// Fresh in every run of the program too: the server keeps the keys of the runs before.
const std::string key_prefix = "bench-" + std::to_string(std::random_device{}()) + "@";

std::string fresh_key() { return key_prefix + std::to_string(next_key.fetch_add(1)); }

void postgres_claim(benchmark::State& state) {
    auto keys = store_or_skip(state);
    if (!keys) return;
    for (auto _ : state) {
        auto claimed = keys->claim(fresh_key(), std::chrono::minutes{10});
        if (!claimed || !claimed->acquired()) {
            state.SkipWithError(claimed ? "not acquired" : claimed.error().message().c_str());
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(postgres_claim)->UseRealTime()->Threads(1)->Threads(8)->Threads(32);

void postgres_claim_many_16(benchmark::State& state) {
    auto keys = store_or_skip(state);
    if (!keys) return;
    std::vector<std::string> batch(16);
    for (auto _ : state) {
        for (auto& key : batch)
            key = fresh_key();
        auto claimed = keys->claim_many(batch, std::chrono::minutes{10});
        if (!claimed) {
            state.SkipWithError(claimed.error().message().c_str());
            break;
        }
    }
    state.SetItemsProcessed(state.iterations() * 16);
}
BENCHMARK(postgres_claim_many_16)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
