// Occurrences in time zones: cronie's DST rule in zones with unusual transitions,
// checked by hand-worked cases and against a brute-force reading of the rule.
#include <sked/zoned.hpp>

#include <doctest/doctest.h>

#include <ranges>
#include <set>
#include <string>
#include <vector>

#include <sked/date_zone.hpp>

#include "../support/time.hpp"

using namespace std::chrono;
using sked::test::at;
using sked::test::must_parse;
using sked::test::upcoming_local;
using strings = std::vector<std::string>;

namespace {

sked::date_zone zone(const char* name) {
    const auto found = sked::date_zone::locate(name);
    REQUIRE_MESSAGE(found.has_value(), "time zone database lacks " << name);
    return *found;
}

}  // namespace

TEST_CASE("UTC and fixed offsets shift the calendar and nothing else") {
    const auto daily = must_parse("0 0 * * *");
    CHECK(upcoming_local(daily, "2026-11-23T12:00:00Z", 2, sked::fixed_zone{hours{8}}) ==
          strings{"2026-11-24T00:00:00+08:00", "2026-11-25T00:00:00+08:00"});
    CHECK(upcoming_local(daily, "2026-11-23T12:00:00Z", 1, sked::fixed_zone{-minutes{210}}) ==
          strings{"2026-11-24T00:00:00-03:30"});
    CHECK(sked::next(daily, at("2026-11-23T12:00:00Z"), sked::utc_zone{}) == daily.next(at("2026-11-23T12:00:00Z")));
}

static_assert(std::ranges::input_range<sked::occurrence_range<>>);
static_assert(std::ranges::input_range<sked::occurrence_range<sked::date_zone>>);

// Clang 14 cannot compile libstdc++ 12's range adaptors at all (even over std::vector).
#if !defined(__clang__) || __clang_major__ >= 15
TEST_CASE("occurrences compose with standard range adaptors") {
    std::vector<std::string> days;
    for (const auto t : sked::occurrences(must_parse("0 0 * * *"), at("2026-11-23T12:00:00Z")) | std::views::take(2))
        days.push_back(sked::test::utc(t));
    CHECK(days == strings{"2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z"});
}
#endif

TEST_CASE("unknown zone names are reported, not guessed") {
    CHECK_FALSE(sked::date_zone::locate("Mars/Olympus_Mons").has_value());
}

TEST_CASE("America/New_York: a fixed time in the spring gap runs once when the gap ends") {
    const auto z = zone("America/New_York");
    CHECK(upcoming_local(must_parse("30 2 * * *"), "2026-03-07T00:00:00Z", 3, z) ==
          strings{"2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"});
    // Two fixed times in the same gap still run once.
    CHECK(upcoming_local(must_parse("0,30 2 * * *"), "2026-03-08T06:00:00Z", 2, z) ==
          strings{"2026-03-08T03:00:00-04:00", "2026-03-09T02:00:00-04:00"});
    // Wild jobs follow real time: 02:00 and 02:30 do not happen that day.
    CHECK(upcoming_local(must_parse("*/30 * * * *"), "2026-03-08T06:00:00Z", 3, z) ==
          strings{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"});
}

TEST_CASE("America/New_York: a fixed time in the autumn overlap runs once, wild ones twice") {
    const auto z = zone("America/New_York");
    CHECK(upcoming_local(must_parse("30 1 * * *"), "2026-10-31T12:00:00Z", 2, z) ==
          strings{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"});
    CHECK(upcoming_local(must_parse("*/30 1 * * *"), "2026-11-01T04:00:00Z", 5, z) ==
          strings{"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
                  "2026-11-01T01:30:00-05:00", "2026-11-02T01:00:00-05:00"});
    // Starting inside the second pass: the fixed job already ran in the first.
    CHECK(upcoming_local(must_parse("45 1 * * *"), "2026-11-01T06:10:00Z", 1, z) ==
          strings{"2026-11-02T01:45:00-05:00"});
}

TEST_CASE("Europe/Berlin: gap and overlap at 02:00-03:00") {
    const auto z = zone("Europe/Berlin");
    CHECK(upcoming_local(must_parse("30 2 * * *"), "2026-03-28T00:00:00Z", 3, z) ==
          strings{"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"});
    CHECK(upcoming_local(must_parse("30 2 * * *"), "2026-10-24T12:00:00Z", 2, z) ==
          strings{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"});
}

TEST_CASE("Australia/Lord_Howe: a 30-minute shift") {
    const auto z = zone("Australia/Lord_Howe");
    CHECK(upcoming_local(must_parse("15 2 * * *"), "2026-10-03T00:00:00Z", 2, z) ==
          strings{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"});
    CHECK(upcoming_local(must_parse("*/15 1 * * *"), "2026-04-04T13:50:00Z", 6, z) ==
          strings{"2026-04-05T01:00:00+11:00", "2026-04-05T01:15:00+11:00", "2026-04-05T01:30:00+11:00",
                  "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30", "2026-04-05T01:45:00+10:30"});
    CHECK(upcoming_local(must_parse("45 1 * * *"), "2026-04-04T12:00:00Z", 2, z) ==
          strings{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"});
}

TEST_CASE("America/Santiago: when midnight does not exist a daily job runs at 01:00") {
    const auto z = zone("America/Santiago");
    CHECK(upcoming_local(must_parse("0 0 * * *"), "2026-09-04T12:00:00Z", 3, z) ==
          strings{"2026-09-05T00:00:00-04:00", "2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"});
    // April: 23:00-23:59 on the 4th happens twice; the fixed job runs in the first pass.
    CHECK(upcoming_local(must_parse("30 23 * * *"), "2026-04-04T12:00:00Z", 2, z) ==
          strings{"2026-04-04T23:30:00-03:00", "2026-04-05T23:30:00-04:00"});
}

TEST_CASE("Pacific/Chatham: +12:45 and a gap from 02:45 to 03:45") {
    const auto z = zone("Pacific/Chatham");
    CHECK(upcoming_local(must_parse("0 3 * * *"), "2026-09-25T00:00:00Z", 3, z) ==
          strings{"2026-09-26T03:00:00+12:45", "2026-09-27T03:45:00+13:45", "2026-09-28T03:00:00+13:45"});
}

// ---- the rule, read literally, minute by minute ------------------------------------------

namespace {

bool matches_local(const sked::cron& expr, local_seconds t) { return expr.next(t - seconds{1}) == t; }

/// Occurrences in [from, to) by brute force: every minute of real time, plus the gaps.
std::vector<sys_seconds> brute_force(const sked::cron& expr, const sked::date_zone& z, sys_seconds from,
                                     sys_seconds to) {
    std::set<sys_seconds> out;
    const auto offset = [&](sys_seconds t) { return z.segment(t).offset; };
    for (sys_seconds t = from; t < to; t += minutes{1}) {
        const local_seconds local{t.time_since_epoch() + offset(t)};
        if (!matches_local(expr, local)) continue;
        bool seen_before = false;  // did this wall time already occur earlier in real time?
        for (minutes back{15}; back <= hours{3}; back += minutes{15})
            if (offset(t - back) == offset(t) + back) seen_before = true;
        if (expr.is_wild() || !seen_before) out.insert(t);
    }
    if (!expr.is_wild()) {
        for (sys_seconds t = from; t < to; t += minutes{1}) {
            const auto before = offset(t - seconds{1}), after = offset(t);
            if (after <= before) continue;
            for (local_seconds l{t.time_since_epoch() + before}; l < local_seconds{t.time_since_epoch() + after};
                 l += minutes{1})
                if (matches_local(expr, l)) out.insert(t);
        }
    }
    return {out.begin(), out.end()};
}

}  // namespace

TEST_CASE("next and prev match a brute-force reading of the DST rule around every 2026 transition") {
    const char* zones[] = {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago",
                           "Pacific/Chatham"};
    const char* expressions[] = {"0 0 * * *",       "30 2 * * *",   "*/15 * * * *", "45 1 * * *", "0 3 * * *",
                                 "15,45 1-3 * * *", "*/20 2 * * *", "30 23 * * *",  "0 * * * *",  "59 1 * * 0"};
    for (const char* name : zones) {
        const auto z = zone(name);
        for (sys_seconds t = at("2026-01-01T00:00:00Z"); t < at("2027-01-01T00:00:00Z");) {
            const auto segment = z.segment(t);
            const sys_seconds change = segment.end;
            if (change > at("2027-01-01T00:00:00Z")) break;
            for (const char* text : expressions) {
                const auto expr = must_parse(text);
                const sys_seconds from = change - hours{26}, to = change + hours{26};
                const auto expected = brute_force(expr, z, from, to);
                std::vector<sys_seconds> forward;
                for (auto next = sked::next(expr, from - seconds{1}, z); next && *next < to;
                     next = sked::next(expr, *next, z))
                    forward.push_back(*next);
                CHECK_MESSAGE(forward == expected,
                              (std::string(name) + " " + text + " around " + sked::test::utc(change)));
                std::vector<sys_seconds> backward;
                for (auto prev = sked::prev(expr, to, z); prev && *prev >= from; prev = sked::prev(expr, *prev, z))
                    backward.insert(backward.begin(), *prev);
                CHECK_MESSAGE(backward == expected,
                              name << " " << text << " backwards around " << sked::test::utc(change));
            }
            t = change;
        }
    }
}

// ---- sparse schedules over years: the search jumps over segments --------------------------

namespace {

/// Occurrences of a schedule firing at a fixed wall time of day that no DST change
/// touches (noon), computed without the zoned search: each matching calendar day,
/// through the zone's offset at that wall time.
std::vector<sys_seconds> noon_runs(const sked::cron& expr, const sked::date_zone& z, local_seconds from, int count) {
    std::vector<sys_seconds> out;
    for (auto wall = expr.next(from); wall && static_cast<int>(out.size()) < count; wall = expr.next(*wall)) {
        const seconds guess = z.segment(sys_seconds{wall->time_since_epoch()}).offset;
        const seconds offset = z.segment(sys_seconds{wall->time_since_epoch() - guess}).offset;
        out.push_back(sys_seconds{wall->time_since_epoch() - offset});
    }
    return out;
}

}  // namespace

TEST_CASE("sparse schedules in DST zones land on the right day years ahead, forwards and backwards") {
    const char* zones[] = {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago",
                           "Pacific/Chatham"};
    const char* expressions[] = {"0 12 29 2 *", "0 12 13 * 5", "30 12 * * 5#3", "0 12 L 2 *",
                                 "0 12 1 1 *",  "0 12 29 2 1", "15 12 31 * *"};
    for (const char* name : zones) {
        const auto z = zone(name);
        for (const char* text : expressions) {
            const auto expr = must_parse(text);
            const sys_seconds start = at("2026-01-01T00:00:00Z");
            const local_seconds local_start{start.time_since_epoch() + z.segment(start).offset};
            const auto expected = noon_runs(expr, z, local_start, 8);
            std::vector<sys_seconds> forward;
            for (auto t = sked::next(expr, start, z); t && forward.size() < 8; t = sked::next(expr, *t, z))
                forward.push_back(*t);
            CHECK_MESSAGE(forward == expected, (std::string(name) + " " + text));
            std::vector<sys_seconds> backward;
            for (auto t = sked::prev(expr, expected.back() + seconds{1}, z); t && backward.size() < 8;
                 t = sked::prev(expr, *t, z))
                backward.insert(backward.begin(), *t);
            CHECK_MESSAGE(backward == expected, (std::string(name) + " " + text + " backwards"));
        }
    }
}
