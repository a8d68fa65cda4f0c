// Co-due one-offs on PostgreSQL: N jobs due at once, taken and run by R scheduler
// replicas (each its own store, thread pool and runner), exactly once.
//   postgres_one_offs URL SCHEMA [N=10000] [R=3]
// Prints how long the creates took (SKED_CREATORS threads, 1; each create one commit,
// which NOTIFYs listeners unless SKED_NOTICES=off disables migration 3's trigger), how
// long from the moment they were due until every job had run, and whether any ran twice
// or not at all.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sked/postgres/store.hpp>
#include <sked/runner.hpp>
#include <sked/scheduler.hpp>
#include <sked/thread_pool.hpp>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: postgres_one_offs URL SCHEMA [N] [R]\n");
        return 2;
    }
    using namespace std::chrono;
    sked::postgres::options settings{.url = argv[1], .schema = argv[2]};
    // SKED_STORE_CONNECTIONS: options::store_connections (each replica's store)
    if (const char* connections = std::getenv("SKED_STORE_CONNECTIONS"))
        settings.store_connections = std::strtoul(connections, nullptr, 10);
    const std::size_t n = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 10'000;
    const std::size_t r = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 3;
    if (auto done = sked::postgres::migrate(settings); !done) {
        std::fprintf(stderr, "%s\n", done.error().message().c_str());
        return 1;
    }
    const char* notices = std::getenv("SKED_NOTICES");
    const bool notify = !(notices && std::string(notices) == "off");
    sked::postgres::detail::connection admin{settings};
    const auto trigger = std::string("ALTER TABLE ") + sked::postgres::detail::quoted_identifier(settings.schema) +
                         ".one_offs " + (notify ? "ENABLE" : "DISABLE") + " TRIGGER one_offs_due_notice";
    if (auto altered = admin.run(trigger.c_str()); !altered) {
        std::fprintf(stderr, "%s\n", altered.error().message().c_str());
        return 1;
    }
    // Created due a few seconds ahead, so the replicas are up and waiting when they come due.
    const std::size_t creators =
        std::getenv("SKED_CREATORS") ? std::strtoul(std::getenv("SKED_CREATORS"), nullptr, 10) : 1;
    settings.store_connections = std::max(settings.store_connections, creators);
    sked::postgres::keys creator{settings};
    const auto due = ceil<seconds>(system_clock::now()) + seconds{3 + n / 1000};
    std::atomic<bool> failed{false};
    const auto creating = steady_clock::now();
    {
        std::vector<std::jthread> threads;
        for (std::size_t t = 0; t < std::max<std::size_t>(creators, 1); ++t)
            threads.emplace_back([&, t] {
                for (std::size_t i = t; i < n; i += std::max<std::size_t>(creators, 1)) {
                    const auto key = "job-" + std::to_string(i);
                    auto created = creator.create_job({"bench", key, due, sked::instant{due}, ""});
                    if (!created || *created != sked::create_status::created) {
                        std::fprintf(stderr, "create %s: %s\n", key.c_str(),
                                     created ? "not created" : created.error().message().c_str());
                        failed = true;
                        return;
                    }
                }
            });
    }
    if (failed) return 1;
    if (system_clock::now() >= due) {
        std::fprintf(stderr, "the creates ended after the jobs were due: give fewer jobs or more creators\n");
        return 1;
    }
    std::printf("created %zu one-offs with %zu threads in %lld ms (notices %s)\n", n, creators,
                static_cast<long long>(duration_cast<milliseconds>(steady_clock::now() - creating).count()),
                notify ? "on" : "off");
    std::vector<std::atomic<int>> runs(n);
    std::atomic<std::size_t> ran{0};
    std::vector<std::unique_ptr<sked::postgres::keys>> stores;
    std::vector<std::unique_ptr<sked::thread_pool>> pools;
    std::vector<std::unique_ptr<sked::scheduler>> replicas;
    std::vector<std::unique_ptr<sked::runner>> runners;
    for (std::size_t i = 0; i < r; ++i) {
        stores.push_back(std::make_unique<sked::postgres::keys>(settings));
        pools.push_back(std::make_unique<sked::thread_pool>(4));
        replicas.push_back(std::make_unique<sked::scheduler>(sked::scheduler_options{
            .backend = *stores.back(), .replica = "r" + std::to_string(i), .executor = pools.back()->executor()}));
        (void)replicas.back()->on("bench", [&](const sked::one_off_context& c) {
            runs[std::strtoul(std::string(c.key.substr(4)).c_str(), nullptr, 10)].fetch_add(1);
            ran.fetch_add(1);
        });
        runners.push_back(std::make_unique<sked::runner>(*replicas.back()));
    }
    std::this_thread::sleep_until(due);
    const auto started = steady_clock::now();
    while (ran.load() < n && steady_clock::now() - started < seconds{60})
        std::this_thread::sleep_for(milliseconds{1});
    const auto took = duration_cast<milliseconds>(steady_clock::now() - started);
    for (auto& runner : runners)
        (void)runner->stop(seconds{5});
    const auto twice = std::count_if(runs.begin(), runs.end(), [](const auto& c) { return c.load() > 1; });
    const auto never = std::count_if(runs.begin(), runs.end(), [](const auto& c) { return c.load() == 0; });
    std::printf(
        "%zu one-offs due at once, %zu replicas: all ran within %lld ms of their due time; %ld twice, %ld never\n", n,
        r, static_cast<long long>(took.count()), static_cast<long>(twice), static_cast<long>(never));
    return twice == 0 && never == 0 ? 0 : 1;
}
