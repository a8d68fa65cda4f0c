// Durations as text: one grammar for @every, job files and the examples' options.
#include "sked/duration.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <initializer_list>
#include <string>

namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// The value of a text that must parse.
milliseconds ms_of(std::string_view text) {
    const auto d = sked::parse_duration(text);
    REQUIRE(d);
    return *d;
}

// The error of a text that must not parse.
sked::text_error error_of(std::string_view text) {
    const auto d = sked::parse_duration(text);
    REQUIRE_FALSE(d);
    return d.error();
}

}  // namespace

TEST_CASE("durations parse from sums of units and print back") {
    CHECK(ms_of("30d") == days{30});
    CHECK(ms_of("9d15h") == days{9} + hours{15});
    CHECK(ms_of("1m30s250ms") == 90'250ms);
    CHECK(ms_of("0s") == 0ms);
    CHECK(ms_of("90s") == 90s);
    CHECK_FALSE(sked::parse_duration(""));
    CHECK_FALSE(sked::parse_duration("3x"));
    CHECK_FALSE(sked::parse_duration("h"));
    CHECK(sked::format_duration(days{1} + minutes{5}) == "1d5m");
    CHECK(sked::format_duration(1'500ms) == "1s500ms");
    CHECK(sked::format_duration(90s) == "1m30s");
    CHECK(sked::format_duration(0ms) == "0s");
    CHECK(sked::format_duration(-90s) == "-1m30s");
    CHECK(sked::format_duration(milliseconds::min()) == "-106751991167d7h12m55s808ms");
}

TEST_CASE("durations: every printed duration reads back as itself") {
    for (const milliseconds d : std::initializer_list<milliseconds>{
             1ms, 999ms, 1s, 61s, 3599s, 3600s, 86'399'999ms, 86'400s, 1'234'567'890'123ms, milliseconds::max()}) {
        CAPTURE(d.count());
        CHECK(ms_of(sked::format_duration(d)) == d);
    }
}

TEST_CASE("durations: an error says where reading stopped and why") {
    CHECK(error_of("") == sked::text_error{0, "the duration is empty"});
    CHECK(error_of("5") == sked::text_error{1, "expected a unit (d, h, m, s or ms)"});
    CHECK(error_of("5x") == sked::text_error{1, "expected a unit (d, h, m, s or ms)"});
    CHECK(error_of("1h30") == sked::text_error{4, "expected a unit (d, h, m, s or ms)"});
    CHECK(error_of("1h m") == sked::text_error{2, "expected a number"});
    CHECK(error_of("-5s") == sked::text_error{0, "expected a number"});
    CHECK(error_of("1.5s") == sked::text_error{1, "expected a unit (d, h, m, s or ms)"});
    // Nothing wraps around: a total past the range of milliseconds is refused.
    CHECK(error_of("9223372036854775808ms") == sked::text_error{0, "the duration is too long"});
    CHECK(error_of("106751991167d8h") == sked::text_error{13, "the duration is too long"});
    CHECK(error_of("99999999999999999999d") == sked::text_error{0, "the duration is too long"});
    CHECK(ms_of("9223372036854775807ms") == milliseconds::max());
}

TEST_CASE("durations parse in constant expressions") {
    static_assert(*sked::parse_duration("1h30m") == 90min);
    static_assert(!sked::parse_duration("1q"));
    CHECK(true);
}
