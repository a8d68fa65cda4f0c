// explain(): English descriptions for logs and `sked explain`.
#include <sked/cron_explain.hpp>

#include <doctest/doctest.h>

#include "../support/time.hpp"

using sked::explain;
using sked::test::must_parse;

TEST_CASE("explain describes common schedules in one sentence") {
    CHECK(explain(must_parse("30 9 * * 5L")) == "At 09:30 on the last Friday of every month");
    CHECK(explain(must_parse("0 0 * * *")) == "At 00:00 every day");
    CHECK(explain(must_parse("*/5 * * * *")) == "Every 5 minutes");
    CHECK(explain(must_parse("*/15 * * * * *")) == "Every 15 seconds");
    CHECK(explain(must_parse("0 12 * * MON-FRI")) == "At 12:00 on Monday through Friday");
    CHECK(explain(must_parse("0 0 29 2 *")) == "At 00:00 on day 29 of February");
    CHECK(explain(must_parse("0 0 13 * 5")) == "At 00:00 on day 13 of every month or on Friday");
    CHECK(explain(must_parse("0 15 10 * * 5#3")) == "At 10:15 on the third Friday of every month");
    CHECK(explain(must_parse("0 0 LW * *")) == "At 00:00 on the last weekday of every month");
    CHECK(explain(must_parse("0 0 * JAN-MAR *")) == "At 00:00 in January through March");
    CHECK(explain(must_parse("@every 1h30m")) == "Every 1h30m since the Unix epoch");
    CHECK(explain(must_parse("CRON_TZ=Asia/Manila 0 0 * * *")) == "At 00:00 every day (Asia/Manila)");
    CHECK(explain(must_parse("0 0 0 1 1 * 2027-2029")) == "At 00:00 on day 1 of January in 2027 through 2029");
}

TEST_CASE("explain says 'if it is' when both day fields must match") {
    CHECK(explain(must_parse("0 0 13 * 5", {.days = sked::day_match::both})) ==
          "At 00:00 on day 13 of every month if it is on Friday");
}
