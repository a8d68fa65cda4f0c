#include "sked/schedule_words.hpp"

#include <doctest/doctest.h>

#include <sked/schedule.hpp>

namespace sked::test {
namespace {

TEST_SUITE("schedule words") {
    TEST_CASE("a schedule's text in words, and its zone, as the dashboard and `sked status` show them") {
        const auto cron = schedule::cron(*sked::cron::parse("0 9 * * MON-FRI")).describe();
        CHECK(schedule_in_words(cron) == sked::explain(*sked::cron::parse("0 9 * * MON-FRI")) + " (UTC)");
        CHECK(schedule_zone(cron) == "UTC");
        CHECK(schedule_zone("cron 0 9 * * * (Europe/Berlin)") == "Europe/Berlin");
        CHECK(schedule_in_words(schedule::every(std::chrono::seconds{90}).describe()) == "Every 1m30s");
        CHECK(schedule_zone("every 90s").empty());
        CHECK(schedule_in_words("once 2026-11-23T00:00:00Z") == "Once, at 2026-11-23T00:00:00Z");
        // Text from elsewhere (another version over HTTP) comes back as it is, never throws.
        for (const auto odd : {"every xs", "every s", "every -5s", "every 99999999999999999999s",
                               "every 0012901290518651863s", "cron nonsense (X)", "cron", "", "weekly"})
            CHECK(schedule_in_words(odd) == odd);
        CHECK(schedule_zone("cron 0 0 * * *").empty());
    }
}

}  // namespace
}  // namespace sked::test
