// Durable one-offs at scale on a real Redis (the one on $SKED_REDIS_PORT, or one this
// program starts on a free 127.0.0.1 port and stops):
//   one_off_load memory N      N pending one-offs with a 32-byte payload: Redis's
//                              used_memory before and after, per job; and what a replica
//                              that handles the kind holds in its own memory meanwhile
//   one_off_load dispatch N R  N one-offs due in the same second, R replicas (each its own
//                              scheduler, connection and thread pool): every one ran once?
//                              how long after the due second did the last start?
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
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

long long used_memory(sked::redis::detail::connection& link) {
    auto info = link.run({"INFO", "memory"});
    if (!info) return -1;
    const auto text = sked::redis::detail::text_of(**info);
    const auto at = text.find("used_memory:");
    return at == std::string_view::npos ? -1 : std::atoll(std::string(text.substr(at + 12, 20)).c_str());
}

long rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string word;
    while (status >> word)
        if (word == "VmRSS:") {
            long kib = 0;
            status >> kib;
            return kib;
        }
    return -1;
}

std::string node(std::size_t i) { return "node-" + std::to_string(i); }

int memory(std::size_t n) {
    const sked::redis::options settings{.port = sked::bench::redis_port(), .prefix = "load"};
    sked::redis::detail::connection link{settings};
    (void)link.run({"FLUSHALL"});
    // A replica that handles the kind, polling as it would in a service.
    sked::redis::keys replica_keys{settings};
    sked::scheduler replica{{.backend = replica_keys}};
    (void)replica.on("expire_node", [](const sked::one_off_context&) {});
    replica.run_due();
    const long rss_before = rss_kib();
    const long long before = used_memory(link);
    const auto due = std::chrono::floor<std::chrono::seconds>(sked::system_now()) + std::chrono::hours{48};
    const std::string payload(32, 'p');
    // Four connections at once: the server, not one client's round trips, is the limit.
    std::vector<std::thread> creators;
    std::atomic<std::size_t> failed{0};
    const auto started = std::chrono::steady_clock::now();
    for (std::size_t t = 0; t < 4; ++t)
        creators.emplace_back([&, t] {
            sked::redis::keys keys{settings};
            for (std::size_t i = t; i < n; i += 4)
                if (auto made = keys.create_job({"expire_node", node(i), due, sked::instant{due}, payload});
                    !made || *made != sked::create_status::created)
                    ++failed;
        });
    for (auto& c : creators)
        c.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    for (int i = 0; i < 5; ++i) {  // the replica keeps polling; it loads nothing
        replica.run_due();
        std::this_thread::sleep_for(200ms);
    }
    const long long after = used_memory(link);
    const long rss_after = rss_kib();
    const auto status = replica.status();
    std::printf("%zu pending one-offs (32-byte payload), created in %.1f s on 4 connections, %zu failed\n", n, seconds,
                failed.load());
    std::printf("redis used_memory: %lld -> %lld bytes: %.1f bytes per one-off\n", before, after,
                static_cast<double>(after - before) / static_cast<double>(n));
    std::printf("replica RSS: %ld -> %ld KiB: %.2f bytes per one-off; it sees %llu pending\n", rss_before, rss_after,
                static_cast<double>(rss_after - rss_before) * 1024.0 / static_cast<double>(n),
                static_cast<unsigned long long>(status.one_offs.at(0).queue.pending));
    return failed == 0 ? 0 : 1;
}

int dispatch(std::size_t n, std::size_t replicas) {
    const sked::redis::options settings{.port = sked::bench::redis_port(), .prefix = "dispatch"};
    sked::redis::detail::connection link{settings};
    (void)link.run({"FLUSHALL"});
    const auto due = std::chrono::ceil<std::chrono::seconds>(sked::system_now()) + 3s;
    {
        sked::redis::keys keys{settings};
        for (std::size_t i = 0; i < n; ++i)
            (void)keys.create_job({"expire_node", node(i), due, sked::instant{due}, std::string(32, 'p')});
    }
    std::mutex mutex;
    std::vector<int> runs(n, 0);
    std::vector<milliseconds> lateness;
    lateness.reserve(n);
    std::vector<std::unique_ptr<sked::redis::keys>> stores;
    std::vector<std::unique_ptr<sked::thread_pool>> pools;
    std::vector<std::unique_ptr<sked::scheduler>> fleet;
    std::vector<std::unique_ptr<sked::runner>> runners;
    for (std::size_t r = 0; r < replicas; ++r) {
        stores.push_back(std::make_unique<sked::redis::keys>(settings));
        pools.push_back(std::make_unique<sked::thread_pool>(4));
        fleet.push_back(std::make_unique<sked::scheduler>(
            sked::scheduler_options{.backend = *stores.back(), .executor = pools.back()->executor()}));
        (void)fleet.back()->on("expire_node", [&](const sked::one_off_context& c) {
            const auto late = std::chrono::duration_cast<milliseconds>(sked::system_now() - sked::instant{c.slot});
            const auto i = static_cast<std::size_t>(std::atol(std::string(c.key.substr(5)).c_str()));
            std::lock_guard hold{mutex};
            ++runs[i];
            lateness.push_back(late);
        });
        runners.push_back(std::make_unique<sked::runner>(*fleet.back()));
    }
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < give_up) {
        {
            std::lock_guard hold{mutex};
            if (lateness.size() >= n) break;
        }
        std::this_thread::sleep_for(10ms);
    }
    std::this_thread::sleep_for(500ms);  // anything run twice shows now
    for (auto& r : runners)
        (void)r->stop(5s);
    std::lock_guard hold{mutex};
    const auto once = static_cast<std::size_t>(std::count(runs.begin(), runs.end(), 1));
    const auto twice = static_cast<std::size_t>(std::count_if(runs.begin(), runs.end(), [](int k) { return k > 1; }));
    std::sort(lateness.begin(), lateness.end());
    const auto at = [&](double q) {
        return lateness.empty()
                   ? -1LL
                   : static_cast<long long>(
                         lateness[static_cast<std::size_t>(q * static_cast<double>(lateness.size() - 1))].count());
    };
    std::printf(
        "%zu one-offs due in one second, %zu replicas: %zu ran once, %zu more than once, %zu never; start "
        "after the due second p50 %lld ms, p99 %lld ms, last %lld ms\n",
        n, replicas, once, twice, n - once - twice, at(0.5), at(0.99), at(1.0));
    return once == n ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "memory" && argc == 3) return memory(std::strtoul(argv[2], nullptr, 10));
    if (mode == "dispatch" && argc == 4)
        return dispatch(std::strtoul(argv[2], nullptr, 10), std::strtoul(argv[3], nullptr, 10));
    std::fprintf(stderr, "usage: one_off_load memory N | one_off_load dispatch N REPLICAS\n");
    return 2;
}
