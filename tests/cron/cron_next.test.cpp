// next() and prev() in UTC: every construct, roll-overs, and the cases peers get wrong.
#include <sked/cron.hpp>

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "../support/time.hpp"

using sked::test::at;
using sked::test::must_parse;
using sked::test::upcoming;
using sked::test::utc;
using strings = std::vector<std::string>;

TEST_CASE("next is strictly after the start, prev strictly before") {
    const auto daily = must_parse("0 0 * * *");
    CHECK(utc(daily.next(at("2026-11-23T00:00:00Z"))) == "2026-11-24T00:00:00Z");
    CHECK(utc(daily.next(at("2026-11-22T23:59:59Z"))) == "2026-11-23T00:00:00Z");
    CHECK(utc(daily.prev(at("2026-11-23T00:00:00Z"))) == "2026-11-22T00:00:00Z");
    CHECK(utc(daily.prev(at("2026-11-23T00:00:01Z"))) == "2026-11-23T00:00:00Z");
}

TEST_CASE("roll-overs reset the smaller fields") {
    // Seconds reset when the minute rolls (a bug in several peers).
    CHECK(upcoming("30 */2 * * * *", "2026-01-01T00:00:45Z", 2) ==
          strings{"2026-01-01T00:02:30Z", "2026-01-01T00:04:30Z"});
    CHECK(upcoming("15 10 * * *", "2026-12-31T10:15:00Z", 1) == strings{"2027-01-01T10:15:00Z"});
    CHECK(upcoming("0 0 31 * *", "2026-01-31T00:00:00Z", 3) ==
          strings{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"});
    CHECK(upcoming("59 23 * * *", "2026-02-28T23:59:00Z", 1) == strings{"2026-03-01T23:59:00Z"});
}

TEST_CASE("sparse schedules: leap days, Friday the 13th, third Friday") {
    CHECK(upcoming("0 0 29 2 *", "2026-11-23T00:00:00Z", 3) ==
          strings{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"});
    CHECK(upcoming("0 0 29 2 *", "2096-03-01T00:00:00Z", 1) ==
          strings{"2104-02-29T00:00:00Z"});  // 2100 is no leap year
    // Vixie: both day fields restricted -> either matches.
    CHECK(upcoming("0 0 13 * 5", "2026-11-01T00:00:00Z", 4) ==
          strings{"2026-11-06T00:00:00Z", "2026-11-13T00:00:00Z", "2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z"});
    CHECK(upcoming("0 0 13 * 5", "2026-11-01T00:00:00Z", 2, {.days = sked::day_match::both}) ==
          strings{"2026-11-13T00:00:00Z", "2027-08-13T00:00:00Z"});
    CHECK(upcoming("0 15 10 * * 5#3", "2026-11-01T00:00:00Z", 2) ==
          strings{"2026-11-20T10:15:00Z", "2026-12-18T10:15:00Z"});
    CHECK(upcoming("0 15 10 * * 6#3", "2026-11-01T00:00:00Z", 1, {.weekdays = sked::weekday_numbering::quartz}) ==
          strings{"2026-11-20T10:15:00Z"});
}

TEST_CASE("a star-led day field makes the other one decide alone (Vixie)") {
    // */2 starts with '*', so day-of-week alone narrows: Mondays on odd days.
    CHECK(upcoming("0 0 */2 * 1", "2026-11-01T00:00:00Z", 3) ==
          strings{"2026-11-09T00:00:00Z", "2026-11-23T00:00:00Z", "2026-12-07T00:00:00Z"});
    // Neither starts with '*': days 1-7 or Mondays.
    CHECK(upcoming("0 0 1-7 * 1", "2026-11-06T00:00:00Z", 4) ==
          strings{"2026-11-07T00:00:00Z", "2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z"});
}

TEST_CASE("L, L-n, nW and LW in day-of-month") {
    CHECK(upcoming("0 0 L * *", "2026-01-15T00:00:00Z", 3) ==
          strings{"2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"});
    CHECK(upcoming("0 0 L-2 * *", "2028-02-01T00:00:00Z", 2) ==
          strings{"2028-02-27T00:00:00Z", "2028-03-29T00:00:00Z"});
    // 2026-11-15 is a Sunday -> Monday 16th; 2026-08-01 is a Saturday -> Monday 3rd (stays in month).
    CHECK(upcoming("0 0 15W * *", "2026-11-01T00:00:00Z", 1) == strings{"2026-11-16T00:00:00Z"});
    CHECK(upcoming("0 0 1W * *", "2026-07-15T00:00:00Z", 1) == strings{"2026-08-03T00:00:00Z"});
    // 2026-05-31 is a Sunday -> Friday 29th.
    CHECK(upcoming("0 0 LW * *", "2026-05-01T00:00:00Z", 1) == strings{"2026-05-29T00:00:00Z"});
    CHECK(upcoming("0 0 31W * *", "2026-04-01T00:00:00Z", 1) == strings{"2026-05-29T00:00:00Z"});  // April has no 31st
}

TEST_CASE("nL and n#k in day-of-week") {
    CHECK(upcoming("30 9 * * 5L", "2026-11-01T00:00:00Z", 2) ==
          strings{"2026-11-27T09:30:00Z", "2026-12-25T09:30:00Z"});
    CHECK(upcoming("30 9 * * FRIL", "2026-11-01T00:00:00Z", 1) == strings{"2026-11-27T09:30:00Z"});
    CHECK(upcoming("0 0 * * 1#5", "2026-01-01T00:00:00Z", 2) ==
          strings{"2026-03-30T00:00:00Z", "2026-06-29T00:00:00Z"});
    CHECK(upcoming("0 0 * * 0#1,6#1", "2026-11-01T00:00:00Z", 3) ==
          strings{"2026-11-07T00:00:00Z", "2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z"});
}

TEST_CASE("the year field bounds the search") {
    const auto expr = must_parse("0 0 0 1 1 * 2027");
    CHECK(utc(expr.next(at("2026-06-01T00:00:00Z"))) == "2027-01-01T00:00:00Z");
    CHECK(utc(expr.next(at("2027-01-01T00:00:00Z"))) == "none");
    CHECK(utc(expr.prev(at("2030-01-01T00:00:00Z"))) == "2027-01-01T00:00:00Z");
    CHECK(utc(expr.prev(at("2027-01-01T00:00:00Z"))) == "none");
}

TEST_CASE("times before 1970 work as well") {
    CHECK(upcoming("0 12 * * *", "1969-12-31T13:00:00Z", 1) == strings{"1970-01-01T12:00:00Z"});
    CHECK(utc(must_parse("0 0 1 1 *").prev(at("1900-06-01T00:00:00Z"))) == "1900-01-01T00:00:00Z");
}

TEST_CASE("next and prev agree: walking back retraces walking forward") {
    std::mt19937 random(2026);
    for (const char* text : {"*/7 * * * *", "0 0 29 2 *", "0 15 10 * * 5#3", "0 0 L-3 * *", "0 0 15W * *",
                             "30 9 * * 5L", "*/13 */5 * * * *", "0 0 13 * 5", "0 0 */3 1,6 *", "5 4 1-7 * 1"}) {
        const auto expr = must_parse(text);
        auto t = at("2026-01-01T00:00:00Z") + std::chrono::seconds{random() % 100'000'000};
        std::vector<std::chrono::sys_seconds> forward;
        for (auto next = expr.next(t); forward.size() < 20; next = expr.next(*next))
            forward.push_back(*next);
        auto back = expr.prev(forward.back());
        for (auto i = forward.size() - 1; i-- > 0; back = expr.prev(*back))
            CHECK_MESSAGE(*back == forward[i], text);
        CHECK(*expr.prev(forward.front()) <= t);
    }
}
