// Parsing: every construct of the dialect, and every error with its column and message.
#include <sked/cron.hpp>

#include <doctest/doctest.h>

#include <string>

#include "../support/time.hpp"

using sked::cron;
using sked::cron_errc;
using sked::cron_field;
using sked::test::upcoming;

namespace {

struct expected_error {
    cron_errc code;
    cron_field field;
    int column;
    std::string message;
};

expected_error error_of(std::string_view text, const sked::parse_options& options = {}) {
    const auto parsed = cron::parse(text, options);
    REQUIRE_MESSAGE(!parsed, "expected an error for '" << std::string(text) << "'");
    const auto& e = parsed.error();
    return {e.code, e.field, e.column, std::string(e.message().view())};
}

}  // namespace

TEST_CASE("errors name the column, the field and the offending token") {
    const auto e = error_of("0 0 1,32 * *");
    CHECK(e.code == cron_errc::value_out_of_range);
    CHECK(e.field == cron_field::day_of_month);
    CHECK(e.column == 7);
    CHECK(e.message == "column 7 (day-of-month): 32 is out of range 1-31");
    CHECK(error_of("0 0 0 32 * *").message == "column 7 (day-of-month): 32 is out of range 1-31");
}

TEST_CASE("every error code is reachable and reads as a sentence") {
    CHECK(error_of("").code == cron_errc::empty_expression);
    CHECK(error_of("   ").message == "the expression is empty");
    CHECK(
        error_of("* * * *").message ==
        "found 4 fields; expected 5 (minute hour day-of-month month day-of-week), 6 (seconds first) or 7 (year last)");
    CHECK(error_of("* * * * * * * *").code == cron_errc::wrong_field_count);
    CHECK(error_of("5% * * * *").message == "column 2 (minute): unexpected '%'");
    CHECK(error_of("60 * * * *").message == "column 1 (minute): 60 is out of range 0-59");
    CHECK(error_of("* 24 * * *").message == "column 3 (hour): 24 is out of range 0-23");
    CHECK(error_of("* * 0 * *").message == "column 5 (day-of-month): 0 is out of range 1-31");
    CHECK(error_of("* * * 13 *").message == "column 7 (month): 13 is out of range 1-12");
    CHECK(error_of("* * * * 8").message == "column 9 (day-of-week): 8 is out of range 0-7");
    CHECK(error_of("0 0 0 * * * 1969").message == "column 13 (year): 1969 is out of range 1970-2099");
    CHECK(error_of("* 10-5 * * *").message ==
          "column 3 (hour): range 10-5 starts after it ends; write it as two ranges joined by ','");
    CHECK(error_of("*/0 * * * *").message == "column 3 (minute): step 0 must be between 1 and 60");
    CHECK(error_of("*/61 * * * *").code == cron_errc::invalid_step);
    CHECK(error_of("* * * FOO *").message == "column 7 (month): 'FOO' is not a month name (JAN-DEC)");
    CHECK(error_of("* * * * FUNDAY").message == "column 9 (day-of-week): 'FUNDAY' is not a weekday name (SUN-SAT)");
    CHECK(error_of("* MON * * *").message == "column 3 (hour): 'MON' is not a number");
    CHECK(error_of("@fortnightly").message ==
          "column 1 (expression): '@fortnightly' is not a macro; use @yearly @annually @monthly @weekly @daily "
          "@midnight @hourly or @every <duration>");
    CHECK(error_of("* * * * 5W").message == "column 10 (day-of-week): 'W' is not allowed in this field");
    CHECK(error_of("? * * * *").code == cron_errc::misplaced_special);
    CHECK(error_of("H * * * *").message == "column 1 (minute): 'H' needs a job name to hash (parse_options::job_name)");
    CHECK(
        error_of("0 0 30 2 *").message ==
        "the expression can never fire: no day matches its day-of-month, month, day-of-week and year fields together");
    CHECK(error_of("@every 5x").message ==
          "column 8 (expression): '5x' is not a positive duration like 90s, 5m or 1h30m");
    CHECK(error_of("@every 0s").code == cron_errc::invalid_duration);
    CHECK(error_of("CRON_TZ= 0 0 * * *").code == cron_errc::invalid_zone);
}

TEST_CASE("messages are null-terminated for C APIs, also when cut at their capacity") {
    const auto short_one = cron::parse("0 0 32 * *").error().message();
    CHECK(std::string(short_one.c_str()) == std::string(short_one.view()));
    sked::detail::fixed_string<8> cut("longer than eight");
    CHECK(cut.view() == "longer t");
    CHECK(std::string(cut.c_str()) == "longer t");
}

TEST_CASE("malformed lists and steps point at the problem") {
    CHECK(error_of("1,,2 * * * *").message == "column 3 (minute): unexpected ','");
    CHECK(error_of("1, * * * *").code == cron_errc::unexpected_character);
    CHECK(error_of("1- * * * *").code == cron_errc::unexpected_character);
    CHECK(error_of("*/ * * * *").code == cron_errc::unexpected_character);
    CHECK(error_of("*/5x * * * *").message == "column 4 (minute): unexpected 'x'");
    CHECK(error_of("1-5W * * * *").message == "column 4 (minute): unexpected 'W'");
    CHECK(error_of("1- * * * *").message == "column 3 (minute): the field ends too early");
    CHECK(error_of("* * 5W,L-31 * *").message == "column 10 (day-of-month): 31 is out of range 0-30");
    CHECK(error_of("* * * * 5#6").message == "column 11 (day-of-week): 6 is out of range 1-5");
    CHECK(error_of("* * * * L").code == cron_errc::misplaced_special);
    CHECK(error_of("* * * * * * H", {.job_name = "job"}).code == cron_errc::misplaced_special);
    CHECK(error_of("99999999999 * * * *").code == cron_errc::value_out_of_range);
}

TEST_CASE("a day that never exists is an error, not an endless search") {
    CHECK(error_of("0 0 31 4,6,9,11 *").code == cron_errc::never_fires);
    CHECK(error_of("0 0 0 29 2 * 2025").code == cron_errc::never_fires);
    CHECK(error_of("0 0 30 2 *", {.days = sked::day_match::both}).code == cron_errc::never_fires);
    CHECK(cron::parse("0 0 29 2 *").has_value());  // leap years exist
    CHECK(cron::parse("0 0 30 2 1").has_value());  // Vixie OR: every Monday
}

TEST_CASE("fields accept numbers, ranges, steps, lists and names in any case") {
    CHECK(upcoming("5,10-12,50-59/4 * * * *", "2026-01-01T00:00:00Z", 7) ==
          std::vector<std::string>{"2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z", "2026-01-01T00:11:00Z",
                                   "2026-01-01T00:12:00Z", "2026-01-01T00:50:00Z", "2026-01-01T00:54:00Z",
                                   "2026-01-01T00:58:00Z"});
    CHECK(upcoming("0 0 1 jan,Jul *", "2026-01-01T00:00:00Z", 2) ==
          std::vector<std::string>{"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"});
    CHECK(cron::parse("0 0 * * mon-FRI")->to_string() == "0 0 * * 1-5");
    CHECK(cron::parse("0 0 * * MON-SUN")->to_string() == "0 0 * * 0-6");
    CHECK(cron::parse("0 0 * * 7")->to_string() == "0 0 * * 0");
    CHECK(cron::parse("0 0 * * 0-7")->to_string() == "0 0 * * 0-6");
    CHECK(cron::parse("50/5 * * * *")->to_string() == "50,55 * * * *");
    CHECK(cron::parse("7-7/5 * * * *")->to_string() == "7 * * * *");  // a-a/s is a, not a-max/s
    CHECK(cron::parse("\t0  0 * *\t*\n")->to_string() == "0 0 * * *");
}

TEST_CASE("six fields put seconds first, seven add a year") {
    CHECK(upcoming("*/20 * * * * *", "2026-01-01T00:00:00Z", 3) ==
          std::vector<std::string>{"2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z", "2026-01-01T00:01:00Z"});
    CHECK(upcoming("0 0 12 1 1 * 2027,2030", "2026-01-01T00:00:00Z", 3) ==
          std::vector<std::string>{"2027-01-01T12:00:00Z", "2030-01-01T12:00:00Z"});
}

TEST_CASE("macros expand to their Vixie meaning") {
    CHECK(cron::parse("@yearly")->to_string() == "0 0 1 1 *");
    CHECK(cron::parse("@annually") == cron::parse("@yearly"));
    CHECK(cron::parse("@monthly")->to_string() == "0 0 1 * *");
    CHECK(cron::parse("@weekly")->to_string() == "0 0 * * 0");
    CHECK(cron::parse("@DAILY")->to_string() == "0 0 * * *");
    CHECK(cron::parse("@midnight") == cron::parse("@daily"));
    CHECK(cron::parse("@hourly")->to_string() == "0 * * * *");
    CHECK(error_of("@daily 5").code == cron_errc::unexpected_character);
}

TEST_CASE("@every fires at multiples of its period since the epoch") {
    const auto every = sked::test::must_parse("@every 1h30m");
    CHECK(every.every() == std::chrono::seconds{5400});
    CHECK(every.to_string() == "@every 1h30m");
    CHECK(upcoming(every, "2026-01-01T00:00:00Z", 2) ==
          std::vector<std::string>{"2026-01-01T01:30:00Z", "2026-01-01T03:00:00Z"});
    CHECK(cron::parse("@every 90s")->to_string() == "@every 1m30s");
    CHECK(cron::parse("@every 1d")->every() == std::chrono::seconds{86400});
}

TEST_CASE("question mark is a star in the day fields only") {
    CHECK(cron::parse("0 0 ? * MON") == cron::parse("0 0 * * MON"));
    CHECK(cron::parse("0 0 1 * ?") == cron::parse("0 0 1 * *"));
}

TEST_CASE("CRON_TZ= and TZ= prefixes name the zone and keep it in the canonical text") {
    const auto expr = sked::test::must_parse("CRON_TZ=Asia/Manila 0 0 * * *");
    CHECK(expr.zone_name() == "Asia/Manila");
    CHECK(expr.to_string() == "CRON_TZ=Asia/Manila 0 0 * * *");
    CHECK(cron::parse("TZ=America/New_York @daily")->zone_name() == "America/New_York");
    CHECK(cron::parse("0 0 * * *")->zone_name().empty());
}

TEST_CASE("the name hash is FNV-1a 64 finished by splitmix64, as documented") {
    CHECK(sked::fnv1a_64("") == 0xcbf29ce484222325ULL);
    CHECK(sked::fnv1a_64("a") == 0xaf63dc4c8601ec8cULL);  // published FNV test vector
    CHECK(sked::splitmix64(0) == 0xe220a8397b1dcdafULL);  // first output of splitmix64 seeded 0
    CHECK(sked::spread("a", 7, 60) == sked::splitmix64(0xaf63dc4c8601ec8cULL + 7) % 60);
}

TEST_CASE("H spreads by job name: stable, inside its range, different per field") {
    const sked::parse_options reward{.job_name = "daily_reward"};
    const auto a = sked::test::must_parse("H H * * *", reward);
    CHECK(a == sked::test::must_parse("H H * * *", reward));
    CHECK(a != sked::test::must_parse("H H * * *", {.job_name = "badge_unlock"}));
    // The hash is specified (docs/cron.md), so these numbers hold on every platform.
    const auto minute = static_cast<int>(sked::spread("daily_reward", 2, 60));
    const auto hour = static_cast<int>(sked::spread("daily_reward", 3, 24));
    CHECK(a.to_string() == std::to_string(minute) + " " + std::to_string(hour) + " * * *");
    const auto windowed = sked::test::must_parse("H(10-19) * * * *", reward);
    const int chosen = std::stoi(windowed.to_string());
    CHECK(chosen >= 10);
    CHECK(chosen <= 19);
    const auto stepped = sked::test::must_parse("H/15 * * * *", reward).to_string();
    const int phase = std::stoi(stepped);
    CHECK(phase < 15);
    CHECK(stepped.substr(0, stepped.find(' ')) == std::to_string(phase) + "-" + std::to_string(phase + 45) + "/15");
    // Found by the fuzzer: a step longer than the range once chose a phase outside it.
    for (const char* name : {"a", "b", "c", "dd", "job-17", "fuzz"}) {
        const int first = std::stoi(sked::test::must_parse("H(1-29)/30 * * * *", {.job_name = name}).to_string());
        CHECK(first >= 1);
        CHECK(first <= 29);
    }
    for (const char* name : {"a", "b", "c", "dd", "job-17"}) {
        const int day = std::stoi(sked::test::must_parse("0 0 H * *", {.job_name = name}).to_string().substr(4));
        CHECK(day >= 1);
        CHECK(day <= 28);  // every month has the day
    }
}
