// sked/schedule.hpp — when a job fires: a cron expression in a zone, a fixed period, or
// one instant.
//
//     sked::schedule::cron("0 0 * * *"_cron, manila)   // midnight in Asia/Manila
//     sked::schedule::every(5min)                      // :00, :05, ... since the epoch
//     sked::schedule::once(now + 48h)                  // a campaign timeout
//
// Each firing is a *slot*, identified by its nominal instant (a whole second, UTC). The
// scheduler may start a slot late, staggered or jittered; the slot stays the same, and
// so does its run key.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "any_zone.hpp"
#include "cron.hpp"
#include "idempotency.hpp"
#include "zoned.hpp"

namespace sked {

class schedule {
public:
    enum class kind : std::uint8_t { cron, every, once };

    /// Fires at each occurrence of `expr` in `zone` (DST as docs/cron.md says).
    static schedule cron(const sked::cron& expr, any_zone zone = {}) {
        schedule s{kind::cron};
        s.expr_ = expr;
        s.zone_ = std::move(zone);
        return s;
    }
    /// Fires at every multiple of `period` since 1970-01-01T00:00:00Z (so every replica
    /// and every restart agrees on the slots). Precondition: period > 0.
    static schedule every(std::chrono::seconds period) {
        schedule s{kind::every};
        s.period_ = period;
        return s;
    }
    /// Fires once, at `at`.
    static schedule once(std::chrono::sys_seconds at) {
        schedule s{kind::once};
        s.at_ = at;
        return s;
    }

    [[nodiscard]] kind type() const noexcept { return kind_; }
    [[nodiscard]] const sked::cron* expression() const noexcept { return kind_ == kind::cron ? &*expr_ : nullptr; }
    [[nodiscard]] const any_zone& zone() const noexcept { return zone_; }
    [[nodiscard]] std::chrono::seconds period() const noexcept { return period_; }
    [[nodiscard]] std::chrono::sys_seconds at() const noexcept { return at_; }

    /// The first slot strictly after `t`, if any is left.
    [[nodiscard]] std::optional<std::chrono::sys_seconds> next(std::chrono::sys_seconds t) const {
        switch (kind_) {
            case kind::cron:
                return sked::next(*expr_, t, zone_);
            case kind::every:
                return t - floor_mod(t) + period_;
            case kind::once:
                return t < at_ ? std::optional{at_} : std::nullopt;
        }
        return std::nullopt;
    }
    /// The last slot at or before `t`, if any.
    [[nodiscard]] std::optional<std::chrono::sys_seconds> latest(std::chrono::sys_seconds t) const {
        switch (kind_) {
            case kind::cron:
                return sked::prev(*expr_, t + std::chrono::seconds{1}, zone_);
            case kind::every:
                return t - floor_mod(t);
            case kind::once:
                return at_ <= t ? std::optional{at_} : std::nullopt;
        }
        return std::nullopt;
    }

    /// "cron 0 0 * * * (Asia/Manila)", "every 300s", "once 2026-11-25T12:00:00Z".
    [[nodiscard]] std::string describe() const;

    /// Same slots: equal expressions in the same zone object, equal periods or instants.
    friend bool operator==(const schedule& a, const schedule& b) {
        return a.kind_ == b.kind_ && a.expr_ == b.expr_ && a.period_ == b.period_ && a.at_ == b.at_ &&
               (a.zone_.same_as(b.zone_) || a.zone_.name() == b.zone_.name());
    }

private:
    explicit schedule(kind k) : kind_(k) {}

    std::chrono::seconds floor_mod(std::chrono::sys_seconds t) const {
        const auto r = t.time_since_epoch() % period_;
        return r < std::chrono::seconds{0} ? r + period_ : r;
    }

    kind kind_;
    std::optional<sked::cron> expr_;  // cron has no empty state; engaged for kind::cron
    any_zone zone_;
    std::chrono::seconds period_{0};
    std::chrono::sys_seconds at_{};
};

inline std::string schedule::describe() const {
    switch (kind_) {
        case kind::cron:
            return "cron " + expr_->to_string() + " (" + std::string(zone_.name()) + ")";
        case kind::every:
            return "every " + std::to_string(period_.count()) + "s";
        case kind::once:
            return "once " + rfc3339(at_);
    }
    return {};
}

}  // namespace sked
