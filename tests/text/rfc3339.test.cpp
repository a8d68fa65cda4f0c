// RFC 3339: the one writer and reader of instants (run keys, logs, status, tool, examples).
#include "sked/rfc3339.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

constexpr sys_seconds slot{sys_days{2026y / 11 / 23}};

sked::instant instant_of(std::string_view text) {
    const auto t = sked::parse_rfc3339(text);
    REQUIRE(t);
    return *t;
}

sked::text_error error_of(std::string_view text) {
    const auto t = sked::parse_rfc3339(text);
    REQUIRE_FALSE(t);
    return t.error();
}

}  // namespace

TEST_CASE("rfc3339: UTC to the second, at an offset, and to the millisecond") {
    CHECK(sked::rfc3339(slot) == "2026-11-23T00:00:00Z");
    CHECK(sked::rfc3339(slot, 8h) == "2026-11-23T08:00:00+08:00");
    CHECK(sked::rfc3339(slot, -(5h + 30min)) == "2026-11-22T18:30:00-05:30");
    CHECK(sked::rfc3339(slot, 0s) == "2026-11-23T00:00:00+00:00");
    CHECK(sked::rfc3339_ms(sked::instant{slot} + 250ms) == "2026-11-23T00:00:00.250Z");
    CHECK(sked::rfc3339_ms(sked::instant{slot} - 1ms) == "2026-11-22T23:59:59.999Z");
    CHECK(sked::rfc3339(sys_seconds{-1s}) == "1969-12-31T23:59:59Z");
    CHECK(sked::rfc3339(sys_days{0y / 1 / 1}) == "0000-01-01T00:00:00Z");
}

TEST_CASE("rfc3339: what it writes it reads, with offsets, fractions and the RFC's spellings") {
    CHECK(instant_of("2026-11-23T00:00:00Z") == sked::instant{slot});
    CHECK(instant_of("2026-11-23T08:00:00+08:00") == sked::instant{slot});
    CHECK(instant_of("2026-11-22T18:30:00-05:30") == sked::instant{slot});
    CHECK(instant_of("2026-11-23t00:00:00z") == sked::instant{slot});
    CHECK(instant_of("2026-11-23 00:00:00Z") == sked::instant{slot});
    CHECK(instant_of("2026-11-23T00:00:00.250Z") == sked::instant{slot} + 250ms);
    CHECK(instant_of("2026-11-23T00:00:00.5Z") == sked::instant{slot} + 500ms);
    CHECK(instant_of("2026-11-23T00:00:00.123456789Z") == sked::instant{slot} + 123ms);
    CHECK(sked::parse_rfc3339("2028-02-29T12:00:00Z"));
    for (const auto t :
         {sked::instant{slot}, sked::instant{slot} + 1ms, sked::instant{sys_days{1999y / 12 / 31}} + 1h}) {
        CHECK(instant_of(sked::rfc3339_ms(t)) == t);
    }
}

TEST_CASE("rfc3339: an error says where reading stopped and why") {
    CHECK(error_of("") == sked::text_error{0, "expected a four-digit year"});
    CHECK(error_of("2026/11/23T00:00:00Z") == sked::text_error{4, "expected '-' after the year"});
    CHECK(error_of("2026-13-01T00:00:00Z") == sked::text_error{5, "the month is not 01-12"});
    CHECK(error_of("2027-02-29T00:00:00Z") == sked::text_error{8, "the month has no such day"});
    CHECK(error_of("2026-11-23T24:00:00Z") == sked::text_error{11, "the time of day is out of range"});
    CHECK(error_of("2026-11-23T00:00:60Z") == sked::text_error{11, "the time of day is out of range"});
    CHECK(error_of("2026-11-23") == sked::text_error{10, "expected 'T' after the date"});
    CHECK(error_of("2026-11-23T00:00:00") == sked::text_error{19, "expected 'Z' or an offset like +08:00"});
    CHECK(error_of("2026-11-23T00:00:00.Z") == sked::text_error{20, "expected digits after '.'"});
    CHECK(error_of("2026-11-23T00:00:00+0800") == sked::text_error{22, "expected ':' in the offset"});
    CHECK(error_of("2026-11-23T00:00:00+24:00") == sked::text_error{25, "the offset is out of range"});
    CHECK(error_of("2026-11-23T00:00:00Z ") == sked::text_error{20, "unexpected text after the instant"});
    // An offset may not carry the instant out of the years RFC 3339 can write (found by fuzz.text).
    CHECK(error_of("0000-01-01T00:00:00+23:59") ==
          sked::text_error{19, "the instant is outside years 0000-9999 in UTC"});
    CHECK(error_of("9999-12-31T23:59:59-00:01") ==
          sked::text_error{19, "the instant is outside years 0000-9999 in UTC"});
    CHECK(instant_of("0000-01-01T00:00:00Z") == sked::instant{sys_days{0y / 1 / 1}});
    CHECK(instant_of("9999-12-31T23:59:59.999Z") == sked::instant{sys_days{10000y / 1 / 1}} - 1ms);
}
