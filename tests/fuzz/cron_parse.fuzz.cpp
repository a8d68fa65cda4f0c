// libFuzzer target for the cron parser: any input must parse or fail cleanly (the
// sanitizers catch the rest), and anything accepted must survive to_string() and next().
#include <sked/cron.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto parsed = sked::cron::parse(text, {.job_name = "fuzz"});
    if (!parsed) {
        const auto& error = parsed.error();
        if (error.column > size + 1 || error.message().empty()) std::abort();
        return 0;
    }
    const auto again = sked::cron::parse(parsed->to_string());
    if (!again || !(*again == *parsed)) std::abort();  // canonical text must round-trip
    const std::chrono::sys_seconds from{std::chrono::seconds{1'795'000'000}};
    const auto next = parsed->next(from);
    const auto prev = parsed->prev(from);
    if (next && *next <= from) std::abort();
    if (prev && *prev >= from) std::abort();
    if (next && parsed->prev(*next) && *parsed->prev(*next) >= *next) std::abort();
    return 0;
}
