// The examples' own parts: their stores keep their promises (fencing, idempotency), the
// summary finds duplicates, misses and overlaps, and virtual time waits for sleeping jobs.
#include <chrono>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "../../examples/drop/drop_store.hpp"
#include "../../examples/expiry/trade_store.hpp"
#include "../../examples/harness/audit.hpp"
#include "../../examples/harness/command_line.hpp"
#include "../../examples/harness/sim_clock.hpp"
#include "../../examples/harness/summary.hpp"
#include "../../examples/reward/reward_store.hpp"

namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

constexpr sys_seconds day0{sys_days{2026y / 11 / 1}};

example::execution ran(sys_seconds slot, seconds from, seconds to, std::string outcome = "ok") {
    return {"job", slot, "replica-1", 7, std::move(outcome), "", sked::instant{slot + from}, sked::instant{slot + to}};
}

}  // namespace

TEST_CASE("examples: the command line names the option that is wrong") {
    auto parse = [](std::vector<std::string> words) {
        words.insert(words.begin(), "prog");
        std::vector<char*> argv;
        for (auto& w : words)
            argv.push_back(w.data());
        return example::parse_command_line(static_cast<int>(argv.size()), argv.data(), {{"--tz", "ZONE", ""}});
    };
    const auto good = parse({"--replicas", "3", "--simulate", "30d", "--outage", "9d15h+2h", "--tz", "Asia/Manila"});
    REQUIRE(good);
    CHECK(good->replicas == 3);
    CHECK(good->simulate == days{30});
    CHECK(good->outages.at(0).at == days{9} + hours{15});
    CHECK(good->extra_or("--tz", "") == "Asia/Manila");
    CHECK(parse({"--replicas", "65"}).error() == "--replicas: expected a number from 1 to 64, got '65'");
    CHECK(parse({"--redis", "localhost"}).error() ==
          "--redis: expected HOST:PORT such as 127.0.0.1:6379, got 'localhost'");
    CHECK(parse({"--redis-cluster", "127.0.0.1:7000,127.0.0.1"}).error() ==
          "--redis-cluster: expected HOST:PORT[,HOST:PORT...] such as 127.0.0.1:7000, got '127.0.0.1:7000,127.0.0.1'");
    CHECK(parse({"--redis-cluster", "127.0.0.1:7000", "--redis", "127.0.0.1:6379"}).error() ==
          "--redis, --sentinel and --redis-cluster: choose one");
    auto cluster = parse({"--redis-cluster", "127.0.0.1:7000,10.0.0.2:7001"});
    REQUIRE(cluster.has_value());
    CHECK(cluster->cluster.size() == 2);
    CHECK(cluster->cluster[1].first == "10.0.0.2");
    CHECK(cluster->cluster[1].second == 7001);
    CHECK(cluster->uses_redis());
    CHECK(parse({"--start", "2026-13-01T00:00:00Z"}).error().starts_with("--start: expected a UTC time"));
    CHECK(parse({"--simulate", "1d", "--run", "1s"}).error() ==
          "--simulate and --run: choose one (virtual or real time)");
    CHECK(parse({"--replicas"}).error().starts_with("--replicas: expected a value"));
}

TEST_CASE("examples: an audit line reads back as it was written") {
    auto e = ran(day0 + 16h, 0s, 2s);
    e.detail = "granted \"100\" rewards";
    const auto line = example::to_json(e);
    CHECK(line.starts_with(
        R"({"job":"job","slot":"2026-11-01T16:00:00Z","replica":"replica-1","fencing":7,"outcome":"ok",)"));
    const auto back = example::parse_execution(line);
    REQUIRE(back);
    CHECK(back->slot == e.slot);
    CHECK(back->detail == e.detail);
    CHECK(back->finished == e.finished);
    CHECK_FALSE(example::parse_execution(R"({"job":"x"})"));
}

TEST_CASE("examples: the summary counts duplicates, misses, late runs and serial skips") {
    const sked::job_spec daily{"job", sked::schedule::every(24h), {}};
    const std::vector<example::execution> runs{ran(day0, 0s, 1s), ran(day0 + 24h, 0s, 1s), ran(day0 + 24h, 5s, 6s),
                                               ran(day0 + 72h, 2h, 2h + 1s), ran(day0 + 96h, 0s, 1s, "fenced")};
    const auto s = example::summarize(daily, runs, day0, day0 + days{5});
    CHECK(s.slots == 5);
    CHECK(s.executions == 4);
    CHECK(s.duplicates == 1);
    CHECK(s.misses == 2);  // day 2, and day 4 whose only run was fenced
    CHECK(s.late == 1);
    CHECK(s.fenced == 1);
    CHECK_FALSE(s.ok());
    CHECK(s.problems.at(0) == "2026-11-02T00:00:00Z ran 2 times");

    // A serial job: a slot due while a run lasted is skipped by design; overlapping runs are not.
    const sked::job_spec serial{
        "job", sked::schedule::every(60s), {}, {.mode = sked::distribution::exactly_once_serial}};
    const std::vector<example::execution> slow{ran(day0, 0s, 90s), ran(day0 + 120s, 0s, 1s), ran(day0 + 180s, 0s, 70s),
                                               ran(day0 + 240s, 0s, 1s)};
    const auto t = example::summarize(serial, slow, day0, day0 + 300s);
    CHECK(t.skipped_while_running == 1);  // 00:01
    CHECK(t.misses == 0);
    CHECK(t.overlaps == 1);  // 00:04 started while 00:03 ran
    CHECK_FALSE(t.ok());
}

TEST_CASE("examples: reward grants are idempotent by run key and refuse a stale fence of the same run key") {
    reward::reward_store store{3};
    CHECK(store.grant_all("daily@1", 10).granted == 3);
    const auto again = store.grant_all("daily@1", 11);  // a retry, or a second runner
    CHECK(again.granted == 0);
    CHECK(again.already_granted == 3);
    CHECK(store.grant_all("daily@1", 10).stale);  // older than the slot's last writer: nothing written
    // Tokens order the holders of one run key: a later slot's run with a lower token (its
    // slot was claimed before the earlier one's retried claim) still writes.
    CHECK(store.grant_all("daily@2", 5).granted == 3);
    CHECK(store.reward_range() == std::pair<std::size_t, std::size_t>{2, 2});
}

TEST_CASE("examples: one drop per window -- a superseded spawner commits nothing") {
    drop::drop_store store;
    CHECK(store.begin(day0, 5) == drop::begin_result::started);
    CHECK(store.begin(day0 + 300s, 9) == drop::begin_result::started);  // its lease ran out; a newer run
    CHECK_FALSE(store.commit(day0, 5));  // the stalled one
    CHECK(store.commit(day0 + 300s, 9));
    CHECK(store.begin(day0 + 300s, 12) == drop::begin_result::already_dropped);
    CHECK(store.begin(day0 + 600s, 4) == drop::begin_result::stale);
    CHECK(store.drops() == 1);
    CHECK(store.max_spawning_at_once() == 2);  // what the example's summary reports as overlap
}

TEST_CASE("examples: an expiry sweep run twice changes nothing the second time") {
    expiry::trade_store store{expiry::market(day0, day0 + 1h)};
    const auto first = store.sweep(day0 + 40min, 3);
    CHECK(first.expired > 0);
    const auto second = store.sweep(day0 + 40min, 4);
    CHECK(second.expired == 0);
    CHECK(second.accepted == 0);
    CHECK(store.sweep(day0 + 50min, 2).stale);
    const auto a = store.check(day0 + 40min, 0s);
    CHECK(a.notifications == a.expired);
    CHECK(a.expired_early == 0);
    CHECK(a.overdue == 0);
    CHECK(store.check(day0 + 2h, 60s).overdue > 0);  // nobody swept after 00:40
}

TEST_CASE("examples: sim_clock moves time only when every job is asleep or done") {
    example::sim_clock clock{sked::instant{day0}, 2};
    auto run = clock.executor();
    std::vector<sked::instant> woke;
    std::mutex m;
    std::stop_source never;
    for (const auto nap : {30s, 10s})
        run([&, nap] {
            clock.sleep_until(clock.now() + nap, never.get_token());
            std::lock_guard hold{m};
            woke.push_back(clock.now());
        });
    clock.quiet();  // both asleep
    CHECK(clock.next_wake() == sked::instant{day0 + 10s});
    clock.advance_to(*clock.next_wake());
    clock.quiet();
    clock.advance_to(*clock.next_wake());
    clock.quiet();
    CHECK(woke == std::vector<sked::instant>{sked::instant{day0 + 10s}, sked::instant{day0 + 30s}});
    CHECK_FALSE(clock.next_wake());

    std::stop_source stop;
    run([&] { clock.sleep_until(clock.now() + 1h, stop.get_token()); });
    clock.quiet();
    stop.request_stop();  // a stopped job wakes without time moving
    clock.quiet();
    CHECK_FALSE(clock.next_wake());
    CHECK(clock.now() == sked::instant{day0 + 30s});
}
