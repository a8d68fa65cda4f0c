// examples/reward — every player gets one daily reward at 00:00 in the players' zone.
//
//     reward --replicas 3 --simulate 30d --outage 9d15h+2h
//
// The job runs exactly once per day across replicas (its run key), grants each player the
// reward named by that key (so a retry or a second runner changes nothing), and writes
// with its fencing token (so a replica that stalled past its lease cannot write late).
// A midnight missed while every replica was down is granted once, when they come back.
// What each replica does is serve() below; examples/harness runs it on N replicas.
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include <sked/cron.hpp>
#include <sked/date_zone.hpp>
#include <sked/log_hook.hpp>
#include <sked/runner.hpp>
#include <sked/scheduler.hpp>

#include "../harness/program.hpp"
#include "reward_store.hpp"
#ifdef SKED_EXAMPLES_WITH_POSTGRES
#include "postgres_reward_store.hpp"
#endif

namespace {

using namespace std::chrono_literals;

constexpr std::string_view about =
    "reward: one daily reward per player at 00:00 in the players' zone, exactly once across replicas.";

/// The job as every replica registers it: when it runs and where.
sked::job_spec daily_reward(const sked::date_zone& zone) {
    using namespace sked::literals;
    return {.name = "daily_reward",
            .schedule = sked::schedule::cron("0 0 * * *"_cron, zone),  // midnight in the players' zone
            .run = {},  // each replica's, in serve()
            .options = {.mode = sked::distribution::exactly_once,  // one replica grants each midnight
                        .on_misfire = sked::misfire::run_once}};  // one every replica missed: granted once, late
}

}  // namespace

int main(int argc, char** argv) {
    const auto o = example::parse_or_exit(argc, argv, about,
                                          {{"--tz", "ZONE", "the players' time zone (Asia/Manila)"},
                                           {"--players", "N", "how many players (100)"},
                                           {"--work", "DUR", "how long the grant transaction takes (2s)"}});
    const auto zone = sked::date_zone::locate(o.extra_or("--tz", "Asia/Manila"));
    if (!zone) {
        std::fprintf(stderr, "--tz: unknown time zone '%s' (an IANA name such as Europe/Berlin)\n",
                     o.extra_or("--tz", "").c_str());
        return 2;
    }
    const auto players = example::or_exit(o.extra_number("--players", 100, 1, 10'000'000));
    const auto work = example::or_exit(o.extra_duration("--work", "2s", std::chrono::hours{1}));
    const auto job = example::with_command_line(o, daily_reward(*zone));  // --tick, --lease, --misfire, --overlap
    if (!o.check.empty()) return example::fleet::check(job, o.check);

    reward::reward_store store{players};  // the service's database
    auto fleet = example::open_or_exit(o);
    const auto grant = [&](const sked::job_context& c) {
        if (!fleet->spend(c, work)) throw std::runtime_error("stopped before the grant transaction committed");
        // The run key names the day: a second grant under it grants nothing. The fencing
        // token refuses a replica that stalled past its lease and writes after a newer one.
        const auto written = store.grant_all(c.run_key(), c.fence);
        if (written.stale)
            return example::outcome{"fenced", "a run of the slot with a newer fencing token wrote first"};
        std::string detail = "granted " + std::to_string(written.granted) + " rewards";
        if (written.already_granted > 0) detail += ", " + std::to_string(written.already_granted) + " already granted";
        return example::outcome{"ok", detail};
    };

#ifdef SKED_EXAMPLES_WITH_POSTGRES
    // --postgres: the rewards are rows, written in the run's own transaction.
    std::optional<reward::postgres_reward_store> database;
    if (o.uses_postgres())
        database.emplace(
            example::or_exit(reward::postgres_reward_store::open(*o.postgres_url, fleet->shared_name(), players)));
    const auto grant_in_database = [&](sked::postgres::keys& keys) {
        return [&](const sked::job_context& c) {
            // The writes first, then the work, then COMMIT: a replica killed while it works
            // leaves no reward and no completed run key, and the slot runs again elsewhere.
            auto written = database->grant_all(keys, c, [&] { return fleet->spend(c, work); });
            if (!written) throw std::runtime_error(written.error());
            if (written->stale)
                return example::outcome{"fenced", "the run's lease ran out before COMMIT: nothing written"};
            return example::outcome{"ok", "granted " + std::to_string(written->granted) + " rewards"};
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
        spec.run = replica.audited(grant);  // grant(), and a line in the audit file
#ifdef SKED_EXAMPLES_WITH_POSTGRES
        if (auto* keys = replica.postgres()) spec.run = replica.audited(grant_in_database(*keys));
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
        std::printf("rewards in PostgreSQL (schema %s): %lld players, each holds %lld", fleet->shared_name().c_str(),
                    static_cast<long long>(held.players), static_cast<long long>(held.fewest));
        if (held.most != held.fewest) std::printf(" to %lld", static_cast<long long>(held.most));
        std::printf("; %lld granted twice, %lld slots not granted to every player\n",
                    static_cast<long long>(held.twice), static_cast<long long>(held.partial));
        return slots_ok && held.twice == 0 && held.partial == 0 ? 0 : 1;
    }
#endif
    const auto [fewest, most] = store.reward_range();
    std::printf("rewards: %zu players, each holds %zu", store.players(), fewest);
    if (most != fewest) std::printf(" to %zu", most);
    std::printf(" (zone %s)\n", std::string(zone->name()).c_str());
    return slots_ok ? 0 : 1;
}
