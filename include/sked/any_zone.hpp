// sked/any_zone.hpp — any sked::time_zone behind one type, so jobs in different zones
// (UTC, a fixed offset, an IANA zone from an adapter) live in one scheduler.
//
//     auto manila = sked::date_zone::locate("Asia/Manila");   // adapters/date
//     sked::any_zone zone{*manila};
//
// Copies share the wrapped zone. The default is UTC and costs no allocation.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "zone.hpp"

namespace sked {

class any_zone {
public:
    any_zone() = default;

    /// Wraps `zone`; `name` identifies it in status output (an IANA zone's name() is
    /// used when it has one).
    template <time_zone Zone>
    requires(!std::is_same_v<std::remove_cvref_t<Zone>, any_zone>)
        any_zone(Zone zone, std::string name = {})  // NOLINT(google-explicit-constructor): a zone is a zone
        : model_(std::make_shared<model<Zone>>(std::move(zone))), name_(std::move(name)) {
        if constexpr (requires { std::string(model_as<Zone>().zone.name()); }) {
            if (name_.empty()) name_ = std::string(model_as<Zone>().zone.name());
        }
    }

    [[nodiscard]] zone_segment segment(std::chrono::sys_seconds t) const {
        return model_ ? model_->segment(t) : utc_zone{}.segment(t);
    }

    /// "UTC", the zone's own name, or what the constructor was given.
    [[nodiscard]] std::string_view name() const noexcept { return model_ ? std::string_view(name_) : "UTC"; }

    /// Whether two handles wrap the same zone object (copies of one any_zone).
    [[nodiscard]] bool same_as(const any_zone& other) const noexcept { return model_ == other.model_; }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual zone_segment segment(std::chrono::sys_seconds t) const = 0;
    };
    template <class Zone>
    struct model final : concept_t {
        explicit model(Zone z) : zone(std::move(z)) {}
        zone_segment segment(std::chrono::sys_seconds t) const override { return zone.segment(t); }
        Zone zone;
    };
    template <class Zone>
    const model<Zone>& model_as() const {
        return static_cast<const model<Zone>&>(*model_);
    }

    std::shared_ptr<const concept_t> model_;
    std::string name_;
};

static_assert(time_zone<any_zone>);

}  // namespace sked
