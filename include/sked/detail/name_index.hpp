// sked/detail/name_index.hpp — job name -> job index, in 4 bytes a slot.
//
// An open-addressing table of indices; names stay in the job records, so a job costs
// a slot or two of 4 bytes here, where std::unordered_map<std::string, ...> would cost
// a node per job with a copy of its name.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string_view>
#include <vector>

namespace sked::detail {

class name_index {
public:
    static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();

    /// The index stored for `name`; `name_of(i)` reads a stored index's name.
    template <class NameOf>
    [[nodiscard]] std::uint32_t find(std::string_view name, const NameOf& name_of) const {
        if (slots_.empty()) return none;
        for (std::size_t at = home(name);; at = (at + 1) & mask()) {
            const auto v = slots_[at];
            if (v == empty) return none;
            if (v != removed && name_of(v) == name) return v;
        }
    }

    /// Adds `index` under `name` (not present). May rehash, reading names via name_of.
    template <class NameOf>
    void insert(std::string_view name, std::uint32_t index, const NameOf& name_of) {
        if ((used_ + 1) * 2 > slots_.size()) grow(name_of);
        place(name, index);
        ++used_;
    }

    /// Removes `name`, which is present.
    template <class NameOf>
    void erase(std::string_view name, const NameOf& name_of) {
        for (std::size_t at = home(name);; at = (at + 1) & mask()) {
            const auto v = slots_[at];
            if (v == empty) return;
            if (v != removed && name_of(v) == name) {
                slots_[at] = removed;  // a tombstone keeps later probes intact
                return;
            }
        }
    }

    [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }

private:
    static constexpr std::uint32_t empty = none;
    static constexpr std::uint32_t removed = none - 1;

    std::size_t mask() const noexcept { return slots_.size() - 1; }
    std::size_t home(std::string_view name) const { return std::hash<std::string_view>{}(name)&mask(); }

    void place(std::string_view name, std::uint32_t index) {
        std::size_t at = home(name);
        while (slots_[at] != empty && slots_[at] != removed)
            at = (at + 1) & mask();
        slots_[at] = index;
    }

    // Tombstones count as used until a rehash drops them.
    template <class NameOf>
    void grow(const NameOf& name_of) {
        std::vector<std::uint32_t> old = std::move(slots_);
        std::size_t live = 0;
        for (auto v : old)
            live += (v != empty && v != removed);
        std::size_t size = 16;  // at most half full after growing, so probes stay short
        while (size < (live + 1) * 2)
            size *= 2;
        slots_.assign(size, empty);
        for (auto v : old)
            if (v != empty && v != removed) place(name_of(v), v);
        used_ = live;
    }

    std::vector<std::uint32_t> slots_;
    std::size_t used_ = 0;
};

}  // namespace sked::detail
