// libFuzzer target for the text parsers (sked/duration.hpp, sked/rfc3339.hpp): any input
// parses or fails cleanly with an offset inside it, and what parses prints back to text
// that parses to the same value.
#include <sked/duration.hpp>
#include <sked/rfc3339.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void duration_round_trip(std::string_view text) {
    const auto d = sked::parse_duration(text);
    if (!d) {
        if (d.error().offset > text.size() || d.error().reason.empty()) std::abort();
        return;
    }
    if (d->count() < 0) std::abort();  // no sign is accepted, and nothing wraps
    const auto again = sked::parse_duration(sked::format_duration(*d));
    if (!again || *again != *d) std::abort();
}

void instant_round_trip(std::string_view text) {
    const auto t = sked::parse_rfc3339(text);
    if (!t) {
        if (t.error().offset > text.size() || t.error().reason.empty()) std::abort();
        return;
    }
    // Years 0000-9999 and offsets up to a day: whatever parsed, rfc3339_ms writes four digits.
    const auto again = sked::parse_rfc3339(sked::rfc3339_ms(*t));
    if (!again || *again != *t) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    duration_round_trip(text);
    instant_round_trip(text);
    return 0;
}
