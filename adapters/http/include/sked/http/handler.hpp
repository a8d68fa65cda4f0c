// sked/http/handler.hpp — sked's HTTP endpoints as a function, for any server.
//
//     auto r = sked::http::handle(s, req.method, req.target, headers, {.token = "s3cret"});
//     reply(r.status, r.content_type, r.body, r.headers);
//
// Only the standard library and sked's core: mount it in a server of your own (Beast,
// cpp-httplib, crow), or use sked::http::server (sked/http/server.hpp), which runs it on
// an io_context. The routes (docs/http.md):
//
//     GET  /metrics                          Prometheus text format 0.0.4
//     GET  /scheduler/status                 the status as JSON
//     GET  /health                           200 {"healthy":true,...}, or 503 with the reason
//     GET  /scheduler                        the dashboard, one HTML page (sked/http/dashboard.hpp)
//     POST /scheduler/jobs/NAME/pause        also resume, run, stagger-off, stagger-on; needs
//                                            Authorization: Bearer TOKEN
//     POST /scheduler/stagger-off            stagger off (or stagger-on) for every job; the token too
//
// HEAD is answered as GET (the server leaves out the body). An unknown path is 404, a
// known one with another method 405 (with Allow), a target that is not an origin-form
// path or a NAME that does not decode is 400.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sked/json.hpp>
#include <sked/scheduler.hpp>
#include <sked/status_format.hpp>

#include "dashboard.hpp"

namespace sked::http {

struct header {
    std::string_view name;
    std::string_view value;
};

struct response {
    unsigned status = 200;
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers{};  ///< besides Content-Type
};

struct handler_options {
    /// The bearer token the control routes (pause, resume, run) need. Empty: they are
    /// disabled (403).
    std::string token{};
    /// /health says the loop is stalled when run_due has not begun for this long (a live
    /// driver passes at least once per max_wait, 1 s).
    std::chrono::milliseconds stalled_after{5'000};
    /// GET /scheduler: give it a run_history for the timelines.
    dashboard_options dashboard{};
};

inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view json_content_type = "application/json";
inline constexpr std::string_view html_content_type = "text/html; charset=utf-8";

namespace detail {

inline response json_reply(unsigned status, std::string body) {
    return {.status = status, .content_type = std::string{json_content_type}, .body = std::move(body) + "\n"};
}

inline response error_reply(unsigned status, std::string_view message) {
    std::string body = "{\"error\":";
    append_json_quoted(body, message);
    body.append("}");
    return json_reply(status, std::move(body));
}

inline bool equal_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

inline std::optional<std::string_view> find_header(std::span<const header> headers, std::string_view name) {
    for (const auto& h : headers)
        if (equal_ignoring_case(h.name, name)) return h.value;
    return std::nullopt;
}

// Compares in time that depends on the lengths only, so the token is not guessed a byte
// at a time.
inline bool same_secret(std::string_view given, std::string_view secret) {
    unsigned char diff = given.size() == secret.size() ? 0 : 1;
    for (std::size_t i = 0; i < given.size(); ++i)
        diff |= static_cast<unsigned char>(given[i] ^ secret[i % (secret.empty() ? 1 : secret.size())]);
    return diff == 0 && !secret.empty();
}

inline int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A path segment with %XX decoded; nullopt when an escape is broken or decodes to '/'
// or a control character.
inline std::optional<std::string> decode_segment(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int hi = hex_digit(text[i + 1]), lo = hex_digit(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
        out.push_back(c);
    }
    return out;
}

// Who may change a job: 401 without credentials, 403 with wrong ones or when disabled.
inline std::optional<response> refuse_control(std::span<const header> headers, const handler_options& options) {
    if (options.token.empty()) return error_reply(403, "control endpoints are disabled: no token is configured");
    const auto given = find_header(headers, "Authorization");
    constexpr std::string_view scheme = "Bearer ";
    if (!given || given->size() < scheme.size() || !equal_ignoring_case(given->substr(0, scheme.size()), scheme)) {
        auto r = error_reply(401, "this needs Authorization: Bearer TOKEN");
        r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"sked\"");
        return r;
    }
    if (!same_secret(given->substr(scheme.size()), options.token)) return error_reply(403, "the token is not right");
    return std::nullopt;
}

inline response health(const scheduler& s, const handler_options& options) {
    const auto status = s.status(status_detail::summary);  // asked often: no copy of every job
    const auto since = s.since_last_pass();
    std::string problem;
    if (!status.running) {
        problem = "the scheduler does not dispatch (stopped)";
    } else if (!since) {
        problem = "the scheduler has not been driven yet (no run_due)";
    } else if (*since > options.stalled_after) {
        problem = "the loop is stalled: the last pass began " + std::to_string(since->count()) + " ms ago";
    } else if (!status.backend.reachable) {
        problem = "the backend does not answer";
    }
    std::string body = "{\"healthy\":";
    body.append(problem.empty() ? "true" : "false");
    if (!problem.empty()) {
        body.append(",\"reason\":");
        append_json_quoted(body, problem);
    }
    body.append(",\"replica\":");
    append_json_quoted(body, status.replica);
    if (since) body.append(",\"last_pass_ms_ago\":").append(std::to_string(since->count()));
    body.append(",\"backend_reachable\":").append(status.backend.reachable ? "true" : "false").append("}");
    auto r = json_reply(problem.empty() ? 200 : 503, std::move(body));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

inline bool is_job_action(std::string_view action) {
    return action == "pause" || action == "resume" || action == "run" || action == "stagger-off" ||
           action == "stagger-on";
}

inline response control(scheduler& s, std::string_view job, std::string_view action) {
    bool found = false;
    if (action == "pause") found = s.pause(job);
    if (action == "resume") found = s.resume(job);
    if (action == "run") found = s.run_now(job);
    if (action == "stagger-off" || action == "stagger-on") found = s.set_stagger(job, action == "stagger-on");
    if (!found) return error_reply(404, "no job '" + std::string{job} + "'");
    std::string body = "{\"job\":";
    append_json_quoted(body, job);
    body.append(",\"action\":");
    append_json_quoted(body, action);
    body.append("}");
    return json_reply(200, std::move(body));
}

inline response method_not_allowed(std::string_view allow) {
    auto r = error_reply(405, "this path takes " + std::string{allow});
    r.headers.emplace_back("Allow", std::string{allow});
    return r;
}

}  // namespace detail

/// Answers one request. `target` is the request-target as sent (a path, maybe with a
/// query, which is ignored); `headers` are the request's (only Authorization is read).
[[nodiscard]] inline response handle(scheduler& s, std::string_view method, std::string_view target,
                                     std::span<const header> headers, const handler_options& options = {}) {
    using namespace detail;
    if (target.empty() || target.front() != '/') return error_reply(400, "the target must be a path (origin form)");
    const auto path = target.substr(0, target.find('?'));
    const bool read = method == "GET" || method == "HEAD";
    if (path == "/metrics" || path == "/scheduler/status" || path == "/health" || path == "/scheduler") {
        if (!read) return method_not_allowed("GET, HEAD");
        if (path == "/scheduler")
            return {.status = 200,
                    .content_type = std::string{html_content_type},
                    .body = render_dashboard(s.status(), options.dashboard)};
        if (path == "/health") return health(s, options);
        if (path == "/metrics")
            return {
                .status = 200, .content_type = std::string{prometheus_content_type}, .body = to_prometheus(s.status())};
        return json_reply(200, to_json(s.status()));
    }
    if (path == "/scheduler/stagger-off" || path == "/scheduler/stagger-on") {
        if (method != "POST") return method_not_allowed("POST");
        if (auto refused = refuse_control(headers, options)) return std::move(*refused);
        const bool on = path.ends_with("-on");
        s.set_stagger(on);
        return json_reply(200,
                          on ? R"({"jobs":"all","action":"stagger-on"})" : R"({"jobs":"all","action":"stagger-off"})");
    }
    constexpr std::string_view jobs = "/scheduler/jobs/";
    if (path.starts_with(jobs)) {
        const auto rest = path.substr(jobs.size());
        const auto slash = rest.rfind('/');
        const auto action = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (slash == 0 || slash == std::string_view::npos || !is_job_action(action))
            return error_reply(
                404, "no such route: POST /scheduler/jobs/NAME/pause, resume, run, stagger-off or stagger-on");
        if (method != "POST") return method_not_allowed("POST");
        const auto name = decode_segment(rest.substr(0, slash));
        if (!name || name->empty()) return error_reply(400, "the job name in the path does not decode");
        if (auto refused = refuse_control(headers, options)) return std::move(*refused);
        return control(s, *name, action);
    }
    return error_reply(404, "no such route: " + std::string{path});
}

}  // namespace sked::http
