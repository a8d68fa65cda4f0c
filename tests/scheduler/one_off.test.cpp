#include "sked/one_off.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sked/date_zone.hpp>
#include <sked/memory_backend.hpp>
#include <sked/scheduler.hpp>
#include <sked/status_format.hpp>
#include <sked/thread_pool.hpp>

#include "../support/eventually.hpp"
#include "../support/numbered.hpp"
#include "sim.hpp"

namespace sked::test {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

const instant t0{sys_days{2026y / 12 / 1} + 8h};  // a Tuesday, 16:00 in Manila

struct ran {
    std::string replica, key, payload, run_key;
    sys_seconds slot;
    instant started;
    std::uint32_t attempt;
    fence_token fence;
};

/// Replicas of one service on one virtual clock, sharing one memory backend.
struct fleet {
    virtual_clock clock{t0};
    memory_keys keys{[this] { return clock.steady_now(); }};
    recorder events;
    std::mutex mutex;
    std::vector<ran> runs;
    std::vector<std::unique_ptr<scheduler>> replicas;

    scheduler& start(std::string name, milliseconds poll_every = 1s) {
        replicas.push_back(std::make_unique<scheduler>(scheduler_options{.clock = clock.source(),
                                                                         .steady = clock.steady_source(),
                                                                         .backend = backend_ref{keys},
                                                                         .replica = std::move(name),
                                                                         .hooks = {events.hook()},
                                                                         .one_off_poll_every = poll_every}));
        return *replicas.back();
    }
    /// A handler that records its runs; it fails while `fail(attempt)` says so.
    one_off_function recording(std::string replica, std::function<bool(std::uint32_t)> fail = {}) {
        return [this, replica, fail](const one_off_context& c) {
            {
                std::lock_guard hold{mutex};
                runs.push_back({replica, std::string(c.key), std::string(c.payload), c.run_key(), c.slot, c.started,
                                c.attempt, c.fence});
            }
            if (fail && fail(c.attempt)) throw std::runtime_error("campaign service answered 503");
        };
    }
    /// Lets time pass as a driver would: from one wakeup of any replica to the next.
    void pass(milliseconds how_long) {
        const auto end = clock.now() + how_long;
        while (clock.now() < end) {
            auto next = end;
            for (auto& s : replicas)
                if (const auto w = s ? s->next_wakeup() : std::nullopt)
                    next = std::min(next, std::max(*w, clock.now()));
            clock.advance(std::max<milliseconds>(next - clock.now(), 1ms));
            for (auto& s : replicas)
                if (s) s->run_due(clock.now());
        }
    }
};

TEST_CASE("one-off: created on one replica, run once on another, with its payload, run key and fence") {
    fleet f;
    auto& api = f.start("api");  // creates jobs, handles none
    auto& worker = f.start("worker");
    REQUIRE(worker.on("expire_node", f.recording("worker")).has_value());
    auto created =
        api.create({.kind = "expire_node", .key = "node-42", .due = floor<seconds>(t0) + 48h, .payload = "campaign=7"});
    REQUIRE(created.has_value());
    CHECK(*created == create_status::created);
    CHECK(*api.create({.kind = "expire_node", .key = "node-42", .due = floor<seconds>(t0) + 1h}) ==
          create_status::exists);
    f.pass(5s);
    const auto status = worker.status();
    REQUIRE(status.one_offs.size() == 1);
    CHECK(status.one_offs[0].queue.pending == 1);
    CHECK(status.one_offs[0].queue.next_due == instant{floor<seconds>(t0) + 48h});
    CHECK(to_json(status).find(R"("one_offs":[{"kind":"expire_node","pending":1,"in_flight":0,)") != std::string::npos);
    CHECK(to_prometheus(status).find("sked_one_off_pending{kind=\"expire_node\"} 1\n") != std::string::npos);

    f.pass(48h);
    REQUIRE(f.runs.size() == 1);
    const auto& r = f.runs[0];
    CHECK(r.replica == "worker");
    CHECK(r.payload == "campaign=7");
    CHECK(r.run_key == "expire_node/node-42@2026-12-03T08:00:00Z");
    CHECK(r.attempt == 1);
    CHECK(r.fence > 0);
    CHECK(r.started - instant{r.slot} < 1s);  // taken when due: the last take said when
    CHECK(f.events.count(event_kind::succeeded) == 1);
    CHECK(*api.create({.kind = "expire_node", .key = "node-42", .due = floor<seconds>(t0)}) == create_status::done);
    CHECK(worker.status().one_offs[0].succeeded == 1);
}

TEST_CASE("one-off: a replica that polls hourly takes another's job when told of it, and all kinds after missed news") {
    fleet f;
    auto& api = f.start("api");
    auto& worker = f.start("worker", 1h);
    REQUIRE(worker.on("expire_node", f.recording("worker")).has_value());
    f.pass(2s);  // the first take finds nothing: the next is an hour away
    const auto due_a = floor<seconds>(f.clock.now()) + 10s;
    REQUIRE(*api.create({.kind = "expire_node", .key = "a", .due = due_a}) == create_status::created);
    f.pass(30s);
    CHECK(f.runs.empty());  // stored elsewhere, nobody told this replica

    worker.one_off_noticed("expire_node", instant{due_a});
    f.pass(1s);
    REQUIRE(f.runs.size() == 1);
    CHECK(f.runs[0].key == "a");

    const auto due_b = floor<seconds>(f.clock.now()) + 60s;
    REQUIRE(*api.create({.kind = "expire_node", .key = "b", .due = due_b}) == create_status::created);
    worker.one_off_noticed("expire_node", instant{due_b});
    worker.one_off_noticed("not_handled_here", instant{due_a});  // ignored
    f.pass(due_b - f.clock.now() - 1s);
    CHECK(f.runs.size() == 1);  // not before it is due
    f.pass(2s);
    REQUIRE(f.runs.size() == 2);
    CHECK(f.runs[1].key == "b");
    CHECK(f.runs[1].started - instant{due_b} < 1s);

    REQUIRE(*api.create({.kind = "expire_node", .key = "c", .due = floor<seconds>(f.clock.now())}) ==
            create_status::created);
    f.pass(10s);
    CHECK(f.runs.size() == 2);
    worker.one_off_notices_missed();  // a listener connected again: what it missed is taken now
    f.pass(1s);
    REQUIRE(f.runs.size() == 3);
    CHECK(f.runs[2].key == "c");
}

TEST_CASE("one-off: a due time outside the calendar moves to the next allowed instant -- the slot stays") {
    fleet f;
    auto& s = f.start("r1");
    REQUIRE(s.on("expire_node", f.recording("r1")).has_value());
    const any_zone manila{*date_zone::locate("Asia/Manila")};
    auto hours = calendar::business_hours(manila, 9h, 18h);
    // Friday 2026-12-04 20:00 Manila (12:00Z): after hours, so Monday 09:00 Manila (01:00Z).
    const sys_seconds friday_evening{sys_days{2026y / 12 / 4} + 12h};
    REQUIRE(*s.create({.kind = "expire_node", .key = "late", .due = friday_evening, .calendar = hours}) ==
            create_status::created);
    // Inside the hours: unchanged.
    const sys_seconds thursday_noon{sys_days{2026y / 12 / 3} + 4h};
    REQUIRE(*s.create({.kind = "expire_node", .key = "on-time", .due = thursday_noon, .calendar = hours}) ==
            create_status::created);
    f.pass(6 * 24h);
    REQUIRE(f.runs.size() == 2);
    CHECK(f.runs[0].key == "on-time");
    CHECK(floor<seconds>(f.runs[0].started) == thursday_noon);
    CHECK(f.runs[1].key == "late");
    CHECK(f.runs[1].slot == friday_evening);
    CHECK(floor<minutes>(f.runs[1].started) == sys_days{2026y / 12 / 7} + 1h);
    for (const auto& r : f.runs)
        CHECK(hours.allows(floor<seconds>(r.started)));

    auto closed = hours;
    closed.weekdays = 0;
    auto refused = s.create({.kind = "expire_node", .key = "never", .due = friday_evening, .calendar = closed});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().message().find("expire_node/never: calendar allows no weekday") != std::string::npos);
}

TEST_CASE("one-off: a failed attempt is retried with back-off by another replica when its own is gone") {
    fleet f;
    auto& first = f.start("r1");
    const one_off_options retrying{.retry = {.max_attempts = 5, .initial_delay = 10s, .multiplier = 2.0}};
    REQUIRE(first.on("charge", f.recording("r1", [](auto) { return true; }), retrying).has_value());
    REQUIRE(*first.create({.kind = "charge", .key = "order-1", .due = floor<seconds>(t0) + 5s}) ==
            create_status::created);
    f.pass(6s);
    REQUIRE(f.runs.size() == 1);
    CHECK(f.events.count(event_kind::retrying) == 1);
    f.replicas[0].reset();  // r1 is gone, its retry is in the backend
    auto& second = f.start("r2");
    REQUIRE(second.on("charge", f.recording("r2", [](auto attempt) { return attempt < 3; }), retrying).has_value());
    f.pass(2min);
    REQUIRE(f.runs.size() == 3);
    CHECK(f.runs[1].replica == "r2");
    CHECK(f.runs[1].attempt == 2);
    CHECK(f.runs[2].attempt == 3);
    CHECK(f.runs[2].run_key == f.runs[0].run_key);  // one slot, one run key, every attempt
    // Back-off: attempt 2 at least 10 s after attempt 1, attempt 3 at least 20 s after 2.
    CHECK(f.runs[1].started - f.runs[0].started >= 10s);
    CHECK(f.runs[2].started - f.runs[1].started >= 20s);
    CHECK(f.runs[1].fence > f.runs[0].fence);
    CHECK(f.events.count(event_kind::succeeded) == 1);
    CHECK(f.keys.stored_jobs() == 1);  // kept as done
}

TEST_CASE("one-off: everything survives a full restart -- a taker that died loses the job after its lease") {
    fleet f;
    {
        auto& s = f.start("r1");
        for (int i = 0; i < 20; ++i)
            REQUIRE(*s.create({.kind = "expire_node",
                               .key = "k" + std::to_string(i),
                               .due = floor<seconds>(t0) + seconds{10 + i}}) == create_status::created);
        f.replicas.clear();  // every replica down before anything is due
    }
    // A process took one job and died with it.
    auto taken = f.keys.take_jobs("expire_node", t0 + 1h, 1, 30s);
    REQUIRE(taken.has_value());
    REQUIRE(taken->jobs.size() == 1);
    f.clock.advance(10min);
    auto& back = f.start("r2");
    REQUIRE(back.on("expire_node", f.recording("r2")).has_value());
    f.pass(1min);
    REQUIRE(f.runs.size() == 20);
    std::set<std::string> keys;
    for (const auto& r : f.runs)
        keys.insert(r.key);
    CHECK(keys.size() == 20);
    const auto dead = std::find_if(f.runs.begin(), f.runs.end(), [&](auto& r) { return r.key == taken->jobs[0].key; });
    REQUIRE(dead != f.runs.end());
    CHECK(dead->fence > taken->jobs[0].lease.fence);
    CHECK_FALSE(*f.keys.finish_job(taken->jobs[0], 1h));  // the dead taker's word no longer counts
}

TEST_CASE("one-off: cancel, bad requests, and a backend that keeps no jobs") {
    fleet f;
    auto& s = f.start("r1");
    REQUIRE(s.on("expire_node", f.recording("r1")).has_value());
    REQUIRE(*s.create({.kind = "expire_node", .key = "c", .due = floor<seconds>(t0) + 10s}) == create_status::created);
    CHECK(*s.cancel("expire_node", "c"));
    CHECK_FALSE(*s.cancel("expire_node", "c"));
    f.pass(20s);
    CHECK(f.runs.empty());

    auto big =
        s.create({.kind = "expire_node", .key = "b", .due = floor<seconds>(t0), .payload = std::string(70'000, 'x')});
    REQUIRE_FALSE(big.has_value());
    CHECK(big.error().message().find("payload of 70000 bytes") != std::string::npos);
    CHECK_FALSE(s.on("", f.recording("r1")).has_value());
    CHECK(s.on("a/b", f.recording("r1")).error().message.find("contains '/'") != std::string::npos);
    CHECK(s.on("x", {}).error().message == "one-off kind 'x': the handler is empty");

    scheduler local{{.clock = f.clock.source(), .steady = f.clock.steady_source()}};
    CHECK(local.on("x", f.recording("l")).error().message.find("keeps no one-off jobs") != std::string::npos);
    CHECK(local.create({.kind = "x", .key = "k", .due = floor<seconds>(t0)})
              .error()
              .message()
              .find("keeps no one-off jobs") != std::string::npos);
}

TEST_CASE("one-off: a job running at shutdown is released, and another replica runs it") {
    fleet f;
    manual_executor held;
    auto& first =
        f.replicas.emplace_back(std::make_unique<scheduler>(scheduler_options{.clock = f.clock.source(),
                                                                              .steady = f.clock.steady_source(),
                                                                              .backend = backend_ref{f.keys},
                                                                              .replica = "r1",
                                                                              .executor = held.function(),
                                                                              .hooks = {f.events.hook()}}));
    REQUIRE(first->on("expire_node", f.recording("r1")).has_value());
    REQUIRE(*first->create({.kind = "expire_node", .key = "s", .due = floor<seconds>(t0) + 2s}) ==
            create_status::created);
    f.pass(3s);
    REQUIRE(held.pending() == 1);  // taken, not yet started
    first->stop_dispatching();
    CHECK(first->request_stop_all() == 1);
    held.run_one();  // it sees the stop before it starts: released, not run
    CHECK(f.runs.empty());
    f.replicas[0].reset();
    f.start("r2").on("expire_node", f.recording("r2"));
    f.pass(3s);
    REQUIRE(f.runs.size() == 1);
    CHECK(f.runs[0].replica == "r2");
    CHECK(f.runs[0].attempt == 1);
}

TEST_CASE("one-off: 3 replicas take 2,000 co-due jobs in batches, each exactly once") {
    fleet f;
    for (int i = 0; i < 3; ++i)
        f.start("r" + std::to_string(i + 1))
            .on("expire_node", f.recording("r" + std::to_string(i + 1)), {.batch = 128});
    for (int i = 0; i < 2000; ++i)
        REQUIRE(*f.replicas[static_cast<std::size_t>(i % 3)]->create({.kind = "expire_node",
                                                                      .key = numbered("n", static_cast<std::size_t>(i)),
                                                                      .due = floor<seconds>(t0) + 10s}) ==
                create_status::created);
    f.pass(12s);
    REQUIRE(f.runs.size() == 2000);
    std::set<std::string> keys;
    for (const auto& r : f.runs) {
        keys.insert(r.key);
        CHECK(r.started - instant{r.slot} <= 1s);  // a full batch is followed by the next at once
    }
    CHECK(keys.size() == 2000);
}

TEST_CASE("one-off: more full batches than one pass takes: the next pass takes the rest, none is left") {
    fleet f;
    auto& alone = f.start("alone");
    alone.on("expire_node", f.recording("alone"), {.batch = 2});  // inline runs: every take comes back full
    for (std::size_t i = 0; i < 300; ++i)
        REQUIRE(*alone.create({.kind = "expire_node", .key = numbered("n", i), .due = floor<seconds>(t0) + 1s}) ==
                create_status::created);
    f.clock.advance(1s);
    CHECK(alone.run_due(f.clock.now()) == 128);  // 64 rounds of 2
    REQUIRE(alone.next_wakeup());
    CHECK(*alone.next_wakeup() == f.clock.now());  // more is due: at once
    f.pass(2s);
    CHECK(f.runs.size() == 300);
    const auto status = alone.status();
    REQUIRE(status.one_offs.size() == 1);
    CHECK(status.one_offs[0].queue.pending == 0);
}

// A memory backend whose finish_jobs holds its first batch until the test lets it go.
struct held_finishes {
    memory_keys keys;
    std::mutex mutex;
    std::condition_variable released;
    bool holding = true;
    std::vector<std::size_t> batches;
    std::atomic<int> single_finishes{0};

    result<grant, backend_error> claim(std::string_view k, milliseconds ttl) { return keys.claim(k, ttl); }
    result<bool, backend_error> renew(lease& l, milliseconds ttl) { return keys.renew(l, ttl); }
    result<bool, backend_error> complete(const lease& l, milliseconds keep) { return keys.complete(l, keep); }
    result<bool, backend_error> release(const lease& l) { return keys.release(l); }
    result<create_status, backend_error> create_job(const one_off_record& r) { return keys.create_job(r); }
    result<bool, backend_error> cancel_job(std::string_view kind, std::string_view key) {
        return keys.cancel_job(kind, key);
    }
    result<taken_batch, backend_error> take_jobs(std::string_view kind, instant now, std::size_t n, milliseconds ttl) {
        return keys.take_jobs(kind, now, n, ttl);
    }
    result<bool, backend_error> renew_job(taken_job& held, milliseconds ttl) { return keys.renew_job(held, ttl); }
    result<bool, backend_error> finish_job(const taken_job& held, milliseconds keep) {
        ++single_finishes;
        return keys.finish_job(held, keep);
    }
    result<bool, backend_error> retry_job(const taken_job& held, instant at, std::uint32_t attempt) {
        return keys.retry_job(held, at, attempt);
    }
    result<bool, backend_error> release_job(const taken_job& held) { return keys.release_job(held); }
    bool fail_batches = false;  // every finish_jobs answers a timeout
    result<std::vector<result<bool, backend_error>>, backend_error> finish_jobs(std::span<const job_finish> batch) {
        if (fail_batches)
            return backend_error{backend_errc::timeout, "postgres at 127.0.0.1 did not answer in 5000 ms"};
        {
            std::unique_lock lock{mutex};
            batches.push_back(batch.size());
            if (batches.size() == 1) released.wait(lock, [&] { return !holding; });
        }
        return keys.finish_jobs(batch);
    }
    std::vector<std::size_t> batches_sent() {
        std::lock_guard hold{mutex};
        return batches;
    }
    void let_go() {
        std::lock_guard hold{mutex};
        holding = false;
        released.notify_all();
    }
};

TEST_CASE("one-off: runs that end while a finish is on the wire finish together in the next, and do not wait") {
    held_finishes store;
    static_assert(batch_finishes<held_finishes>);
    thread_pool pool{4};
    scheduler s{{.backend = backend_ref{store}, .executor = pool.executor()}};
    std::atomic<int> runs{0};
    REQUIRE(s.on("expire_node", [&](const one_off_context&) { ++runs; }).has_value());
    const auto due = floor<seconds>(system_now());
    for (std::size_t i = 0; i < 9; ++i)
        REQUIRE(*s.create({.kind = "expire_node", .key = numbered("n", i), .due = due}) == create_status::created);
    std::atomic<bool> done{false};
    std::thread driver{[&] {
        while (!done) {
            s.run_due();
            std::this_thread::sleep_for(1ms);
        }
    }};
    // The first run to end sends its finish and is held there; the other 8 end on the
    // pool's other 3 threads, which queue their finishes and go back to work.
    CHECK(eventually([&] { return runs == 9; }));
    CHECK(store.batches_sent() == std::vector<std::size_t>{1});
    CHECK(s.status().one_offs.at(0).succeeded == 0);  // no answer yet: none has ended
    store.let_go();
    CHECK(eventually([&] { return s.status().one_offs.at(0).succeeded == 9; }));
    done = true;
    driver.join();
    CHECK(s.wait_idle(steady_clock::now() + 5s).empty());
    CHECK(store.batches_sent() == std::vector<std::size_t>{1, 8});
    CHECK(store.single_finishes == 0);
    for (std::size_t i = 0; i < 9; ++i)
        CHECK(*store.keys.create_job({"expire_node", numbered("n", i), due, due, ""}) == create_status::done);
}

TEST_CASE("one-off: a batch of finishes the backend did not answer: each run says so, and its job stays taken") {
    held_finishes store;
    store.fail_batches = true;
    recorder events;
    scheduler s{{.backend = backend_ref{store}, .hooks = {events.hook()}}};
    REQUIRE(s.on("expire_node", [](const one_off_context&) {}).has_value());
    const auto due = floor<seconds>(system_now());
    for (std::size_t i = 0; i < 3; ++i)
        REQUIRE(*s.create({.kind = "expire_node", .key = numbered("n", i), .due = due}) == create_status::created);
    s.run_due();  // inline: each run sends its own batch
    // The handler did succeed; the event says the end was not recorded, and why.
    const auto ended = events.of(event_kind::succeeded);
    REQUIRE(ended.size() == 3);
    for (const auto& e : ended)
        CHECK(e.message ==
              "the backend did not record the end: timeout: postgres at 127.0.0.1 did not answer in 5000 ms "
              "(it runs again once its lease runs out)");
    CHECK(events.count(event_kind::failed) == 0);
    CHECK(store.single_finishes == 0);
    for (std::size_t i = 0; i < 3; ++i)  // still taken: its lease decides
        CHECK(*store.keys.create_job({"expire_node", numbered("n", i), due, due, ""}) == create_status::exists);
}

}  // namespace
}  // namespace sked::test

namespace sked::test {
namespace {

TEST_CASE("one-off: replicas on thread pools, each driven by its own thread, run 1,000 jobs exactly once") {
    using namespace std::chrono;
    memory_keys keys;  // real leases: the system's steady clock
    std::mutex mutex;
    std::map<std::string, int> runs;
    std::vector<std::unique_ptr<thread_pool>> pools;
    std::vector<std::unique_ptr<scheduler>> replicas;
    for (int i = 0; i < 3; ++i) {
        pools.push_back(std::make_unique<thread_pool>(4));
        replicas.push_back(std::make_unique<scheduler>(
            scheduler_options{.backend = backend_ref{keys}, .executor = pools.back()->executor()}));
        REQUIRE(replicas.back()
                    ->on("expire_node",
                         [&](const one_off_context& c) {
                             std::lock_guard hold{mutex};
                             ++runs[std::string(c.key)];
                         },
                         {.batch = 64})
                    .has_value());
    }
    const auto due = floor<seconds>(system_now());
    for (std::size_t i = 0; i < 1000; ++i)
        REQUIRE(*replicas[i % 3]->create({.kind = "expire_node", .key = numbered("n", i), .due = due}) ==
                create_status::created);
    std::vector<std::thread> drivers;
    std::atomic<bool> done{false};
    for (auto& s : replicas)
        drivers.emplace_back([&, s = s.get()] {
            while (!done) {
                s->run_due();
                std::this_thread::sleep_for(1ms);
            }
        });
    const auto give_up = steady_clock::now() + 20s;
    while (steady_clock::now() < give_up) {
        {
            std::lock_guard hold{mutex};
            if (runs.size() == 1000) break;
        }
        std::this_thread::sleep_for(5ms);
    }
    done = true;
    for (auto& t : drivers)
        t.join();
    for (auto& s : replicas)
        (void)s->wait_idle(steady_clock::now() + 5s);
    std::lock_guard hold{mutex};
    CHECK(runs.size() == 1000);
    CHECK(std::all_of(runs.begin(), runs.end(), [](auto& r) { return r.second == 1; }));
}

}  // namespace
}  // namespace sked::test

namespace sked::test {
namespace {

TEST_CASE("stored retry: a failed slot's next attempt is kept in the backend and run by another replica") {
    using namespace std::chrono;
    fleet f;
    std::vector<std::pair<std::string, std::uint32_t>> attempts;  // (replica, attempt)
    const auto job = [&](std::string replica, bool fail) {
        return job_spec{.name = "grant_rewards",
                        .schedule = schedule::once(floor<seconds>(t0) + 10s),
                        .run =
                            [&attempts, replica, fail](const job_context& c) {
                                attempts.emplace_back(replica, c.attempt);
                                if (fail) throw std::runtime_error("database unavailable");
                            },
                        .options = {.retry = {.max_attempts = 4, .initial_delay = 30s}}};
    };
    REQUIRE(f.start("r1").add(job("r1", true)).has_value());
    f.pass(12s);
    REQUIRE(attempts.size() == 1);
    CHECK(f.events.count(event_kind::retrying) == 1);
    f.replicas.clear();  // r1 goes down for good, with its memory
    f.clock.advance(5min);
    REQUIRE(f.start("r2").add(job("r2", false)).has_value());
    f.pass(1min);
    REQUIRE(attempts.size() == 2);
    CHECK(attempts[1] == std::pair<std::string, std::uint32_t>{"r2", 2});
    const auto done = f.events.of(event_kind::succeeded);
    REQUIRE(done.size() == 1);
    CHECK(done[0].job == "grant_rewards");
    CHECK(done[0].slot == utc(floor<seconds>(t0) + 10s));
    CHECK(done[0].attempt == 2);
    f.pass(10min);
    CHECK(attempts.size() == 2);  // and never again
}

}  // namespace
}  // namespace sked::test

namespace sked::test {
namespace {

TEST_CASE("one-off: a retry whose back-off ends after hours waits for the kind's calendar to open") {
    using namespace std::chrono;
    fleet f;
    auto& s = f.start("r1");
    const any_zone manila{*date_zone::locate("Asia/Manila")};
    const auto hours = calendar::business_hours(manila, 9h, 18h);
    REQUIRE(s.on("expire_node", f.recording("r1", [](auto attempt) { return attempt == 1; }),
                 {.retry = {.max_attempts = 3, .initial_delay = 30s}, .calendar = hours})
                .has_value());
    // Tuesday 17:59:50 Manila (09:59:50Z): attempt 1 fails, its retry would be after 18:00.
    const sys_seconds due{sys_days{2026y / 12 / 1} + 9h + 59min + 50s};
    REQUIRE(*s.create({.kind = "expire_node", .key = "late", .due = due, .calendar = hours}) == create_status::created);
    f.pass(24h);
    REQUIRE(f.runs.size() == 2);
    CHECK(floor<seconds>(f.runs[0].started) == due);
    CHECK(f.runs[1].attempt == 2);
    CHECK(floor<seconds>(f.runs[1].started) == sys_days{2026y / 12 / 2} + 1h);  // Wednesday 09:00 Manila
    CHECK(f.events.count(event_kind::skipped, skip_reason::outside_calendar) == 1);
}

}  // namespace
}  // namespace sked::test
