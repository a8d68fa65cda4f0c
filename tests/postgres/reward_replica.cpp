// A reward service replica for the PostgreSQL process tests: every second, an
// exactly_once job gives each player one reward for the slot, in the run's own
// transaction, and waits `hold` ms between its writes and COMMIT (the window the test
// kills it in). It appends "written <slot> <name>" to an audit file once the writes are
// made and before COMMIT.
//     sked_postgres_reward_replica URL SCHEMA NAME AUDIT_FILE SECONDS [players=N] [hold=MS]
// The rewards table has no unique index: a reward given twice would be two rows.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "../support/append_file.hpp"
#include "sked/log_hook.hpp"
#include "sked/postgres/store.hpp"
#include "sked/runner.hpp"
#include "sked/scheduler.hpp"
#include "sked/thread_pool.hpp"

namespace {

int setting(int argc, char** argv, std::string_view key, int fallback) {
    for (int i = 6; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg.starts_with(key) && arg.size() > key.size() && arg[key.size()] == '=')
            return std::atoi(argv[i] + key.size() + 1);
    }
    return fallback;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: sked_postgres_reward_replica URL SCHEMA NAME AUDIT_FILE SECONDS [key=value...]\n");
        return 2;
    }
    using namespace std::chrono_literals;
    sked::postgres::options settings{.url = argv[1], .schema = argv[2]};
    const std::string name = argv[3];
    const sked::test::append_file audit{argv[4]};
    if (!audit.open()) return 2;
    const auto seconds = std::chrono::seconds{std::atoi(argv[5])};
    const auto players = std::to_string(setting(argc, argv, "players", 50));
    const auto hold = std::chrono::milliseconds{setting(argc, argv, "hold", 300)};
    const std::string insert = "INSERT INTO " + sked::postgres::detail::quoted_identifier(settings.schema) +
                               ".rewards (player, slot) SELECT p, $1::bigint FROM generate_series(1, $2::int) p";

    sked::postgres::keys keys{settings};
    sked::thread_pool pool{4};
    // What went wrong, on stderr (the test's output when it fails): every event but a run
    // that started or completed, and a slot another replica had or ran.
    const auto log = [&name](const sked::event& e) {
        using sked::event_kind, sked::skip_reason;
        if (e.kind == event_kind::started || e.kind == event_kind::succeeded) return;
        if (e.kind == event_kind::skipped &&
            (e.reason == skip_reason::held_elsewhere || e.reason == skip_reason::already_done))
            return;
        std::fprintf(stderr, "%s: %s\n", name.c_str(), sked::log_line(e).c_str());
    };
    sked::scheduler engine{{.backend = keys, .replica = name, .executor = pool.executor(), .hooks = {log}}};
    const auto grant = [&](const sked::job_context& run) {
        auto tx = keys.begin(run);
        if (!tx) throw std::runtime_error(tx.error().message());
        const auto slot = std::to_string(run.nominal.time_since_epoch().count());
        const std::string params[] = {slot, players};
        if (auto written = tx->run(insert.c_str(), params); !written)
            throw std::runtime_error(written.error().message());
        audit.write("written " + slot + " " + name + "\n");
        std::this_thread::sleep_for(hold);
        auto committed = tx->commit();
        if (!committed) throw std::runtime_error(committed.error().message());
        if (!*committed) throw std::runtime_error("the lease ran out: nothing written");
    };
    // The defaults a user gets (lease, retries), but for the mode and catching up on
    // slots missed while the server was down.
    const auto added = engine.add({"reward",
                                   sked::schedule::every(1s),
                                   grant,
                                   {.mode = sked::distribution::exactly_once, .on_misfire = sked::misfire::run_each}});
    if (!added) {
        std::fprintf(stderr, "%s\n", added.error().message.c_str());
        return 1;
    }
    sked::runner r{engine};
    std::this_thread::sleep_for(seconds);
    return r.stop(5s).clean() ? 0 : 1;
}
