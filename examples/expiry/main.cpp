// examples/expiry — every minute, trades past their time-to-live become `expired`.
//
//     expiry --replicas 3 --simulate 30d
//
// The sweep is safe to run twice (it judges by the slot's time and changes only open
// trades) and never runs concurrently with itself (exactly_once_serial). Its start is
// staggered within the minute by a hash of its name, the same on every replica, so it
// does not fire at :00 with everything else.
// What each replica does is serve() below; examples/harness runs it on N replicas.
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

#include <sked/cron.hpp>
#include <sked/log_hook.hpp>
#include <sked/runner.hpp>
#include <sked/scheduler.hpp>

#include "../harness/program.hpp"
#include "trade_store.hpp"
#ifdef SKED_EXAMPLES_WITH_POSTGRES
#include "postgres_trade_store.hpp"
#endif

namespace {

using namespace std::chrono_literals;

constexpr std::string_view about =
    "expiry: every minute, sweep trades older than their time-to-live to 'expired', with a\n"
    "notification each; safe to run twice, never concurrent with itself.";

/// The job as every replica registers it: when it runs and where.
sked::job_spec trade_expiry() {
    using namespace sked::literals;
    return {.name = "trade_expiry",
            .schedule = sked::schedule::cron("* * * * *"_cron),
            .run = {},  // each replica's, in serve()
            .options = {.mode = sked::distribution::exactly_once_serial,  // one sweep at a time, fleet-wide
                        .hashed_offset_within = 60s}};  // stagger: a fixed second of the minute, from the name
}

}  // namespace

int main(int argc, char** argv) {
    const auto o = example::parse_or_exit(
        argc, argv, about, {{"--work", "DUR", "how long a sweep's transaction takes (1s, at most a fifth of --tick)"}});
    // A sweep as long as its period would overlap the next one on every slot.
    const auto fifth_of_tick = o.tick ? std::chrono::milliseconds{*o.tick} / 5 : std::chrono::milliseconds{1'000};
    const auto default_work = sked::format_duration(std::min<std::chrono::milliseconds>(1'000ms, fifth_of_tick));
    const auto work = example::or_exit(o.extra_duration("--work", default_work, std::chrono::hours{1}));
    const auto job = example::with_command_line(o, trade_expiry());  // --tick, --lease, --misfire, --overlap
    if (!o.check.empty()) return example::fleet::check(job, o.check);

    const auto horizon = o.simulate.value_or(o.run_for.value_or(std::chrono::hours{24}));
    const std::chrono::seconds minute = o.tick.value_or(std::chrono::minutes{1});
    const auto start = o.simulate ? o.start : std::chrono::floor<std::chrono::seconds>(sked::system_now());
    // In real time the market opened a while before the service started: its first sweep
    // finds trades already past their time-to-live (at most 30 minutes).
    const auto opened = o.simulate ? start : start - 30 * minute;
    const auto trades = expiry::market(opened, start + std::chrono::ceil<std::chrono::seconds>(horizon), minute);
    expiry::trade_store store{trades};
    auto fleet = example::open_or_exit(o);
    const auto sweep = [&](const sked::job_context& c) {
        if (!fleet->spend(c, work)) throw std::runtime_error("stopped before the sweep committed");
        // Judged by the slot, not the clock, and fenced: a second sweep of a slot changes
        // nothing, and a stalled one cannot overwrite a newer one.
        const auto swept = store.sweep(c.nominal, c.fence);
        if (swept.stale) return example::outcome{"fenced", "a sweep with a newer fencing token ran"};
        return example::outcome{
            "ok", "expired " + std::to_string(swept.expired) + ", accepted " + std::to_string(swept.accepted)};
    };

#ifdef SKED_EXAMPLES_WITH_POSTGRES
    // --postgres: the trades and their outbox are tables, swept in the run's own transaction.
    std::optional<expiry::postgres_trade_store> database;
    if (o.uses_postgres())
        database.emplace(
            example::or_exit(expiry::postgres_trade_store::open(*o.postgres_url, fleet->shared_name(), trades)));
    const auto sweep_in_database = [&](sked::postgres::keys& keys) {
        return [&](const sked::job_context& c) {
            // The writes first, then the work, then COMMIT: a sweep killed while it works
            // leaves nothing, and the slot is swept again elsewhere.
            auto swept = database->sweep(keys, c, [&] { return fleet->spend(c, work); });
            if (!swept) throw std::runtime_error(swept.error());
            if (swept->stale)
                return example::outcome{"fenced", "the run's lease ran out before COMMIT: nothing written"};
            return example::outcome{
                "ok", "expired " + std::to_string(swept->expired) + ", accepted " + std::to_string(swept->accepted)};
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
        spec.run = replica.audited(sweep);  // sweep(), and a line in the audit file
#ifdef SKED_EXAMPLES_WITH_POSTGRES
        if (auto* keys = replica.postgres()) spec.run = replica.audited(sweep_in_database(*keys));
#endif
        if (auto added = scheduler.add(std::move(spec)); !added) return replica.refused(added.error().message);
        if (replica.simulated()) return replica.simulate(scheduler);  // the harness drives virtual time
        sked::runner runner{scheduler};  // a thread: sleeps until the next due time, runs what is due
        const auto web = replica.serve_http(scheduler);  // --http: /health, /metrics, /scheduler
        replica.wait_for_shutdown();  // --run DUR, or SIGINT/SIGTERM
        replica.report(runner.stop(5s));  // running jobs are asked to stop, and waited for
    };

    const bool slots_ok = example::run_and_summarize(*fleet, job, serve);
    const auto now = std::chrono::floor<std::chrono::seconds>(fleet->now());
    const auto report = [](const expiry::trade_store::audit& a) {
        std::printf(
            "trades: %zu opened, %zu accepted, %zu expired with %zu notifications; %zu expired early, "
            "%zu overdue\n",
            a.trades, a.accepted, a.expired, a.notifications, a.expired_early, a.overdue);
        return a.expired == a.notifications && a.expired_early == 0 && a.overdue == 0;
    };
#ifdef SKED_EXAMPLES_WITH_POSTGRES
    if (database) {  // the tables, not this process's copy of the market
        const auto held = example::or_exit(database->check(now, 2 * minute));
        std::printf("in PostgreSQL (schema %s): %lld trades notified twice; ", fleet->shared_name().c_str(),
                    static_cast<long long>(held.twice));
        return slots_ok && report(held.trades) && held.twice == 0 ? 0 : 1;
    }
#endif
    return slots_ok && report(store.check(now, 2 * minute)) ? 0 : 1;
}
