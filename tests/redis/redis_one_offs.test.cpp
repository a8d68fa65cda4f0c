#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <sked/calendar.hpp>
#include <sked/redis/store.hpp>
#include <sked/scheduler.hpp>

#include "../support/redis_server.hpp"

// The scheduler-level cases of tests/scheduler/one_off.test.cpp on Redis: a virtual
// clock for due times (the takes pass it), real time for the leases (none runs out here).
// The one-off cases across processes are tests/redis/redis_one_off_processes.test.cpp.
namespace sked::test {
namespace {

struct redis_fleet {
    virtual_clock clock{instant{std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + std::chrono::hours{8}}};
    std::string prefix = fresh_prefix();
    std::vector<std::unique_ptr<redis::keys>> stores;
    std::vector<std::unique_ptr<scheduler>> replicas;
    std::vector<std::tuple<std::string, std::string, std::uint32_t, std::string>>
        seen;  // replica, key, attempt, payload

    scheduler& start(const std::string& name) {
        stores.push_back(std::make_unique<redis::keys>(shared_redis_server().client(prefix)));
        replicas.push_back(std::make_unique<scheduler>(scheduler_options{
            .clock = clock.source(), .steady = clock.steady_source(), .backend = *stores.back(), .replica = name}));
        return *replicas.back();
    }
    one_off_function recording(std::string name, bool fail_first = false) {
        return [this, name, fail_first](const one_off_context& c) {
            seen.emplace_back(name, std::string(c.key), c.attempt, std::string(c.payload));
            if (fail_first && c.attempt == 1) throw std::runtime_error("503");
        };
    }
    void pass(std::chrono::milliseconds how_long) {
        const auto end = clock.now() + how_long;
        while (clock.now() < end) {
            clock.advance(std::chrono::milliseconds{500});
            for (auto& s : replicas)
                if (s) s->run_due(clock.now());
        }
    }
};

TEST_SUITE("redis one-offs") {
    TEST_CASE("redis, virtual clock: create once, a calendar move, a retry on another replica, a full restart") {
        using namespace std::chrono;
        redis_fleet f;
        const auto t0 = floor<seconds>(f.clock.now());
        auto& first = f.start("r1");
        const one_off_options retrying{.retry = {.max_attempts = 3, .initial_delay = 10s}};
        REQUIRE(first.on("expire_node", f.recording("r1", true), retrying).has_value());
        REQUIRE(*first.create({.kind = "expire_node", .key = "a", .due = t0 + 5s, .payload = "p-a"}) ==
                create_status::created);
        CHECK(*first.create({.kind = "expire_node", .key = "a", .due = t0 + 9s}) == create_status::exists);
        // Saturday 2026-12-05 12:00Z is outside Mon-Fri 09:00-18:00 UTC: moved to Monday 09:00.
        auto weekdays = calendar::business_hours(any_zone{}, 9h, 18h);
        REQUIRE(*first.create(
                    {.kind = "expire_node", .key = "b", .due = sys_days{2026y / 12 / 5} + 12h, .calendar = weekdays}) ==
                create_status::created);
        f.pass(6s);  // "a" fails attempt 1 on r1
        REQUIRE(f.seen.size() == 1);
        f.replicas.clear();  // a full restart: every replica down, nothing in memory
        f.clock.advance(1min);
        auto& second = f.start("r2");
        REQUIRE(second.on("expire_node", f.recording("r2"), retrying).has_value());
        f.pass(2s);
        REQUIRE(f.seen.size() == 2);
        CHECK(f.seen[1] == std::tuple<std::string, std::string, std::uint32_t, std::string>{"r2", "a", 2, "p-a"});
        CHECK(second.status().one_offs.at(0).queue.pending == 1);  // "b", waiting for Monday
        f.clock.advance(sys_days{2026y / 12 / 7} + 9h - f.clock.now() - 1s);
        f.pass(2s);
        REQUIRE(f.seen.size() == 3);
        CHECK(std::get<1>(f.seen[2]) == "b");
        CHECK(*second.create({.kind = "expire_node", .key = "a", .due = t0}) == create_status::done);
        CHECK(*second.cancel("expire_node", "b") == false);  // finished, not cancellable
    }
}

}  // namespace
}  // namespace sked::test
