// Many exactly-once slots due in the same second on a real Redis (the one on
// $SKED_REDIS_PORT, or one this program starts on a free 127.0.0.1 port and stops):
//   slot_load N R [THREADS]   N jobs, each once at the same second, registered on R
//                             replicas (each its own scheduler, connection and thread pool
//                             of THREADS, default 8): first with the run keys of slots due
//                             together claimed in batches and the ends of runs that
//                             finish together settled in batches, then each alone
// For each: did every slot run once? How long after the second did each start (p50, p99,
// last)? How many round trips (calls to the store, a batch being one) and Redis commands
// (INFO commandstats, the calls inside scripts too) and how much Redis CPU (INFO cpu)
// did a slot cost? How many keys and bytes of Redis memory does a slot leave behind (its
// run key, kept keep_done; here each job's slot record too, each job having one slot)?
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "own_redis.hpp"
#include "sked/redis/store.hpp"
#include "sked/runner.hpp"
#include "sked/scheduler.hpp"
#include "sked/thread_pool.hpp"

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// The Redis store, its calls counted; claim_many and settle_many only when `Batched` (a
// store without them is claimed and settled one run at a time: the engine as it was).
template <bool Batched>
struct counted_keys {
    sked::redis::keys& inner;
    std::atomic<long>& calls;

    sked::result<sked::grant, sked::backend_error> claim(std::string_view key, milliseconds ttl) {
        ++calls;
        return inner.claim(key, ttl);
    }
    sked::result<std::vector<sked::grant>, sked::backend_error> claim_many(std::span<const std::string> keys,
                                                                           milliseconds ttl) requires Batched {
        ++calls;
        return inner.claim_many(keys, ttl);
    }
    sked::result<std::vector<sked::key_settled>, sked::backend_error> settle_many(
        std::span<const sked::key_settlement> batch) requires Batched {
        ++calls;
        return inner.settle_many(batch);
    }
    sked::result<bool, sked::backend_error> renew(sked::lease& held, milliseconds ttl) {
        ++calls;
        return inner.renew(held, ttl);
    }
    sked::result<bool, sked::backend_error> complete(const sked::lease& held, milliseconds keep) {
        ++calls;
        return inner.complete(held, keep);
    }
    sked::result<bool, sked::backend_error> release(const sked::lease& held) {
        ++calls;
        return inner.release(held);
    }
    sked::result<std::optional<std::chrono::sys_seconds>, sked::backend_error> last_slot(std::string_view job) {
        ++calls;
        return inner.last_slot(job);
    }
    sked::result<bool, sked::backend_error> record_slot(std::string_view job, std::chrono::sys_seconds slot) {
        ++calls;
        return inner.record_slot(job, slot);
    }
};
static_assert(sked::batch_claims<counted_keys<true>> && sked::batch_settles<counted_keys<true>> &&
              !sked::batch_claims<counted_keys<false>> && !sked::batch_settles<counted_keys<false>>);

// The number in "calls=N" of every line of INFO commandstats, summed.
long long redis_commands(sked::redis::detail::connection& link) {
    auto info = link.run({"INFO", "commandstats"});
    if (!info) return -1;
    const auto text = sked::redis::detail::text_of(**info);
    long long total = 0;
    for (auto at = text.find("calls="); at != std::string_view::npos; at = text.find("calls=", at + 6))
        total += std::atoll(std::string(text.substr(at + 6, 20)).c_str());
    return total;
}

// The server's CPU time so far (INFO cpu: used_cpu_sys + used_cpu_user), in µs.
double redis_cpu_us(sked::redis::detail::connection& link) {
    auto info = link.run({"INFO", "cpu"});
    if (!info) return -1;
    const auto text = sked::redis::detail::text_of(**info);
    double total = 0;
    for (const std::string_view field : {"used_cpu_sys:", "used_cpu_user:"})
        if (const auto at = text.find(field); at != std::string_view::npos)
            total += std::atof(std::string(text.substr(at + field.size(), 20)).c_str());
    return total * 1e6;
}

// A number field of INFO (e.g. "used_memory:"), or -1.
long long info_number(sked::redis::detail::connection& link, const char* section, std::string_view field) {
    auto info = link.run({"INFO", section});
    if (!info) return -1;
    const auto text = sked::redis::detail::text_of(**info);
    const auto at = text.find(field);
    return at == std::string_view::npos ? -1 : std::atoll(std::string(text.substr(at + field.size(), 20)).c_str());
}

long long at_quantile(const std::vector<milliseconds>& sorted, double q) {
    if (sorted.empty()) return -1;
    return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))].count();
}

template <bool Batched>
bool run(std::size_t n, std::size_t replicas, std::size_t threads) {
    const sked::redis::options settings{.port = sked::bench::redis_port(), .prefix = "slots"};
    sked::redis::detail::connection link{settings};
    (void)link.run({"FLUSHALL"});
    (void)link.run({"CONFIG", "RESETSTAT"});
    const auto due = std::chrono::ceil<std::chrono::seconds>(sked::system_now()) + 3s;
    std::mutex mutex;
    std::vector<int> runs(n, 0);
    std::vector<milliseconds> lateness;
    lateness.reserve(n);
    std::atomic<long> calls{0};
    std::vector<std::unique_ptr<sked::redis::keys>> stores;
    std::vector<std::unique_ptr<counted_keys<Batched>>> counted;
    std::vector<std::unique_ptr<sked::thread_pool>> pools;
    std::vector<std::unique_ptr<sked::scheduler>> fleet;
    std::vector<std::unique_ptr<sked::runner>> runners;
    for (std::size_t r = 0; r < replicas; ++r) {
        stores.push_back(std::make_unique<sked::redis::keys>(settings));
        counted.push_back(std::make_unique<counted_keys<Batched>>(counted_keys<Batched>{*stores.back(), calls}));
        pools.push_back(std::make_unique<sked::thread_pool>(threads));
        fleet.push_back(std::make_unique<sked::scheduler>(
            sked::scheduler_options{.backend = *counted.back(), .executor = pools.back()->executor()}));
        for (std::size_t i = 0; i < n; ++i) {
            auto added = fleet.back()->add({"job-" + std::to_string(i),
                                            sked::schedule::once(due),
                                            [&, i](const sked::job_context& c) {
                                                const auto late = std::chrono::duration_cast<milliseconds>(
                                                    sked::system_now() - sked::instant{c.nominal});
                                                std::lock_guard hold{mutex};
                                                ++runs[i];
                                                lateness.push_back(late);
                                            },
                                            {.mode = sked::distribution::exactly_once}});
            if (!added) {
                std::fprintf(stderr, "%s\n", added.error().message.c_str());
                return false;
            }
        }
        runners.push_back(std::make_unique<sked::runner>(*fleet.back()));
    }
    const auto memory_before = info_number(link, "memory", "used_memory:");
    const auto calls_before = calls.load();
    const auto commands_before = redis_commands(link);
    const auto cpu_before = redis_cpu_us(link);
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < give_up) {
        {
            std::lock_guard hold{mutex};
            if (lateness.size() >= n) break;
        }
        std::this_thread::sleep_for(10ms);
    }
    std::this_thread::sleep_for(500ms);  // anything run twice shows now, and the completions are in
    for (auto& r : runners)
        (void)r->stop(5s);
    const auto cpu = redis_cpu_us(link) - cpu_before;
    const auto commands = redis_commands(link) - commands_before - 2;  // less the two INFOs
    const auto memory = info_number(link, "memory", "used_memory:") - memory_before;
    const auto keys = info_number(link, "keyspace", "keys=");
    std::lock_guard hold{mutex};
    const auto once = static_cast<std::size_t>(std::count(runs.begin(), runs.end(), 1));
    const auto twice = static_cast<std::size_t>(std::count_if(runs.begin(), runs.end(), [](int k) { return k > 1; }));
    std::sort(lateness.begin(), lateness.end());
    const auto per_slot = [n](double total) { return total / static_cast<double>(n); };
    std::printf(
        "%-8s %zu slots due in one second, %zu replicas x %zu threads: %zu ran once, %zu more than once, %zu never; "
        "start after the second p50 %lld ms, p99 %lld ms, last %lld ms; per slot %.2f round trips, %.2f Redis "
        "commands, %.1f us of Redis CPU; left behind %.2f keys, %.0f bytes\n",
        Batched ? "batched" : "alone", n, replicas, threads, once, twice, n - once - twice, at_quantile(lateness, 0.5),
        at_quantile(lateness, 0.99), at_quantile(lateness, 1.0),
        per_slot(static_cast<double>(calls.load() - calls_before)), per_slot(static_cast<double>(commands)),
        per_slot(cpu), per_slot(static_cast<double>(keys)), per_slot(static_cast<double>(memory)));
    return once == n;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || argc > 4) {
        std::fprintf(stderr, "usage: slot_load N REPLICAS [THREADS]\n");
        return 2;
    }
    const auto n = std::strtoul(argv[1], nullptr, 10);
    const auto replicas = std::strtoul(argv[2], nullptr, 10);
    const auto threads = argc == 4 ? std::strtoul(argv[3], nullptr, 10) : 8;
    const bool batched = run<true>(n, replicas, threads);
    const bool alone = run<false>(n, replicas, threads);
    return batched && alone ? 0 : 1;
}
