// examples/campaign/campaign_service.hpp — the service the campaign engine calls when a
// node's timeout fires, and the API requests that create those timeouts.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <sked/clock.hpp>

namespace campaign {

/// FNV-1a of the text, then splitmix64 with the salt: the same answer in every process,
/// so a run's failures are repeatable, and unrelated across salts.
inline std::uint64_t mix(std::string_view text, std::uint64_t salt) {
    std::uint64_t h = 1469598103934665603ull;
    for (const char c : text)
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    h += (salt + 1) * 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    return h ^ (h >> 31);
}

/// A fraction in [0, 1) from `text` and `salt`.
inline double uniform(std::string_view text, std::uint64_t salt) {
    return static_cast<double>(mix(text, salt) >> 11) / 9007199254740992.0;
}

/// The campaign service: expiring a node is refused ("503") for a share of the calls,
/// and fenced: a call with a lower token than the node has seen changes nothing.
class service {
public:
    explicit service(double fail_rate) : fail_rate_(fail_rate) {}

    /// Whether attempt `attempt` for `node` fails (the same in every process).
    [[nodiscard]] bool fails(std::string_view node, std::uint32_t attempt) const {
        return uniform(node, attempt) < fail_rate_;
    }
    /// false: a newer holder's call came first (this one is stale).
    bool expire(const std::string& node, std::uint64_t fence) {
        std::lock_guard hold{mutex_};
        auto& seen = highest_[node];
        if (fence < seen) return false;
        seen = fence;
        return true;
    }

private:
    double fail_rate_;
    std::mutex mutex_;
    std::map<std::string, std::uint64_t> highest_;
};

/// One API request: at `arrives`, replica `replica` creates node `key`'s timeout, due at `due`.
struct request {
    std::string key;
    sked::instant arrives;
    std::chrono::sys_seconds due;
    std::size_t replica;
};

/// `n` requests arriving evenly over [from, to), each due within `due_within` of its arrival,
/// on replicas chosen by hash.
inline std::vector<request> plan(std::size_t n, sked::instant from, sked::instant to,
                                 std::chrono::milliseconds due_within, std::size_t replicas) {
    std::vector<request> out;
    out.reserve(n);
    const auto span = to - from;
    for (std::size_t i = 0; i < n; ++i) {
        std::string key = "node-" + std::to_string(i + 1);
        const auto arrives = from + span * static_cast<std::int64_t>(2 * i + 1) / static_cast<std::int64_t>(2 * n);
        const auto wait = std::chrono::milliseconds{
            static_cast<std::int64_t>(uniform(key, 1) * static_cast<double>(due_within.count()))};
        const auto due = std::chrono::ceil<std::chrono::seconds>(arrives + wait);
        const auto replica = static_cast<std::size_t>(mix(key, 2) % replicas);
        out.push_back({std::move(key), arrives, due, replica});
    }
    return out;
}

}  // namespace campaign
