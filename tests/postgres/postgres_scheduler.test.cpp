// The scheduler on PostgreSQL: replicas on one virtual clock (due times), each with a
// store of its own on the shared server (real time for leases; none runs out here).
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sked/postgres/store.hpp>
#include <sked/scheduler.hpp>

#include "../scheduler/sim.hpp"
#include "../support/postgres_server.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;

struct postgres_fleet {
    postgres::options settings = migrated_schema();
    simulation sim{"2026-12-01T08:00:00Z"};
    std::vector<std::unique_ptr<postgres::keys>> stores;
    std::vector<std::unique_ptr<scheduler>> replicas;

    scheduler& start(const std::string& name) {
        stores.push_back(std::make_unique<postgres::keys>(settings));
        replicas.push_back(std::make_unique<scheduler>(sim.options(name, *stores.back())));
        return *replicas.back();
    }
    std::vector<scheduler*> running() {
        std::vector<scheduler*> out;
        for (auto& r : replicas)
            out.push_back(r.get());
        return out;
    }
};

job_spec every_10s(job_function run, job_options options = {}) {
    return {"sweep", schedule::every(10s), std::move(run), options};
}

TEST_SUITE("postgres scheduler") {
    TEST_CASE("three replicas: each slot runs once, on some replica; after all were down the missed slots run") {
        postgres_fleet f;
        std::map<std::string, int> runs;  // slot -> runs
        const auto count = [&runs](const job_context& c) { ++runs[utc(c.nominal)]; };
        const job_options catch_up{.on_misfire = misfire::run_each};
        for (const auto* name : {"r1", "r2", "r3"})
            REQUIRE(f.start(name).add(every_10s(count, catch_up)));
        f.sim.run_until("2026-12-01T08:05:00Z", f.running());
        CHECK(runs.size() == 31);  // 08:00:00 .. 08:05:00
        for (const auto& slot : runs)
            CHECK_MESSAGE(slot.second == 1, slot.first);
        CHECK(f.sim.events.count(event_kind::succeeded) == 31);
        // The others found each slot done: they asked the backend, and it said no.
        CHECK(f.sim.events.count(event_kind::skipped, skip_reason::already_done) == 62);

        f.replicas.clear();  // every replica down for a minute
        f.sim.clock.set(moment("2026-12-01T08:06:05Z"));
        REQUIRE(f.start("r4").add(every_10s(count, catch_up)));
        f.sim.run_until("2026-12-01T08:06:05Z", f.running());
        CHECK(runs.size() == 37);  // 08:05:10 .. 08:06:00 found from the slot record
        for (const auto& slot : runs)
            CHECK_MESSAGE(slot.second == 1, slot.first);
    }

    TEST_CASE(
        "writes in the run's transaction: a run that fails before COMMIT leaves nothing, its retry commits once") {
        postgres_fleet f;
        postgres::detail::connection admin{f.settings};
        const auto table = "\"" + f.settings.schema + "\".rewards";
        REQUIRE(admin.run_script("CREATE TABLE " + table + " (slot text, replica text, attempt int)"));
        const auto insert = "INSERT INTO " + table + " VALUES ($1, $2, $3)";
        const auto rewarding = [&](postgres::keys& keys, std::string replica) {
            return [&keys, &insert, replica](const job_context& run) {
                auto tx = keys.begin(run);
                if (!tx) throw std::runtime_error(tx.error().message());
                const std::string row[] = {utc(run.nominal), replica, std::to_string(run.attempt)};
                if (!tx->run(insert.c_str(), row)) throw std::runtime_error("insert failed");
                // Every third slot's first attempt dies between its writes and COMMIT.
                if (run.attempt == 1 && run.nominal.time_since_epoch().count() % 30 == 0)
                    throw std::runtime_error("crash before COMMIT");
                auto committed = tx->commit();
                if (!committed || !*committed) throw std::runtime_error("not committed");
            };
        };
        const job_options retried{.retry = {.max_attempts = 3, .initial_delay = 2s}};
        for (const auto* name : {"r1", "r2", "r3"}) {
            auto& replica = f.start(name);
            REQUIRE(replica.add(every_10s(rewarding(*f.stores.back(), name), retried)));
        }
        f.sim.run_until("2026-12-01T08:02:09Z", f.running());  // the last slot's retry too
        auto rows =
            admin.run_script("SELECT slot, count(*), max(attempt) FROM " + table + " GROUP BY slot ORDER BY slot");
        REQUIRE(rows);
        REQUIRE(PQntuples(rows->get()) == 13);  // 08:00:00 .. 08:02:00, each slot
        for (int i = 0; i < 13; ++i) {
            CAPTURE(postgres::detail::text_at(**rows, i, 0));
            CHECK(postgres::detail::text_at(**rows, i, 1) == "1");  // once
            CHECK(postgres::detail::text_at(**rows, i, 2) == (i % 3 == 0 ? "2" : "1"));  // the retry's row
        }
        CHECK(f.sim.events.count(event_kind::failed) == 5);  // 08:00:00, :30, 08:01:00, :30, 08:02:00
    }

    TEST_CASE("a run whose connection is lost mid-transaction is abandoned: alone, the replica runs the slot again") {
        postgres_fleet f;
        postgres::detail::connection admin{f.settings};
        const auto table = "\"" + f.settings.schema + "\".rewards";
        REQUIRE(admin.run_script("CREATE TABLE " + table + " (slot text, fence bigint)"));
        const auto insert = "INSERT INTO " + table + " VALUES ($1, $2)";
        auto& alone = f.start("alone");
        auto& keys = *f.stores.back();
        std::vector<fence_token> fences;
        const auto rewarding = [&](const job_context& run) {
            fences.push_back(run.fence);
            auto tx = keys.begin(run);
            if (!tx) throw std::runtime_error(tx.error().message());
            const std::string row[] = {utc(run.nominal), std::to_string(run.fence)};
            if (!tx->run(insert.c_str(), row)) throw std::runtime_error("insert failed");
            if (fences.size() == 1) {  // the server ends this session (a restart, a failover, a proxy)
                auto pid = tx->run("SELECT pg_backend_pid()");
                REQUIRE(pid);
                const std::string victim[] = {std::string(postgres::detail::text_at(**pid, 0, 0))};
                REQUIRE(admin.run("SELECT pg_terminate_backend($1::int)", victim));
            }
            auto committed = tx->commit();
            if (!committed) throw std::runtime_error(committed.error().message());
            if (!*committed) throw std::runtime_error("lease lost");
        };
        // No retries (the default): a lost transaction is no failed attempt.
        REQUIRE(alone.add({"reward", schedule::every(1h), rewarding, {.lease_ttl = 1s}}));
        f.sim.run_for(500ms, f.running());  // the boot slot, 08:00:00
        REQUIRE(fences.size() == 1);
        const auto failed = f.sim.events.of(event_kind::failed);
        REQUIRE(failed.size() == 1);
        CHECK(failed[0].message.find("(abandoned: its run key is left to its lease") != std::string::npos);
        std::this_thread::sleep_for(1200ms);  // the lease runs out on the server's clock
        f.sim.run_until("2026-12-01T08:00:05Z", f.running());  // looked at again at 08:00:01.1
        REQUIRE(fences.size() == 2);
        CHECK(fences[1] > fences[0]);
        CHECK(f.sim.events.count(event_kind::succeeded) == 1);
        auto rows = admin.run_script("SELECT slot, fence FROM " + table);
        REQUIRE(rows);
        REQUIRE(PQntuples(rows->get()) == 1);  // the first run's insert went with its session
        CHECK(postgres::detail::text_at(**rows, 0, 0) == "2026-12-01T08:00:00Z");
        CHECK(postgres::detail::text_at(**rows, 0, 1) == std::to_string(fences[1]));
    }

    TEST_CASE("one-offs: created once, a failed attempt retried on another replica, then done") {
        postgres_fleet f;
        std::vector<std::string> seen;
        const one_off_options retrying{.retry = {.max_attempts = 3, .initial_delay = 10s}};
        const auto handler = [&seen](std::string replica) {
            return [&seen, replica](const one_off_context& c) {
                seen.push_back(replica + " " + std::string(c.key) + " #" + std::to_string(c.attempt) + " " +
                               std::string(c.payload));
                if (replica == "r1") throw std::runtime_error("503");
            };
        };
        auto& first = f.start("r1");
        REQUIRE(first.on("expire_node", handler("r1"), retrying));
        const auto due = std::chrono::floor<std::chrono::seconds>(f.sim.clock.now()) + 5s;
        REQUIRE(*first.create({.kind = "expire_node", .key = "a", .due = due, .payload = std::string("p\0a", 3)}) ==
                create_status::created);
        CHECK(*first.create({.kind = "expire_node", .key = "a", .due = due + 9s}) == create_status::exists);
        f.sim.run_for(6s, f.running());
        REQUIRE(seen.size() == 1);
        f.replicas.clear();
        auto& second = f.start("r2");
        REQUIRE(second.on("expire_node", handler("r2"), retrying));
        f.sim.run_for(20s, f.running());
        REQUIRE(seen.size() == 2);
        CHECK(seen[0] == std::string("r1 a #1 p\0a", 11));
        CHECK(seen[1] == std::string("r2 a #2 p\0a", 11));
        CHECK(*second.create({.kind = "expire_node", .key = "a", .due = due}) == create_status::done);
    }
}

}  // namespace
}  // namespace sked::test
