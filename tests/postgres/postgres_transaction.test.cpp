// A run's writes and its run key's completion in one transaction (run_transaction):
// what each ending leaves in the database.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include <sked/postgres/store.hpp>

#include "../lock/contract.hpp"
#include "../support/postgres_server.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;

// A migrated schema with a table of the job's own, and a client that reads it.
struct effects_fixture {
    postgres::options settings = migrated_schema();
    std::string rewards = "\"" + settings.schema + "\".rewards";
    postgres::keys keys{settings};
    postgres::keys other{settings};
    postgres::detail::connection admin{settings};
    std::chrono::sys_seconds slot{std::chrono::sys_days{std::chrono::year{2026} / 12 / 5}};

    effects_fixture() { REQUIRE(admin.run_script("CREATE TABLE " + rewards + " (player text, slot text)")); }

    job_context context(const lease& key) const { return run_of("daily_reward", key.fence); }
    job_context run_of(std::string_view job, fence_token fence) const {
        job_context run;
        run.job = job;
        run.nominal = slot;
        run.fence = fence;
        return run;
    }
    lease claim() const { return acquired_lease(const_cast<postgres::keys&>(keys).claim(key(), 150ms)); }
    [[nodiscard]] std::string key() const { return run_key("daily_reward", slot); }

    long long rows() {
        auto answer = admin.run_script("SELECT count(*) FROM " + rewards);
        REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string{} : answer.error().message()));
        return std::stoll(std::string(postgres::detail::text_at(**answer, 0, 0)));
    }
    void write(postgres::run_transaction& tx, const std::string& player) {
        auto written = tx.run(("INSERT INTO " + rewards + " VALUES ($1, $2)").c_str(), {player, key()});
        REQUIRE_MESSAGE(written.has_value(), (written ? std::string{} : written.error().message()));
    }
};

template <class Answer>
auto value_of_answer(Answer&& answer) {
    REQUIRE_MESSAGE(answer.has_value(), (answer ? std::string{} : answer.error().message()));
    return *std::forward<Answer>(answer);
}

TEST_SUITE("postgres run transactions") {
    TEST_CASE(
        "committed: the writes and the completion together; the scheduler's complete after it still answers "
        "true") {
        effects_fixture f;
        const auto key = f.claim();
        {
            auto tx = value_of_answer(f.keys.begin(f.context(key)));
            f.write(tx, "ana");
            f.write(tx, "ben");
            CHECK(f.rows() == 0);  // not visible before COMMIT
            CHECK(value_of_answer(tx.commit()));
        }
        CHECK(f.rows() == 2);
        CHECK(status_of(f.other.claim(f.key(), 150ms)) == grant_status::already_done);
        CHECK(flag_of(f.keys.complete(key, 1h)));  // idempotent for its holder
        CHECK_FALSE(flag_of(f.keys.release(key)));  // done stays done
    }

    TEST_CASE("the job throws (or returns) before commit: nothing is written, and the slot can run again") {
        effects_fixture f;
        const auto key = f.claim();
        {
            auto tx = value_of_answer(f.keys.begin(f.context(key)));
            f.write(tx, "ana");
        }  // destroyed: ROLLBACK
        CHECK(f.rows() == 0);
        CHECK(flag_of(f.keys.release(key)));
        const auto again = acquired_lease(f.other.claim(f.key(), 150ms));
        CHECK(again.fence > key.fence);
    }

    TEST_CASE("the lease ran out and another replica took the slot: the stale run's commit writes nothing") {
        effects_fixture f;
        const auto stale = f.claim();
        auto tx = value_of_answer(f.keys.begin(f.context(stale)));
        f.write(tx, "ana");
        std::this_thread::sleep_for(250ms);  // the 150 ms lease runs out
        const auto fresh = acquired_lease(f.other.claim(f.key(), 150ms));
        CHECK_FALSE(value_of_answer(tx.commit()));  // fenced: another token holds the key
        CHECK(f.rows() == 0);
        CHECK_FALSE(tx.run("SELECT 1").has_value());  // ended
        {
            auto theirs = value_of_answer(f.other.begin(f.context(fresh)));
            f.write(theirs, "ana");
            CHECK(value_of_answer(theirs.commit()));
        }
        CHECK(f.rows() == 1);
    }

    TEST_CASE("a statement that fails aborts the transaction: commit fails and nothing is written") {
        effects_fixture f;
        const auto key = f.claim();
        auto tx = value_of_answer(f.keys.begin(f.context(key)));
        f.write(tx, "ana");
        const auto bad = tx.run("INSERT INTO no_such_table VALUES (1)");
        REQUIRE_FALSE(bad.has_value());
        CHECK(bad.error().code == backend_errc::server_error);
        CHECK(bad.error().detail.find("no_such_table") != std::string::npos);
        const auto committed = tx.commit();
        REQUIRE_FALSE(committed.has_value());
        CHECK(committed.error().detail.find("transaction is aborted") != std::string::npos);
        CHECK(f.rows() == 0);
        CHECK(status_of(f.other.claim(f.key(), 150ms)) == grant_status::held_elsewhere);  // still the run's
    }

    TEST_CASE("the connection drops before COMMIT: nothing is written, and the key is claimable once its lease ends") {
        effects_fixture f;
        const auto key = f.claim();
        detail::run_signals signals;
        auto run = f.context(key);
        run.signals = &signals;
        auto tx = value_of_answer(f.keys.begin(run));
        f.write(tx, "ana");
        const auto pid = value_of_answer(tx.run("SELECT pg_backend_pid()"));
        CHECK_FALSE(run.abandoned());
        const std::string params[] = {std::string(postgres::detail::text_at(*pid, 0, 0))};
        REQUIRE(f.admin.run("SELECT pg_terminate_backend($1::int)", params));
        const auto committed = tx.commit();
        REQUIRE_FALSE(committed.has_value());
        CHECK_MESSAGE(committed.error().code == backend_errc::unreachable, committed.error().message());
        CHECK(run.abandoned());  // the scheduler leaves the key to its lease: the slot runs again
        CHECK(f.rows() == 0);
        std::this_thread::sleep_for(200ms);
        CHECK(status_of(f.other.claim(f.key(), 150ms)) == grant_status::acquired);
    }

    TEST_CASE("a statement the server refuses is the job's failure, not an abandoned run") {
        effects_fixture f;
        detail::run_signals signals;
        auto run = f.context(f.claim());
        run.signals = &signals;
        auto tx = value_of_answer(f.keys.begin(run));
        CHECK_FALSE(tx.run("SELECT 1/0").has_value());
        CHECK_FALSE(run.abandoned());
    }

    TEST_CASE("an idle connection whose session the server ended (a restart) is replaced at the next begin") {
        effects_fixture f;
        auto first = value_of_answer(f.keys.begin(f.context(f.claim())));
        const auto pid = value_of_answer(first.run("SELECT pg_backend_pid()"));
        const std::string params[] = {std::string(postgres::detail::text_at(*pid, 0, 0))};
        first.rollback();  // its connection goes back to the pool, idle
        REQUIRE(f.admin.run("SELECT pg_terminate_backend($1::int)", params));
        std::this_thread::sleep_for(100ms);
        f.slot += std::chrono::days{1};
        detail::run_signals signals;
        auto run = f.context(f.claim());
        run.signals = &signals;
        auto second = value_of_answer(f.keys.begin(run));
        f.write(second, "ana");
        CHECK(value_of_answer(second.commit()));
        CHECK_FALSE(run.abandoned());
        CHECK(f.rows() == 1);
    }

    TEST_CASE("begin refuses a run without a run key, or one whose key another token holds, naming it") {
        effects_fixture f;
        const auto local = f.run_of("cache_warm", 0);
        const auto no_key = f.keys.begin(local);
        REQUIRE_FALSE(no_key.has_value());
        CHECK(no_key.error().code == backend_errc::invalid_argument);
        CHECK(no_key.error().detail.find("job cache_warm runs without a run key") != std::string::npos);
        const auto key = f.claim();
        auto wrong = f.context(key);
        wrong.fence += 1;
        const auto not_held = f.keys.begin(wrong);
        REQUIRE_FALSE(not_held.has_value());
        CHECK(not_held.error().detail.find("run key " + f.key() + " (attempt 1) is not held with token " +
                                           std::to_string(wrong.fence)) != std::string::npos);
        CHECK(f.rows() == 0);
    }
}

}  // namespace
}  // namespace sked::test
