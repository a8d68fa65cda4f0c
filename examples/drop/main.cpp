// examples/drop — every five minutes, a drop if chat was busy enough in the last window.
//
//     drop --replicas 3 --simulate 30d
//
// exactly_once_serial: each window is judged by one replica, and a slow drop is never
// overlapped by the next one; a window that comes due while a drop is still being spawned
// is skipped (the summary counts those). The store allows one drop per window and checks
// the fencing token when a drop begins and again when it is committed.
// What each replica does is serve() below; examples/harness runs it on N replicas.
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include <sked/cron.hpp>
#include <sked/hash.hpp>
#include <sked/log_hook.hpp>
#include <sked/runner.hpp>
#include <sked/scheduler.hpp>

#include "../harness/program.hpp"
#include "chat_activity.hpp"
#include "drop_store.hpp"
#ifdef SKED_EXAMPLES_WITH_POSTGRES
#include "postgres_drop_store.hpp"
#endif

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view about =
    "drop: every 5 minutes, spawn a drop if chat activity in the window passed a threshold;\n"
    "never two drops for one window, never two drops being spawned at once.";

constexpr std::chrono::minutes period{5};

/// The job as every replica registers it: when it runs and where.
sked::job_spec activity_drop() {
    using namespace sked::literals;
    return {.name = "activity_drop",
            .schedule = sked::schedule::cron("*/5 * * * *"_cron),
            .run = {},  // each replica's, in serve()
            // One replica judges each window, and never while another still spawns a drop.
            .options = {.mode = sked::distribution::exactly_once_serial}};
}

/// How long spawning the drop of `window` takes: mostly a fraction of `every` (the
/// period), but one in eight is slow, longer than the period.
milliseconds spawn_time(std::chrono::sys_seconds window, milliseconds every) {
    const auto h = sked::splitmix64(static_cast<std::uint64_t>(window.time_since_epoch().count()));
    const auto per_mille =
        h % 8 == 0 ? 1200 + static_cast<std::int64_t>(h % 600) : 50 + static_cast<std::int64_t>(h % 250);
    return every * per_mille / 1000;
}

}  // namespace

int main(int argc, char** argv) {
    const auto o =
        example::parse_or_exit(argc, argv, about, {{"--threshold", "N", "messages per minute that earn a drop (30)"}});
    const auto per_minute = example::or_exit(o.extra_number("--threshold", 30, 1, 1'000'000));
    const auto job = example::with_command_line(o, activity_drop());  // --tick, --lease, --misfire, --overlap
    if (!o.check.empty()) return example::fleet::check(job, o.check);

    const seconds window = o.tick.value_or(period);
    const auto needed = per_minute * static_cast<std::uint64_t>(window.count()) / 60;
    drop::chat_activity chat;
    drop::drop_store store;  // the service's database
    auto fleet = example::open_or_exit(o);
    const auto maybe_drop = [&](const sked::job_context& c) {
        // The slot names the window; the fencing token is checked at begin and at commit,
        // so a spawner that stalled past its lease commits nothing.
        const auto messages = chat.messages_between(c.nominal - window, c.nominal);
        if (messages < needed) return example::outcome{"ok", "quiet: " + std::to_string(messages) + " messages"};
        switch (store.begin(c.nominal, c.fence)) {
            case drop::begin_result::stale:
                return example::outcome{"fenced", "a newer run began a drop"};
            case drop::begin_result::already_dropped:
                return example::outcome{"ok", "already dropped"};
            case drop::begin_result::started:
                break;
        }
        const auto takes = spawn_time(c.nominal, window);
        if (!fleet->spend(c, takes)) {
            store.abandon();
            throw std::runtime_error("stopped while spawning the drop");
        }
        if (!store.commit(c.nominal, c.fence)) return example::outcome{"fenced", "a newer run began meanwhile"};
        return example::outcome{"ok", "dropped after " + std::to_string(messages) + " messages, spawning took " +
                                          sked::format_duration(takes)};
    };

#ifdef SKED_EXAMPLES_WITH_POSTGRES
    // --postgres: a drop is a row, written in the run's own transaction.
    std::optional<drop::postgres_drop_store> database;
    if (o.uses_postgres())
        database.emplace(example::or_exit(drop::postgres_drop_store::open(*o.postgres_url, fleet->shared_name())));
    const auto drop_in_database = [&](sked::postgres::keys& keys) {
        return [&](const sked::job_context& c) {
            const auto messages = chat.messages_between(c.nominal - window, c.nominal);
            if (messages < needed) return example::outcome{"ok", "quiet: " + std::to_string(messages) + " messages"};
            const auto takes = spawn_time(c.nominal, window);
            auto written = database->spawn(keys, c, messages, [&] { return fleet->spend(c, takes); });
            if (!written) throw std::runtime_error(written.error());
            if (*written == drop::postgres_drop_store::spawned::stale)
                return example::outcome{"fenced", "the run's lease ran out before COMMIT: nothing written"};
            return example::outcome{"ok", "dropped after " + std::to_string(messages) + " messages, spawning took " +
                                              sked::format_duration(takes)};
        };
    };
#endif

    // One replica of the service, as it would run in a process of its own.
    const auto serve = [&](example::replica& replica) {
        sked::scheduler scheduler{{.clock = replica.clock(),  // empty: the system clocks
                                   .steady = replica.steady(),
                                   .backend = replica.backend(),  // sked::redis::keys, or sked::memory_keys
                                   .replica = replica.name(),
                                   .executor = replica.executor(),  // a sked::thread_pool's
                                   .hooks = replica.hooks()}};
        auto spec = job;
        spec.run = replica.audited(maybe_drop);  // maybe_drop(), and a line in the audit file
#ifdef SKED_EXAMPLES_WITH_POSTGRES
        if (auto* keys = replica.postgres()) spec.run = replica.audited(drop_in_database(*keys));
#endif
        if (auto added = scheduler.add(std::move(spec)); !added) return replica.refused(added.error().message);
        if (replica.simulated()) return replica.simulate(scheduler);  // the harness drives virtual time
        sked::runner runner{scheduler};  // a thread: sleeps until the next due time, runs what is due
        const auto web = replica.serve_http(scheduler);  // --http: /health, /metrics, /scheduler
        replica.wait_for_shutdown();  // --run DUR, or SIGINT/SIGTERM
        replica.report(runner.stop(5s));  // running jobs are asked to stop, and waited for
    };

    const bool slots_ok = example::run_and_summarize(*fleet, job, serve);
#ifdef SKED_EXAMPLES_WITH_POSTGRES
    if (database) {
        const auto held = example::or_exit(database->count());
        std::printf(
            "drops in PostgreSQL (schema %s): %lld spawned; %lld windows dropped twice, %lld pairs spawned at once\n",
            fleet->shared_name().c_str(), static_cast<long long>(held.drops), static_cast<long long>(held.twice),
            static_cast<long long>(held.overlapping));
        return slots_ok && held.twice == 0 && held.overlapping == 0 ? 0 : 1;
    }
#endif
    const auto at_once = store.max_spawning_at_once();
    std::printf("drops: %zu spawned, at most %zu being spawned at once\n", store.drops(), at_once);
    return slots_ok && at_once <= 1 ? 0 : 1;
}
