// sked/hash.hpp — the stable hash that spreads jobs by name (cron 'H', stagger offsets, jitter).
//
// Every replica, build and platform must compute the same offset for a job, so the hash
// is fixed here and in docs/cron.md, never std::hash:
//     h = FNV-1a-64(name bytes)                        (offset basis 0xcbf29ce484222325,
//                                                       prime 0x100000001b3)
//     spread(name, salt, n) = splitmix64(h + salt) mod n
// splitmix64 (Steele, Lea, Flood 2014) finalises FNV, whose low bits are weak for short
// names; the salt (the cron field's number) keeps a job's minute and hour independent.
#pragma once

#include <cstdint>
#include <string_view>

namespace sked {

/// FNV-1a, 64-bit, over the bytes of `text`.
constexpr std::uint64_t fnv1a_64(std::string_view text) noexcept {
    std::uint64_t h = 0xcbf29ce484222325u;
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3u;
    }
    return h;
}

/// The splitmix64 output function: a bijective 64-bit mixer.
constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/// A value in [0, n) derived from `name` and `salt`, identical on every platform.
/// Precondition: n > 0.
constexpr std::uint64_t spread(std::string_view name, std::uint64_t salt, std::uint64_t n) noexcept {
    return splitmix64(fnv1a_64(name) + salt) % n;
}

/// A stable offset in [0, period) from a job's name, the same on every replica and
/// platform: spread(name, 1, period). For a 60 s period it is the second that a cron
/// 'H' in the seconds field picks for the same job name. Precondition: period > 0.
constexpr std::uint32_t hash_offset(std::string_view name, std::uint32_t period) noexcept {
    return static_cast<std::uint32_t>(spread(name, 1, period));
}

}  // namespace sked
