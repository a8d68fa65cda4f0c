#include "sked/stagger.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "../support/time.hpp"
#include "sked/cron.hpp"
#include "sked/stagger_cron.hpp"
#include "sked/stagger_lint.hpp"
#include "sked/stagger_plan.hpp"
#include "sked/stagger_switch.hpp"

namespace sked::test {
namespace {

// The sports service's table: 4 jobs every minute, 2 every 5, 2 every 10, all at :00.
std::vector<stagger_job> sports_table() {
    return {{.name = "odds_refresh", .period = 60},   {.name = "live_scores", .period = 60},
            {.name = "injury_feed", .period = 60},    {.name = "bet_settle", .period = 60},
            {.name = "standings", .period = 300},     {.name = "player_stats", .period = 300},
            {.name = "league_tables", .period = 600}, {.name = "archive_sync", .period = 600}};
}

// The slow, obvious way: walk every second of the hyperperiod.
std::uint32_t brute_force_peak(const std::vector<stagger_job>& jobs, std::uint64_t hyperperiod) {
    std::uint32_t peak = 0;
    for (std::uint64_t second = 0; second < hyperperiod; ++second) {
        std::uint32_t running = 0;
        for (const auto& job : jobs)
            running += (second + job.period - job.offset) % job.period < job.duration ? 1u : 0u;
        peak = std::max(peak, running);
    }
    return peak;
}

bool brute_force_overlap(const stagger_job& a, const stagger_job& b, std::uint64_t hyperperiod) {
    for (std::uint64_t second = 0; second < hyperperiod; ++second) {
        const bool runs_a = (second + a.period - a.offset) % a.period < a.duration;
        const bool runs_b = (second + b.period - b.offset) % b.period < b.duration;
        if (runs_a && runs_b) return true;
    }
    return false;
}

std::vector<stagger_job> random_table(std::mt19937_64& random, std::span<const std::uint32_t> periods,
                                      std::size_t count, std::uint32_t longest) {
    static const std::string names[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};
    std::vector<stagger_job> jobs;
    for (std::size_t i = 0; i < count; ++i) {
        stagger_job job;
        job.name = names[i % std::size(names)];
        job.period = periods[random() % periods.size()];
        job.offset = static_cast<std::uint32_t>(random() % job.period);
        job.duration = 1 + static_cast<std::uint32_t>(random() % std::min(longest, job.period));
        job.pinned = random() % 5 == 0;
        jobs.push_back(job);
    }
    return jobs;
}

// The planner's rule done the slow, obvious way: each free job (in placed_before order)
// tries every offset in spreading order, walks every second its runs would cover, and
// takes the first offset that meets the fewest running jobs.
std::vector<stagger_job> reference_plan(std::vector<stagger_job> jobs, std::uint32_t window) {
    const auto hyperperiod = hyperperiod_of(jobs);
    std::vector<std::uint32_t> load(hyperperiod, 0);
    const auto visit = [&](const stagger_job& job, std::uint32_t offset, auto&& each) {
        for (std::uint64_t start = offset; start < hyperperiod; start += job.period)
            for (std::uint64_t s = 0; s < job.duration; ++s)
                each(load[(start + s) % hyperperiod]);
    };
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        if (jobs[i].pinned) {
            visit(jobs[i], jobs[i].offset, [](std::uint32_t& l) { ++l; });
        } else {
            order.push_back(i);
        }
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return detail::placed_before(jobs[a], jobs[b]); });
    for (const auto i : order) {
        auto& job = jobs[i];
        std::uint32_t best = UINT32_MAX;
        for (const auto offset : detail::spreading_order(window == 0 ? job.period : std::min(window, job.period))) {
            std::uint32_t busiest = 0;
            visit(job, offset, [&](std::uint32_t& l) { busiest = std::max(busiest, l); });
            if (busiest < best) {
                best = busiest;
                job.offset = offset;
            }
        }
        visit(job, job.offset, [](std::uint32_t& l) { ++l; });
    }
    return jobs;
}

constexpr stagger_job planned_table[] = {
    {.name = "referral_tier2", .period = 60, .offset = 0, .duration = 3},
    {.name = "badge_unlock", .period = 300, .offset = 5, .duration = 10},
    {.name = "live_stats", .period = 60, .offset = 45, .pinned = true},
};
static_assert(check(planned_table).collisions == 0);
static_assert(no_collisions(planned_table));
static_assert(check(planned_table).peak == 1 && check(planned_table).hyperperiod == 300);

TEST_SUITE("stagger") {
    TEST_CASE("check: the sports table collides everywhere at :00") {
        const auto jobs = sports_table();
        const auto report = check(jobs);
        CHECK(report.collisions == 28);  // every pair
        CHECK(report.same_second == 28);
        CHECK(report.peak == 8);
        CHECK(report.peak_at == 0);
        CHECK(report.hyperperiod == 600);
        CHECK(report.first == 0);
        CHECK(report.second == 1);
    }

    TEST_CASE("check: pairs and peak agree with walking every second, on 400 random tables") {
        std::mt19937_64 random{20261123};
        const std::uint32_t periods[] = {6, 10, 12, 15, 20, 30, 60, 7, 9};
        for (int round = 0; round < 400; ++round) {
            const auto jobs = random_table(random, periods, 2 + static_cast<std::size_t>(round % 6), 8);
            const auto report = check(jobs);
            CAPTURE(round);
            std::size_t pairs = 0;
            for (std::size_t a = 0; a < jobs.size(); ++a) {
                for (std::size_t b = a + 1; b < jobs.size(); ++b) {
                    pairs += brute_force_overlap(jobs[a], jobs[b], report.hyperperiod) ? 1u : 0u;
                }
            }
            REQUIRE(report.collisions == pairs);
            REQUIRE(report.peak == brute_force_peak(jobs, report.hyperperiod));
        }
    }

    TEST_CASE("check: counting per period group agrees with counting every pair, on 300 larger tables") {
        std::mt19937_64 random{99};
        const std::uint32_t periods[] = {60, 90, 300, 600, 3600, 7};
        for (int round = 0; round < 300; ++round) {
            // Every third table has jobs up to their whole period long: pairs that always collide.
            const std::uint32_t longest = round % 3 == 0 ? 3600 : 30;
            const auto jobs = random_table(random, periods, 5 + static_cast<std::size_t>(round % 60), longest);
            CAPTURE(round);
            stagger_report direct;
            detail::count_pairs_directly(jobs, direct);
            const auto grouped = check(jobs);
            REQUIRE(grouped.collisions == direct.collisions);
            REQUIRE(grouped.same_second == direct.same_second);
            REQUIRE(grouped.first == direct.first);
            REQUIRE(grouped.second == direct.second);
        }
    }

    TEST_CASE("plan: the sports table goes from 8 at once to 1, the lower bound") {
        const auto planned = plan(sports_table());
        REQUIRE(planned);
        CHECK(planned->peak_unstaggered == 8);
        CHECK(planned->peak == 1);
        CHECK(planned->lower_bound == 1);
        CHECK(planned->moved == 7);  // one minute job stays at :00
        std::vector<std::uint32_t> minute_offsets;
        for (std::size_t i = 0; i < 4; ++i)
            minute_offsets.push_back(planned->jobs[i].offset);
        std::sort(minute_offsets.begin(), minute_offsets.end());
        CHECK(minute_offsets == std::vector<std::uint32_t>{0, 15, 30, 45});  // spread, not :00 :01 :02 :03
        CHECK(check(planned->jobs).collisions == 0);
    }

    TEST_CASE("plan: a window keeps offsets early in the period") {
        const auto planned = plan(sports_table(), {.window = 20});
        REQUIRE(planned);
        for (const auto& job : planned->jobs)
            CHECK(job.offset < 20);
        CHECK(planned->peak == 1);
    }

    TEST_CASE("plan: on random tables it never does worse than unstaggered, keeps pins, and is deterministic") {
        std::mt19937_64 random{7};
        const std::uint32_t periods[] = {10, 20, 30, 60, 120, 300};
        for (int round = 0; round < 300; ++round) {
            const auto jobs = random_table(random, periods, 1 + static_cast<std::size_t>(round % 12), 15);
            CAPTURE(round);
            const auto first = plan(jobs);
            REQUIRE(first);
            CHECK(first->peak <= first->peak_unstaggered);
            CHECK(first->peak >= first->lower_bound);
            CHECK(first->peak == check(first->jobs).peak);
            for (std::size_t i = 0; i < jobs.size(); ++i) {
                if (jobs[i].pinned) CHECK(first->jobs[i].offset == jobs[i].offset);
                CHECK(first->jobs[i].offset < jobs[i].period);
            }
            const auto again = plan(jobs);
            for (std::size_t i = 0; i < jobs.size(); ++i)
                REQUIRE(again->jobs[i].offset == first->jobs[i].offset);
        }
    }

    TEST_CASE("plan: the same offsets as trying every offset of every job, on random tables and windows") {
        std::mt19937_64 random{13};
        const std::uint32_t periods[] = {6, 10, 15, 30, 60, 90, 120};
        for (int round = 0; round < 200; ++round) {
            // Up to 120 jobs of up to the whole period: many share a period and a duration.
            const auto jobs =
                random_table(random, periods, 1 + random() % 120, 1 + static_cast<std::uint32_t>(random() % 120));
            const std::uint32_t window = round % 3 == 0 ? 0 : 1 + static_cast<std::uint32_t>(random() % 70);
            CAPTURE(round);
            CAPTURE(window);
            const auto planned = plan(jobs, {.window = window});
            REQUIRE(planned);
            const auto expected = reference_plan(jobs, window);
            for (std::size_t i = 0; i < jobs.size(); ++i) {
                CAPTURE(i);
                REQUIRE(planned->jobs[i].offset == expected[i].offset);
            }
            CHECK(planned->lower_bound <= planned->peak);
        }
    }

    TEST_CASE("plan: periods that divide each other, unit durations and room for all reach the bound of 1") {
        std::mt19937_64 random{11};
        const std::uint32_t chain[] = {4, 8, 16, 32, 64};
        for (int round = 0; round < 300; ++round) {
            std::vector<stagger_job> jobs;
            double load = 0;
            while (true) {
                const auto period = chain[random() % std::size(chain)];
                if (load + 1.0 / period > 1.0) break;
                load += 1.0 / period;
                jobs.push_back({.name = "x", .period = period, .offset = 0, .duration = 1});
            }
            CAPTURE(round);
            const auto planned = plan(jobs);
            REQUIRE(planned);
            CHECK(planned->lower_bound == 1);
            CHECK(planned->peak == 1);
        }
    }

    TEST_CASE("extend: one more job fits around the planned ones -- none of them moves") {
        const auto planned = plan(sports_table());
        const std::vector<stagger_job> added{{.name = "referral_tier2", .period = 60, .duration = 3}};
        const auto extended = extend(planned->jobs, added);
        REQUIRE(extended);
        CHECK(extended->moved == 0);
        CHECK(extended->peak == 1);
        CHECK(extended->jobs.size() == 9);
        for (std::size_t i = 0; i < 8; ++i)
            CHECK(extended->jobs[i].offset == planned->jobs[i].offset);
    }

    TEST_CASE("extend: when the old offsets leave no room, the fresh plan wins and says how many moved") {
        // Two 2 s jobs at :02 and :06 of every 10 s leave no 5 s gap; planned afresh, the
        // 5 s job goes first and the short ones fit after it.
        const std::vector<stagger_job> planned{{.name = "a", .period = 10, .offset = 2, .duration = 2},
                                               {.name = "b", .period = 10, .offset = 6, .duration = 2}};
        const std::vector<stagger_job> added{{.name = "c", .period = 10, .duration = 5}};
        const auto extended = extend(planned, added);
        REQUIRE(extended);
        CHECK(extended->peak == 1);
        CHECK(extended->moved == 2);
        CHECK(check(extended->jobs).collisions == 0);
    }

    TEST_CASE("plan: tables it cannot plan are errors that name the job") {
        const std::vector<stagger_job> zero{{.name = "broken", .period = 0}};
        CHECK(plan(zero).error().reason == "job 'broken' has a period of 0 s");
        const std::vector<stagger_job> long_run{{.name = "slow", .period = 60, .duration = 61}};
        CHECK(plan(long_run).error().reason == "job 'slow' runs 61 s; it must run 1 s to its period (60 s)");
        const std::vector<stagger_job> coprime{{.name = "p", .period = 65'521}, {.name = "q", .period = 65'519}};
        CHECK(plan(coprime).error().reason.find("least common multiple") != std::string::npos);
    }

    TEST_CASE("peak_instants: every second where the peak is reached") {
        const std::vector<stagger_job> jobs{{.name = "a", .period = 60, .duration = 10},
                                            {.name = "b", .period = 60, .offset = 5},
                                            {.name = "c", .period = 120, .offset = 5}};
        CHECK(check(jobs).peak == 3);
        CHECK(peak_instants(jobs) == std::vector<std::uint64_t>{5});
        CHECK(peak_instants(sports_table()) == std::vector<std::uint64_t>{0});
        const std::vector<stagger_job> one{{.name = "x", .period = 10, .duration = 2}};
        CHECK(peak_instants(one) == std::vector<std::uint64_t>{0, 1});
    }

    TEST_CASE("cron_rows: a cron schedule as pinned rows over a week") {
        const auto daily = cron_rows("daily_reward", must_parse("0 0 * * *"), 30);
        REQUIRE(daily);
        REQUIRE(daily->size() == 7);
        for (std::size_t day = 0; day < 7; ++day) {
            CHECK((*daily)[day].offset == day * 86'400);
            CHECK((*daily)[day].period == cron_rows_window);
            CHECK((*daily)[day].pinned);
            CHECK((*daily)[day].duration == 30);
        }
        const auto weekdays = cron_rows("report", must_parse("30 9 * * MON-FRI"));
        REQUIRE(weekdays);
        CHECK(weekdays->size() == 5);
        CHECK_FALSE(cron_rows("busy", must_parse("* * * * * *")));  // more than once a minute
        // Mixed with a periodic job: the daily run at midnight collides with a minute job at :00.
        auto table = *daily;
        table.push_back({.name = "sweep", .period = 60});
        CHECK(check(table).collisions == 7);
    }

    TEST_CASE("hash_offset: stable, and the second a cron H picks for the same job") {
        CHECK(hash_offset("daily_reward", 60) == hash_offset("daily_reward", 60));
        for (const char* job : {"daily_reward", "drop_spawner", "trade_expiry", "x"}) {
            const auto hashed = cron::parse("H * * * * *", {.job_name = job});
            REQUIRE(hashed);
            const auto next = hashed->next(at("2026-11-23T00:00:00Z") - std::chrono::seconds{1});
            CHECK(static_cast<std::uint32_t>((next->time_since_epoch().count()) % 60) == hash_offset(job, 60));
        }
        CHECK(hash_offset("daily_reward", 300) < 300);
    }

    TEST_CASE("switches: from the environment only when asked, globally or per job") {
        const auto jobs = sports_table();
        CHECK(stagger_switches::variable_for("daily-reward.v2") == "SKED_STAGGER_DAILY_REWARD_V2");
        const auto none = stagger_switches::from_environment(jobs, [](const char*) -> const char* { return nullptr; });
        CHECK(none.enabled_for("odds_refresh"));
        const auto one_off = stagger_switches::from_environment(jobs, [](const char* variable) -> const char* {
            return std::string_view{variable} == "SKED_STAGGER_LIVE_SCORES" ? "0" : nullptr;
        });
        CHECK(one_off.enabled());
        CHECK_FALSE(one_off.enabled_for("live_scores"));
        CHECK(one_off.enabled_for("odds_refresh"));
        const auto all_off = stagger_switches::from_environment(jobs, [](const char* variable) -> const char* {
            return std::string_view{variable} == "SKED_STAGGER" ? "off" : nullptr;
        });
        const stagger_job staggered{.name = "odds_refresh", .period = 60, .offset = 30};
        CHECK(all_off.offset_of(staggered) == 0);  // fires at its unstaggered time
        stagger_switches in_code;
        in_code.set_enabled("odds_refresh", false);
        CHECK(in_code.offset_of(staggered) == 0);
        in_code.set_enabled("odds_refresh", true);
        CHECK(in_code.offset_of(staggered) == 30);
    }

    TEST_CASE("lint: says what is wrong and what to do") {
        auto jobs = sports_table();
        jobs[1].offset = 75;
        const auto warnings = lint(jobs);
        REQUIRE(warnings.size() == 5);
        CHECK(warnings[0].message == "offset 75 s of 'live_scores' exceeds its 60 s period");
        CHECK(warnings[1].message == "3 jobs start at second 0 of every 60 s; run `sked plan`");
        CHECK(warnings[2].message == "2 jobs start at second 0 of every 300 s; run `sked plan`");
        CHECK(warnings[3].message == "2 jobs start at second 0 of every 600 s; run `sked plan`");
        CHECK(warnings[4].message == "7 jobs run at once at second 0 of the 600 s cycle (21 colliding pairs)");
        CHECK(lint(plan(sports_table())->jobs).empty());
    }
}

}  // namespace
}  // namespace sked::test
