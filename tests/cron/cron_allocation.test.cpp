// parse(), next() and prev() allocate nothing: a counting global operator new proves it.
// Built as its own executable so the replacement does not touch the other tests.
#include <sked/cron.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include <sked/zoned.hpp>

namespace {
long allocations = 0;
}

void* operator new(std::size_t size) {
    ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

int main() {
    using namespace std::chrono;
    const sys_seconds from{seconds{1'795'000'000}};
    int failures = 0;
    {  // the control: the counter sees an allocation when there is one
        const long before = allocations;
        const std::string text = sked::cron::parse("0 0 * * *")->to_string() + std::string(64, ' ');
        if (allocations == before) std::printf("FAIL: the allocation counter does not count\n"), ++failures;
    }
    for (const char* text : {"0 0 * * *", "*/15 * * * * *", "0 15 10 * * 5#3", "0 0 L-3,15W,LW * *",
                             "CRON_TZ=Asia/Manila @daily", "@every 90s", "0 0 0 29 2 * 2028-2040", "0 0 32 * *"}) {
        const long before = allocations;
        const auto parsed = sked::cron::parse(text, {.job_name = "job"});
        if (parsed) {
            (void)parsed->next(from);
            (void)parsed->prev(from);
            (void)sked::next(*parsed, from, sked::fixed_zone{hours{8}});
            (void)sked::prev(*parsed, from, sked::fixed_zone{hours{8}});
        } else {
            (void)parsed.error().message();
        }
        const long used = allocations - before;
        std::printf("%-28s %ld allocations\n", text, used);
        failures += used != 0;
    }
    std::printf("%d passed, %d failed\n", 9 - failures, failures);
    return failures == 0 ? 0 : 1;
}
