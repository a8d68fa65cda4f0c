// sked/stagger_switch.hpp — turn staggering off, for all jobs or one, without a deploy.
//
// sked never reads the environment by itself. A service that wants the switches from
// its environment asks for them once, explicitly:
//     auto switches = sked::stagger_switches::from_environment();   // SKED_STAGGER=0,
//                                                                   // SKED_STAGGER_<JOB>=0
//     auto when = switches.offset_of(job);    // job.offset, or 0 when stagger is off
// <JOB> is the job name in upper case with every character other than A-Z and 0-9
// replaced by '_': job "daily-reward.v2" reads SKED_STAGGER_DAILY_REWARD_V2.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "stagger.hpp"

namespace sked {

class stagger_switches {
public:
    /// Reads a variable: returns its value, or nullptr when it is not set.
    using lookup = std::function<const char*(const char*)>;

    /// Stagger on (true) or off for every job.
    void set_enabled(bool on) { enabled_ = on; }
    /// Stagger off (false) or on again for one job.
    void set_enabled(std::string_view job, bool on) {
        if (on) {
            disabled_.erase(std::string(job));
        } else {
            disabled_.insert(std::string(job));
        }
    }

    [[nodiscard]] bool enabled() const noexcept { return enabled_; }
    [[nodiscard]] bool enabled_for(std::string_view job) const {
        return enabled_ && disabled_.find(std::string(job)) == disabled_.end();
    }

    /// The offset the job fires at: its own, or 0 (its unstaggered time) when off.
    [[nodiscard]] std::uint32_t offset_of(const stagger_job& job) const {
        return enabled_for(job.name) ? job.offset : 0;
    }

    /// The variable that switches `job`: "SKED_STAGGER_" + the name as described above.
    static std::string variable_for(std::string_view job) {
        std::string name = "SKED_STAGGER_";
        for (char c : job) {
            const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            name += !alnum ? '_' : (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
        }
        return name;
    }

    /// SKED_STAGGER and SKED_STAGGER_<JOB> for each job of the table: "0", "off" or
    /// "false" turns stagger off, anything else leaves it on. `read` defaults to getenv.
    static stagger_switches from_environment(std::span<const stagger_job> jobs, const lookup& read = {}) {
        const lookup get = read ? read : [](const char* variable) -> const char* { return std::getenv(variable); };
        stagger_switches switches;
        switches.enabled_ = !says_off(get("SKED_STAGGER"));
        for (const auto& job : jobs) {
            if (says_off(get(variable_for(job.name).c_str()))) switches.disabled_.insert(std::string(job.name));
        }
        return switches;
    }

private:
    static bool says_off(const char* value) {
        if (value == nullptr) return false;
        const std::string_view text{value};
        return text == "0" || text == "off" || text == "false";
    }

    bool enabled_ = true;
    std::set<std::string, std::less<>> disabled_;
};

}  // namespace sked
