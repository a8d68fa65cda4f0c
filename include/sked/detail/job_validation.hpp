// sked/detail/job_validation.hpp — whether a job_spec can be registered, and if not, why.
//
// scheduler::add() refuses a job whose problem_with() names one, before it changes
// anything; the message names the field ("retry.max_attempts is 0 (1 means no retry)")
// and add() prefixes the job ("job 'x': ...").
#pragma once

#include <chrono>
#include <cmath>
#include <optional>
#include <string>

#include "../idempotency.hpp"
#include "../job.hpp"
#include "../lock.hpp"
#include "../schedule.hpp"

namespace sked::detail {

/// Why the name, the code or the schedule cannot be used, or nullopt.
inline std::optional<std::string> problem_with_schedule(const job_spec& spec) {
    if (auto bad = check_name("job name", spec.name)) return bad->detail;
    if (spec.name.size() > max_job_name_bytes)  // its run keys would not be valid key names
        return "job name is longer than " + std::to_string(max_job_name_bytes) + " bytes";
    if (!spec.run) return "run is empty";
    const auto& s = spec.schedule;
    if (s.type() == schedule::kind::every && s.period() <= std::chrono::seconds{0})
        return "every() period must be positive";
    if (const auto* expr = s.expression(); expr && !expr->zone_name().empty() && expr->zone_name() != s.zone().name()) {
        return "the cron expression names zone '" + std::string(expr->zone_name()) + "' but the schedule's zone is '" +
               std::string(s.zone().name()) + "' (pass that zone to schedule::cron)";
    }
    return std::nullopt;
}

/// Why the policies cannot be used with schedule `s`, or nullopt.
inline std::optional<std::string> problem_with_policies(const job_options& o, const schedule& s) {
    using std::chrono::milliseconds;
    using std::chrono::seconds;
    if (o.grace < seconds{0}) return "grace is negative";
    if (o.offset < seconds{0}) return "offset is negative";
    if (o.hashed_offset_within < seconds{0}) return "hashed_offset_within is negative";
    if (o.offset != seconds{0} && o.hashed_offset_within != seconds{0})
        return "offset and hashed_offset_within are both set; choose one";
    if (s.type() == schedule::kind::every && o.offset >= s.period())
        return "offset " + std::to_string(o.offset.count()) + " s is not less than the period " +
               std::to_string(s.period().count()) + " s";
    if (o.max_jitter < milliseconds{0}) return "max_jitter is negative";
    if (o.retry.max_attempts == 0) return "retry.max_attempts is 0 (1 means no retry)";
    if (o.retry.initial_delay <= milliseconds{0}) return "retry.initial_delay must be positive";
    if (!(o.retry.multiplier >= 1.0) || !std::isfinite(o.retry.multiplier)) return "retry.multiplier must be >= 1";
    if (o.retry.max_delay < o.retry.initial_delay) return "retry.max_delay is less than retry.initial_delay";
    if (!(o.retry.jitter >= 0.0 && o.retry.jitter <= 1.0)) return "retry.jitter must be within 0-1";
    if (o.timeout < milliseconds{0}) return "timeout is negative";
    if (o.on_misfire == misfire::run_each && o.max_catch_up == 0) return "max_catch_up is 0 with misfire::run_each";
    if (auto bad = check_ttl("lease_ttl", o.lease_ttl)) return bad->detail;
    if (o.keep_done < std::chrono::hours{1}) return "keep_done is less than an hour";
    if (o.calendar) {
        if (auto problem = o.calendar->problem(); !problem.empty()) return problem;
    }
    return std::nullopt;
}

/// Why `spec` cannot be registered, or nullopt: the first problem found.
inline std::optional<std::string> problem_with(const job_spec& spec) {
    if (auto problem = problem_with_schedule(spec)) return problem;
    return problem_with_policies(spec.options, spec.schedule);
}

}  // namespace sked::detail
