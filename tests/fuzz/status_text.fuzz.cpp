// libFuzzer target for the text `sked status` reads from a server it does not trust:
// the URL it is given (tools/sked/service_url.hpp) and a job's schedule text
// (sked::schedule_in_words, sked::schedule_zone). Anything parses or is refused with a
// message; nothing throws or reads outside the input.
#include <sked/schedule_words.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../../tools/sked/service_url.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string problem;
    if (const auto at = sked::tool::parse_url(text, problem)) {
        const long port = std::stol(at->port);
        if (at->host.empty() || port < 1 || port > 65535 || !problem.empty()) std::abort();
        if (!at->prefix.empty() && (at->prefix.front() != '/' || at->prefix.back() == '/')) std::abort();
    } else if (problem.empty()) {
        std::abort();  // a refusal always says why
    }
    const auto words = sked::schedule_in_words(text);
    if (words.empty() != text.empty()) std::abort();
    const auto zone = sked::schedule_zone(text);
    if (!zone.empty() && (zone.data() < text.data() || zone.data() + zone.size() > text.data() + text.size()))
        std::abort();
    return 0;
}
