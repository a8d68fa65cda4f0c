// sked/detail/slot_table.hpp — values under small integer ids, reused without
// allocating: the runs in flight. An id carries a generation, so an id kept past its
// value's erase (a timeout entry still in the queue) finds nothing rather than a
// newer value in the same place.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sked::detail {

template <class T>
class slot_table {
public:
    static constexpr std::uint32_t index_bits = 20;  // a million values at once
    static constexpr std::uint32_t index_mask = (1u << index_bits) - 1;

    /// Stores a default T; returns its id and a reference to it.
    std::pair<std::uint32_t, T&> emplace() {
        std::uint32_t index;
        if (!free_.empty()) {
            index = free_.back();
            free_.pop_back();
        } else {
            if (slots_.size() > index_mask) throw std::length_error("sked: more than 2^20 runs in flight");
            index = static_cast<std::uint32_t>(slots_.size());
            slots_.emplace_back();
        }
        auto& slot = slots_[index];
        slot.value.emplace();
        ++size_;
        return {index | (slot.generation << index_bits), *slot.value};
    }

    T* find(std::uint32_t id) {
        const auto index = id & index_mask;
        if (index >= slots_.size()) return nullptr;
        auto& slot = slots_[index];
        return slot.value && slot.generation == id >> index_bits ? &*slot.value : nullptr;
    }

    void erase(std::uint32_t id) {
        auto& slot = slots_[id & index_mask];
        slot.value.reset();
        slot.generation = (slot.generation + 1) & ((1u << (32 - index_bits)) - 1);
        free_.push_back(id & index_mask);
        --size_;
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

    template <class F>
    void for_each(F&& visit) {
        for (auto& slot : slots_)
            if (slot.value) visit(*slot.value);
    }
    template <class F>
    void for_each(F&& visit) const {
        for (const auto& slot : slots_)
            if (slot.value) visit(*slot.value);
    }

private:
    struct entry {
        std::optional<T> value;
        std::uint32_t generation = 0;
    };
    std::vector<entry> slots_;
    std::vector<std::uint32_t> free_;
    std::size_t size_ = 0;
};

}  // namespace sked::detail
