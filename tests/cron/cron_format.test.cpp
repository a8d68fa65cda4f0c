// to_string(): canonical text that parses back to an equal value.
#include <sked/cron.hpp>

#include <doctest/doctest.h>

#include <string>

#include "../support/time.hpp"

using sked::test::must_parse;

TEST_CASE("canonical text is compact and keeps the meaning of a leading star") {
    CHECK(must_parse("0-59 * * * *").to_string() == "0-59 * * * *");  // not '*': it is not wild
    CHECK(must_parse("*/10,5 * * * *").to_string() == "*/10,5 * * * *");
    CHECK(must_parse("0,1,2,3,10 * * * *").to_string() == "0-3,10 * * * *");
    CHECK(must_parse("0,15,30,45 * * * *").to_string() == "0-45/15 * * * *");
    CHECK(must_parse("0 0 L,L-3,15W,LW * *").to_string() == "0 0 L,L-3,15W,LW * *");
    CHECK(must_parse("0 0 ? * SUN#2,MONL").to_string() == "0 0 * * 1L,0#2");
    CHECK(must_parse("0 0 0 * * * */10").to_string() == "0 0 0 * * * */10");
    CHECK(must_parse("0 0 0 * * * 2026,2028-2030").to_string() == "0 0 0 * * * 2026,2028-2030");
}

TEST_CASE("to_string round-trips for every construct") {
    for (const char* text :
         {"* * * * *", "*/15 * * * * *", "0 0 1 1 *", "5,10-12,50-59/4 2/3 1-31/2 JAN-JUN/2 MON-FRI", "0 0 L-5 * *",
          "0 0 * * 5#3,1#1", "0 0 * * 0L", "@every 2h", "CRON_TZ=Europe/Berlin 30 2 * * *", "0 0 13 * 5",
          "1 2 3 4 5 6 2099", "0 0 0 ? * * *", "*/2,1 * * * *", "0 0 * * 7"}) {
        const auto first = must_parse(text);
        const auto again = sked::cron::parse(first.to_string());
        REQUIRE_MESSAGE(again.has_value(), text << " -> " << first.to_string());
        CHECK_MESSAGE(*again == first, text << " -> " << first.to_string());
    }
}
