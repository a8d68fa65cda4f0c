// LISTEN/NOTIFY: a one-off stored by one replica wakes another that polls only hourly;
// notices lost while the listener was cut off are made up by one poll when it is back.
// Real time on the shared server.
#include "sked/postgres/listener.hpp"

#include <doctest/doctest.h>

#include <mutex>
#include <set>
#include <string>

#include <sked/postgres/store.hpp>
#include <sked/runner.hpp>
#include <sked/scheduler.hpp>

#include "../support/eventually.hpp"
#include "../support/postgres_server.hpp"

namespace sked::test {
namespace {

using namespace std::chrono_literals;

/// One replica on the system clocks that looks at its kind in the database once an hour.
struct hourly_worker {
    postgres::options settings;
    postgres::keys store{settings};
    scheduler s{{.backend = backend_ref{store}, .replica = "worker", .one_off_poll_every = 1h}};
    std::mutex mutex;
    std::set<std::string> ran;

    explicit hourly_worker(postgres::options given) : settings(std::move(given)) {
        REQUIRE(s.on("expire_trade", [this](const one_off_context& c) {
                     std::lock_guard hold{mutex};
                     ran.emplace(c.key);
                 }).has_value());
    }
    bool has_run(const std::string& key) {
        std::lock_guard hold{mutex};
        return ran.count(key) == 1;
    }
};

one_off_record due_now(std::string_view key) {  // a literal: the record only views it
    return {"expire_trade", key, std::chrono::floor<std::chrono::seconds>(system_now()), system_now(), ""};
}

postgres::options named(postgres::options settings, const std::string& application) {
    settings.url += "?application_name=" + application;
    return settings;
}

TEST_SUITE("postgres listener") {
    TEST_CASE("a one-off stored elsewhere wakes an hourly poller; notices lost while cut off are taken on return") {
        const auto settings = migrated_schema();
        hourly_worker worker{settings};
        runner driver{worker.s};
        postgres::one_off_listener listener{named(settings, "sked_listener_test"), worker.s};
        REQUIRE(eventually([&] { return listener.state().listening; }));
        CHECK(listener.state().connections == 1);

        postgres::keys api{settings};  // another replica, which only creates
        auto other_schema = migrated_schema();
        postgres::keys elsewhere{other_schema};  // another application on the same database
        REQUIRE(*elsewhere.create_job(due_now("x")) == create_status::created);
        REQUIRE(*api.create_job(due_now("a")) == create_status::created);
        REQUIRE(eventually([&] { return worker.has_run("a"); }));
        CHECK(listener.state().notices == 1);  // the other schema's notice was not this replica's
        CHECK(!worker.has_run("x"));

        // Cut the listener off, and keep it off while a job is stored: its notice is lost.
        auto elsewhere_db = settings;  // a database may not close its own doors
        elsewhere_db.url.replace(elsewhere_db.url.rfind("/postgres"), 9, "/template1");
        postgres::detail::connection admin{elsewhere_db};
        REQUIRE(admin.run("ALTER DATABASE postgres ALLOW_CONNECTIONS false"));
        REQUIRE(
            admin.run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE application_name = 'sked_listener_test'"));
        REQUIRE(eventually([&] {
            return listener.state().last_error.find("not currently accepting connections") != std::string::npos;
        }));
        CHECK(!listener.state().listening);
        REQUIRE(*api.create_job(due_now("b")) == create_status::created);  // on its open connection
        std::this_thread::sleep_for(300ms);
        CHECK(!worker.has_run("b"));

        REQUIRE(admin.run("ALTER DATABASE postgres ALLOW_CONNECTIONS true"));
        REQUIRE(eventually([&] { return worker.has_run("b"); }));
        CHECK(listener.state().connections == 2);
        CHECK(listener.state().listening);
        driver.stop(5s);
    }

    TEST_CASE("a listener on a schema without sked's tables says so, and keeps trying") {
        hourly_worker worker{migrated_schema()};
        auto nowhere = worker.settings;
        nowhere.schema = "no_such_schema";
        postgres::one_off_listener listener{nowhere, worker.s};
        REQUIRE(eventually([&] { return !listener.state().last_error.empty(); }));
        CHECK(listener.state().last_error.find("schema 'no_such_schema' has no sked tables") != std::string::npos);
        CHECK(!listener.state().listening);
        CHECK(listener.state().connections == 0);
    }
}

TEST_CASE("due_notice_of reads its schema's notices and nothing else") {
    const auto notice = postgres::detail::due_notice_of("1765000000000 4 sked expire trade", "sked");
    REQUIRE(notice);
    CHECK(notice->kind == " expire trade");
    CHECK(notice->run_at == instant{std::chrono::milliseconds{1765000000000}});
    const auto spaced = postgres::detail::due_notice_of("-5 3 a bk", "a b");
    REQUIRE(spaced);
    CHECK(spaced->kind == "k");
    CHECK(!postgres::detail::due_notice_of("1 4 skedk", "sked2"));  // another schema
    CHECK(!postgres::detail::due_notice_of("1 4 sked", "sked"));  // no kind
    CHECK(!postgres::detail::due_notice_of("1 9 sked", "sked"));  // shorter than it says
    CHECK(!postgres::detail::due_notice_of("x 4 skedk", "sked"));
    CHECK(!postgres::detail::due_notice_of("1 skedk", "sked"));
    CHECK(!postgres::detail::due_notice_of("", "sked"));
}

}  // namespace
}  // namespace sked::test
