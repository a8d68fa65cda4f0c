// examples/reward — every player gets one daily reward at 00:00 in the players' zone.
//
//     reward --replicas 3 --simulate 30d --outage 9d15h+2h
//
// The job runs exactly once per day across replicas (its run key), grants each player the
// reward named by that key (so a retry or a second runner changes nothing), and writes
// with its fencing token (so a replica that stalled past its lease cannot write late).
// A midnight missed while every replica was down is granted once, when they come back.
#include <cstdio>
#include <stdexcept>
#include <string>

#include <sked/cron.hpp>
#include <sked/date_zone.hpp>
#include <sked/schedule.hpp>

#include "../common/program.hpp"
#include "reward_store.hpp"

namespace {

constexpr std::string_view about =
    "reward: one daily reward per player at 00:00 in the players' zone, exactly once across replicas.";

example::job_plan daily_reward_plan(const sked::date_zone& zone) {
    using namespace sked::literals;
    return {"daily_reward",
            sked::schedule::cron("0 0 * * *"_cron, zone),
            {.mode = sked::distribution::exactly_once,
             .on_misfire = sked::misfire::run_once}};  // a missed midnight: grant it once, late
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
    const auto players = std::stoul(o.extra_or("--players", "100"));
    const auto work = sked::parse_duration(o.extra_or("--work", "2s"));
    if (players == 0 || !work) {
        std::fprintf(stderr, "--players wants a positive number, --work a duration such as 2s\n");
        return 2;
    }
    const auto plan = example::with_command_line(o, daily_reward_plan(*zone));
    if (!o.check.empty()) return example::fleet::check(plan, o.check);

    reward::reward_store store{players};
    auto fleet = example::open_or_exit(o);
    const bool slots_ok = example::run_and_summarize(*fleet, plan, [&](const sked::job_context& c) {
        if (!fleet->spend(c, *work)) throw std::runtime_error("stopped before the grant transaction committed");
        const auto written = store.grant_all(c.run_key(), c.fence);
        if (written.stale) return example::outcome{"fenced", "a run with a newer fencing token wrote first"};
        std::string detail = "granted " + std::to_string(written.granted) + " rewards";
        if (written.already_granted > 0) detail += ", " + std::to_string(written.already_granted) + " already granted";
        return example::outcome{"ok", detail};
    });
    const auto [fewest, most] = store.reward_range();
    std::printf("rewards: %zu players, each holds %zu", store.players(), fewest);
    if (most != fewest) std::printf(" to %zu", most);
    std::printf(" (zone %s)\n", std::string(zone->name()).c_str());
    return slots_ok ? 0 : 1;
}
