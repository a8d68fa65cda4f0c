// sked/redis/jobs.hpp — durable one-off jobs on one Redis server (sked::durable_jobs),
// what sked::redis::keys offers besides its run keys.
//
// Each call is one script, one round trip; a take hands out a whole batch of due jobs
// in that one round trip. The layout of a kind's keys is in sked/redis/scripts.hpp.
#pragma once

#include <charconv>
#include <chrono>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "sked/backend_error.hpp"
#include "sked/lock.hpp"
#include "sked/one_off.hpp"
#include "sked/redis/connection.hpp"
#include "sked/redis/scripts.hpp"
#include "sked/result.hpp"

namespace sked::redis::detail {

/// Which of a kind's 16,384 record hashes holds `key` (the take script computes the same).
inline unsigned job_bucket(std::string_view key) {
    unsigned h = 0;
    for (const char c : key)
        h = (h * 31 + static_cast<unsigned char>(c)) % 16384;
    return h;
}

/// The six keys of a kind, in the order every job script takes them: first the record
/// hash of `key`, or, with no key (a take), the stem the record hashes hang from.
inline std::vector<std::string> job_keys(std::string_view prefix, std::string_view kind, std::string_view key = {}) {
    std::vector<std::string> keys;
    for (std::string_view part : {"jobs", "due", "flight", "held", "done", "fence"})
        keys.push_back(record_key(prefix, part, kind));
    if (!key.empty()) keys.front().append(":").append(std::to_string(job_bucket(key)));
    return keys;
}

inline std::string job_record_text(const one_off_record& r) {
    std::string text = "1|" + std::to_string(r.slot.time_since_epoch().count()) + "|";
    return text.append(r.payload);
}

template <class Number>
bool parse_number(std::string_view text, Number& out) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return error == std::errc{} && end == text.data() + text.size();
}

/// One taken job from the take script's answer (key, record, fence, run_at), checked.
inline result<taken_job, backend_error> parse_taken(std::string_view kind, const redisReply* const* part,
                                                    std::string_view where) {
    const auto bad = [&](std::string_view what) {
        return backend_error{backend_errc::protocol, "take on " + std::string(where) + ": " + std::string(what)};
    };
    for (int i = 0; i < 4; ++i)
        if (part[i]->type != REDIS_REPLY_STRING) return bad("a field that is no string");
    taken_job job;
    job.kind = kind;
    job.key = text_of(*part[0]);
    const auto record = text_of(*part[1]);
    const auto first = record.find('|');
    const auto second = first == std::string_view::npos ? first : record.find('|', first + 1);
    long long slot = 0;
    double run_at = 0;
    if (second == std::string_view::npos || !parse_number(record.substr(0, first), job.attempt) ||
        !parse_number(record.substr(first + 1, second - first - 1), slot) ||
        !parse_number(text_of(*part[2]), job.lease.fence) || !parse_number(text_of(*part[3]), run_at))
        return bad("job " + job.key + " holds a record sked did not write");
    job.payload = record.substr(second + 1);
    job.slot = std::chrono::sys_seconds{std::chrono::seconds{slot}};
    job.run_at = instant{std::chrono::milliseconds{static_cast<std::int64_t>(run_at)}};
    job.lease.name = job.key;
    return job;
}

}  // namespace sked::redis::detail
