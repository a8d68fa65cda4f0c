// sked/detail/fixed_string.hpp — a bounded, allocation-free string for values that
// must stay trivially copyable and usable in constant expressions (error texts, zone
// names carried by a cron value).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sked::detail {

template <std::size_t Capacity>
class fixed_string {
public:
    constexpr fixed_string() noexcept = default;

    /// Copies at most Capacity characters; longer input is cut, which callers that care
    /// (zone names) check beforehand.
    constexpr explicit fixed_string(std::string_view text) noexcept { append(text); }

    constexpr void append(std::string_view text) noexcept {
        for (char c : text) {
            if (size_ == Capacity) return;
            chars_[size_++] = c;
        }
    }

    constexpr void append_number(std::int64_t value) noexcept {
        char digits[20]{};
        std::size_t n = 0;
        const bool negative = value < 0;
        auto magnitude = negative ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
        do {
            digits[n++] = static_cast<char>('0' + magnitude % 10);
            magnitude /= 10;
        } while (magnitude != 0);
        if (negative) append("-");
        while (n != 0)
            append(std::string_view(&digits[--n], 1));
    }

    [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars_.data(), size_}; }
    /// Always null-terminated: the array has room for one more character than fits.
    [[nodiscard]] constexpr const char* c_str() const noexcept { return chars_.data(); }
    constexpr operator std::string_view() const noexcept { return view(); }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
    [[nodiscard]] constexpr bool empty() const noexcept { return size_ == 0; }

    friend constexpr bool operator==(const fixed_string& a, const fixed_string& b) noexcept {
        return a.view() == b.view();
    }

private:
    std::array<char, Capacity + 1> chars_{};
    std::size_t size_ = 0;
};

}  // namespace sked::detail
