// examples/expiry — every minute, trades past their time-to-live become `expired`.
//
//     expiry --replicas 3 --simulate 30d
//
// The sweep is safe to run twice (it judges by the slot's time and changes only open
// trades) and never runs concurrently with itself (exactly_once_serial). Its start is
// staggered within the minute by a hash of its name, the same on every replica, so it
// does not fire at :00 with everything else.
#include <cstdio>
#include <stdexcept>
#include <string>

#include <sked/cron.hpp>
#include <sked/schedule.hpp>

#include "../common/program.hpp"
#include "trade_store.hpp"

namespace {

constexpr std::string_view about =
    "expiry: every minute, sweep trades older than their time-to-live to 'expired', with a\n"
    "notification each; safe to run twice, never concurrent with itself.";

example::job_plan trade_expiry_plan() {
    using namespace sked::literals;
    using namespace std::chrono_literals;
    return {"trade_expiry",
            sked::schedule::cron("* * * * *"_cron),
            {.mode = sked::distribution::exactly_once_serial,
             .hashed_offset_within = 60s}};  // stagger: a fixed second of the minute, from the name
}

}  // namespace

int main(int argc, char** argv) {
    const auto o =
        example::parse_or_exit(argc, argv, about, {{"--work", "DUR", "how long a sweep's transaction takes (1s)"}});
    const auto work = sked::parse_duration(o.extra_or("--work", "1s"));
    if (!work) {
        std::fprintf(stderr, "--work: expected a duration such as 1s\n");
        return 2;
    }
    const auto plan = example::with_command_line(o, trade_expiry_plan());
    if (!o.check.empty()) return example::fleet::check(plan, o.check);

    const auto horizon = o.simulate.value_or(o.run_for.value_or(std::chrono::hours{24}));
    const auto start = o.simulate ? o.start : std::chrono::floor<std::chrono::seconds>(sked::system_now());
    const std::chrono::seconds minute = o.tick.value_or(std::chrono::minutes{1});
    expiry::trade_store store{start, start + std::chrono::ceil<std::chrono::seconds>(horizon), minute};
    auto fleet = example::open_or_exit(o);
    const bool slots_ok = example::run_and_summarize(*fleet, plan, [&](const sked::job_context& c) {
        if (!fleet->spend(c, *work)) throw std::runtime_error("stopped before the sweep committed");
        const auto swept = store.sweep(c.nominal, c.fence);
        if (swept.stale) return example::outcome{"fenced", "a sweep with a newer fencing token ran"};
        return example::outcome{
            "ok", "expired " + std::to_string(swept.expired) + ", accepted " + std::to_string(swept.accepted)};
    });
    const auto now = std::chrono::floor<std::chrono::seconds>(fleet->now());
    const auto a = store.check(now, 2 * minute);
    std::printf(
        "trades: %zu opened, %zu accepted, %zu expired with %zu notifications; %zu expired early, "
        "%zu overdue\n",
        a.trades, a.accepted, a.expired, a.notifications, a.expired_early, a.overdue);
    return slots_ok && a.expired == a.notifications && a.expired_early == 0 && a.overdue == 0 ? 0 : 1;
}
