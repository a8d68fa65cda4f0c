// examples/minimal — a daily job at midnight in Manila and a heartbeat every two seconds,
// in one process (docs/getting-started.md shows this file; CTest builds and runs it).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <sked/date_zone.hpp>
#include <sked/log_hook.hpp>
#include <sked/memory_backend.hpp>
#include <sked/runner.hpp>
#include <sked/scheduler.hpp>
#include <sked/thread_pool.hpp>

using namespace std::chrono_literals;
using namespace sked::literals;

std::atomic<bool> stopping{false};

int main() {
    std::signal(SIGINT, [](int) { stopping = true; });
    std::signal(SIGTERM, [](int) { stopping = true; });

    sked::memory_keys keys;  // what replicas share; sked::redis::keys across processes
    sked::thread_pool pool{4};  // where jobs run
    sked::scheduler scheduler{
        {.backend = keys,
         .replica = "app-1",
         .executor = pool.executor(),
         .executor_threads = pool.size(),  // so a replica claims no more than it can start soon
         .hooks = {sked::log_lines([](std::string_view line) { std::puts(std::string(line).c_str()); })}}};

    const auto manila = *sked::date_zone::locate("Asia/Manila");
    std::vector<sked::job_spec> jobs{
        {.name = "daily_reward",
         .schedule = sked::schedule::cron("0 0 * * *"_cron, manila),
         .run =
             [](const sked::job_context& c) {
                 // c.run_key() is the same on every replica: use it as the idempotency key
                 // of your writes, and pass c.fence along so a stale writer is refused.
                 std::printf("granting %s (fence %llu)\n", c.run_key().c_str(),
                             static_cast<unsigned long long>(c.fence));
             }},
        {.name = "heartbeat", .schedule = sked::schedule::every(2s), .run = [](auto&) {}},
    };
    for (auto& job : jobs) {
        if (auto added = scheduler.add(std::move(job)); !added) {
            std::fprintf(stderr, "%s\n", added.error().message.c_str());  // names job and field
            return 1;
        }
    }

    sked::runner runner{scheduler};  // a thread that sleeps until the next job is due
    while (!stopping)
        std::this_thread::sleep_for(100ms);
    return runner.stop(10s).clean() ? 0 : 1;  // waits for running jobs, up to 10 s
}
