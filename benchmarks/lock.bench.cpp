// Claims per second: the memory backend on one thread, and the Redis backend one round
// trip at a time and pipelined 16 deep, against a redis-server this program starts
// (or the one on $SKED_REDIS_PORT, so benchmarks/redis_compare.sh can measure
// redis-benchmark against the same server in the same run).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../tests/support/redis_server.hpp"
#include "sked/memory_backend.hpp"
#include "sked/redis/store.hpp"

namespace {

using namespace std::chrono_literals;

std::vector<std::string> make_keys(std::size_t count, std::string_view stem) {
    std::vector<std::string> keys;
    keys.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        std::string key{stem};
        key += std::to_string(i);
        key += "@2026-11-23T00:00:00Z";
        keys.push_back(std::move(key));
    }
    return keys;
}

// Steady state: every claim is of a key never claimed before (as run keys are), time
// moves 1 ms per claim and leases last 10 s, so about 10,000 keys are live and the
// expired ones are swept as the backend runs.
void memory_claim_steady(benchmark::State& state) {
    const auto keys = make_keys(1 << 20, "daily_reward_");
    sked::lease_clock::time_point now{};
    sked::memory_keys store{[&now] { return now += 1ms; }};
    std::size_t next = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(store.claim(keys[next], 10s));
        next = next + 1 == keys.size() ? 0 : next + 1;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(memory_claim_steady);

// Claims `keys` in turn with `each(store, key)`; when all were used, starts over with a
// new store, outside the timing.
template <class Each>
void claim_every_key_once(benchmark::State& state, std::string_view stem, Each each) {
    const auto keys = make_keys(1 << 20, stem);
    auto store = std::make_unique<sked::memory_keys>();
    std::size_t next = 0;
    for (auto _ : state) {
        if (next == keys.size()) {
            state.PauseTiming();
            store = std::make_unique<sked::memory_keys>();
            next = 0;
            state.ResumeTiming();
        }
        each(*store, keys[next++]);
    }
    state.SetItemsProcessed(state.iterations());
}

// Growth: a million claims that all stay live, so the map grows to 1M entries.
void memory_claim_growing(benchmark::State& state) {
    claim_every_key_once(state, "daily_reward_", [](sked::memory_keys& store, const std::string& key) {
        benchmark::DoNotOptimize(store.claim(key, 60s));
    });
}
BENCHMARK(memory_claim_growing);

// Claim and complete: what an exactly-once run costs on the memory backend.
void memory_claim_and_complete(benchmark::State& state) {
    claim_every_key_once(state, "drop_", [](sked::memory_keys& store, const std::string& key) {
        auto answer = store.claim(key, 60s);
        benchmark::DoNotOptimize(store.complete(answer->lease, 24h));
    });
}
BENCHMARK(memory_claim_and_complete);

void memory_lock_unlock(benchmark::State& state) {
    sked::memory_locks locks;
    for (auto _ : state) {
        auto held = locks.try_lock("trade_sweep", 30s);
        benchmark::DoNotOptimize(locks.unlock(held->lease));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(memory_lock_unlock);

sked::redis::options redis_options() {
    static std::unique_ptr<sked::test::redis_server> own;
    sked::redis::options settings;
    if (const char* port = std::getenv("SKED_REDIS_PORT")) {
        settings.port = std::atoi(port);
    } else {
        if (!own) own = std::make_unique<sked::test::redis_server>();
        settings.port = own->port();
    }
    settings.prefix = "bench";
    return settings;
}

// Claims of fresh keys, `batch` per round trip (claim_many, one script), with `settings`.
void claim_fresh_keys(benchmark::State& state, const sked::redis::options& settings, std::size_t batch) {
    sked::redis::keys keys{settings};
    const auto names = make_keys(1 << 20, std::to_string(std::rand()) + "_claim_");
    std::size_t next = 0;
    for (auto _ : state) {
        if (next + batch > names.size()) next = 0;
        std::optional<sked::backend_error> failed;
        if (batch == 1) {
            if (auto answer = keys.claim(names[next], 60s); !answer) failed = answer.error();
        } else if (auto answers = keys.claim_many(std::span{names.data() + next, batch}, 60s); !answers) {
            failed = answers.error();
        }
        if (failed) state.SkipWithError(failed->message().c_str());
        next += batch;
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}

// The server of redis_options() with a replica of its own, in sync: the settings for
// claims acknowledged by that replica too (WAIT 1, in the same round trip).
sked::redis::options waiting_for_a_replica() {
    auto settings = redis_options();
    static sked::test::redis_server replica{{"--replicaof", "127.0.0.1", std::to_string(settings.port)}};
    sked::redis::detail::connection link{replica.client()};
    for (int i = 0; i < 500; ++i) {
        auto info = link.run({"INFO", "replication"});
        if (info && sked::redis::detail::text_of(**info).find("master_link_status:up") != std::string_view::npos) break;
        std::this_thread::sleep_for(10ms);
    }
    settings.wait_replicas = 1;
    return settings;
}

void redis_claim(benchmark::State& state) { claim_fresh_keys(state, redis_options(), 1); }
BENCHMARK(redis_claim)->UseRealTime();
void redis_claim_pipelined_16(benchmark::State& state) { claim_fresh_keys(state, redis_options(), 16); }
BENCHMARK(redis_claim_pipelined_16)->UseRealTime();
// What WAIT 1 adds to a claim, and to a batch of 16 (one WAIT per round trip): compare
// the two above, the same server in the same run.
void redis_claim_wait_1(benchmark::State& state) { claim_fresh_keys(state, waiting_for_a_replica(), 1); }
BENCHMARK(redis_claim_wait_1)->UseRealTime();
void redis_claim_pipelined_16_wait_1(benchmark::State& state) { claim_fresh_keys(state, waiting_for_a_replica(), 16); }
BENCHMARK(redis_claim_pipelined_16_wait_1)->UseRealTime();

// Creating a durable one-off with a 32-byte payload: one script, one round trip
// (benchmarks/one_off_compare.sh sets it beside redis-benchmark's ZADD).
void redis_create_one_off(benchmark::State& state) {
    sked::redis::keys keys{redis_options()};
    const auto names = make_keys(1 << 20, std::to_string(std::rand()) + "_node_");
    const std::string payload(32, 'p');
    const auto due = std::chrono::floor<std::chrono::seconds>(sked::system_now()) + std::chrono::hours{48};
    std::size_t next = 0;
    for (auto _ : state) {
        auto made = keys.create_job({"expire_node", names[next++ % names.size()], due, sked::instant{due}, payload});
        if (!made) state.SkipWithError(made.error().message().c_str());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(redis_create_one_off)->UseRealTime();

// Taking 256 co-due one-offs in one take (the batch a scheduler asks for by default).
void redis_take_256(benchmark::State& state) {
    sked::redis::keys keys{redis_options()};
    const auto kind = make_keys(1, "take_").front().substr(0, 6);
    const auto names = make_keys(1 << 20, "n");
    const auto due = std::chrono::floor<std::chrono::seconds>(sked::system_now());
    const std::string payload(32, 'p');
    std::size_t made = 0;
    for (auto _ : state) {
        state.PauseTiming();
        for (int i = 0; i < 256; ++i)
            (void)keys.create_job({kind, names[made++ % names.size()], due, sked::instant{due}, payload});
        state.ResumeTiming();
        auto batch = keys.take_jobs(kind, sked::instant{due}, 256, 60s);
        if (!batch || batch->jobs.size() != 256) {
            state.SkipWithError("the take did not hand out 256 jobs");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations() * 256);
}
BENCHMARK(redis_take_256)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
