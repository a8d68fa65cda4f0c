// sked/detail/cron_parser.hpp — text to cron_spec, with errors that point at a column.
//
// A hand-written single pass over the input: no allocation, no exceptions, usable in
// constant expressions (the cron literal runs it at compile time). Each function either
// advances and returns true, or records the first error and returns false.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "../cron_error.hpp"
#include "../cron_options.hpp"
#include "../duration.hpp"
#include "../hash.hpp"
#include "../result.hpp"
#include "cron_search.hpp"
#include "cron_spec.hpp"

namespace sked::detail {

/// Numbers a field accepts as written. `star_high` is where '*' and 'a/s' stop: for
/// Vixie day-of-week that is 6, so 7 (also Sunday) is only reachable explicitly.
struct field_rules {
    cron_field field;
    int low;
    int high;
    int star_high;
};

class cron_parser {
public:
    constexpr cron_parser(std::string_view text, const parse_options& options) noexcept
        : text_(text), options_(options) {}

    constexpr result<cron_spec, cron_error> parse() noexcept {
        spec_.days_and = options_.days == day_match::both;
        skip_space();
        if (!parse_zone_prefix()) return error_;
        skip_space();
        if (pos_ == text_.size()) return fail_whole(cron_errc::empty_expression);
        if (!(text_[pos_] == '@' ? parse_macro() : parse_fields(pos_))) return error_;
        if (spec_.every_seconds == 0 && !can_fire(spec_)) return fail_whole(cron_errc::never_fires);
        return spec_;
    }

private:
    // ---- characters -------------------------------------------------------------------

    static constexpr bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    static constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
    static constexpr bool is_letter(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
    static constexpr char upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

    static constexpr bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (upper(a[i]) != upper(b[i])) return false;
        return true;
    }

    constexpr void skip_space() noexcept {
        while (pos_ < text_.size() && is_space(text_[pos_]))
            ++pos_;
    }

    /// End of the white-space-delimited word starting at `from`.
    constexpr std::size_t word_end(std::size_t from) const noexcept {
        while (from < text_.size() && !is_space(text_[from]))
            ++from;
        return from;
    }

    /// An error about the expression as a whole (column 0).
    constexpr cron_error fail_whole(cron_errc code, int value = 0) noexcept {
        error_ = cron_error{code, cron_field::none, 0, {}, value, 0, 0};
        return error_;
    }

    constexpr bool fail_at(cron_errc code, cron_field field, std::size_t from, std::size_t to, int low = 0,
                           int high = 0) noexcept {
        error_ = cron_error{code,
                            field,
                            static_cast<std::uint16_t>(from + 1 > 65535 ? 65535 : from + 1),
                            fixed_string<40>(text_.substr(from, to - from)),
                            0,
                            low,
                            high};
        return false;
    }

    // ---- prefix and macros ------------------------------------------------------------

    constexpr bool parse_zone_prefix() noexcept {
        std::size_t name_start = 0;
        if (text_.substr(pos_, 8) == "CRON_TZ=")
            name_start = pos_ + 8;
        else if (text_.substr(pos_, 3) == "TZ=")
            name_start = pos_ + 3;
        else
            return true;
        const std::size_t name_end = word_end(name_start);
        const auto name = text_.substr(name_start, name_end - name_start);
        bool valid = !name.empty() && name.size() <= 63;
        for (char c : name)
            valid = valid && (is_letter(c) || is_digit(c) || c == '_' || c == '+' || c == '-' || c == '/');
        if (!valid) return fail_at(cron_errc::invalid_zone, cron_field::none, name_start, name_end);
        spec_.zone = fixed_string<63>(name);
        pos_ = name_end;
        return true;
    }

    constexpr bool parse_macro() noexcept {
        const std::size_t start = pos_, end = word_end(pos_);
        const auto word = text_.substr(start, end - start);
        constexpr std::string_view macros[][2] = {
            {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
            {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"}};
        for (const auto& macro : macros) {
            if (!equals_ignoring_case(word, macro[0])) continue;
            pos_ = end;
            skip_space();
            if (pos_ != text_.size())
                return fail_at(cron_errc::unexpected_character, cron_field::none, pos_, word_end(pos_));
            return expand(macro[1]);
        }
        if (equals_ignoring_case(word, "@every")) return parse_every(end);
        return fail_at(cron_errc::unknown_macro, cron_field::none, start, end);
    }

    /// Parses a macro's fixed expansion as if it had been written out.
    constexpr bool expand(std::string_view fields) noexcept {
        const auto saved_text = text_;
        const auto saved_zone = spec_.zone;
        text_ = fields;
        const bool ok = parse_fields(0);
        text_ = saved_text;
        spec_.zone = saved_zone;
        return ok;
    }

    // One grammar for durations everywhere (sked/duration.hpp); a period is whole
    // seconds, positive, and fits the spec's 32 bits.
    constexpr bool parse_every(std::size_t after_word) noexcept {
        pos_ = after_word;
        skip_space();
        const std::size_t start = pos_, end = word_end(pos_);
        const auto period = parse_duration(text_.substr(start, end - start));
        const auto ms = period ? period->count() : 0;
        if (ms <= 0 || ms % 1000 != 0 || ms / 1000 > 0xffff'ffff)
            return fail_at(cron_errc::invalid_duration, cron_field::none, start, end);
        pos_ = end;
        skip_space();
        if (pos_ != text_.size())
            return fail_at(cron_errc::unexpected_character, cron_field::none, pos_, word_end(pos_));
        spec_.every_seconds = static_cast<std::uint32_t>(ms / 1000);
        return true;
    }

    // ---- fields -------------------------------------------------------------------------

    constexpr field_rules rules_for(cron_field field) const noexcept {
        switch (field) {
            case cron_field::second:
                return {field, 0, 59, 59};
            case cron_field::minute:
                return {field, 0, 59, 59};
            case cron_field::hour:
                return {field, 0, 23, 23};
            case cron_field::day_of_month:
                return {field, 1, 31, 31};
            case cron_field::month:
                return {field, 1, 12, 12};
            case cron_field::day_of_week:
                return options_.weekdays == weekday_numbering::quartz ? field_rules{field, 1, 7, 7}
                                                                      : field_rules{field, 0, 7, 6};
            default:
                return {cron_field::year, first_year, last_year, last_year};
        }
    }

    constexpr bool parse_fields(std::size_t from) noexcept {
        std::size_t starts[7]{}, ends[7]{};
        int count = 0;
        for (pos_ = from, skip_space(); pos_ < text_.size(); skip_space(), ++count) {
            if (count < 7) starts[count] = pos_, ends[count] = word_end(pos_);
            pos_ = word_end(pos_);
        }
        if (count < 5 || count > 7) return fail_whole(cron_errc::wrong_field_count, count), false;
        constexpr cron_field five[] = {cron_field::minute, cron_field::hour, cron_field::day_of_month,
                                       cron_field::month, cron_field::day_of_week};
        constexpr cron_field seven[] = {cron_field::second,       cron_field::minute, cron_field::hour,
                                        cron_field::day_of_month, cron_field::month,  cron_field::day_of_week,
                                        cron_field::year};
        spec_.field_count = static_cast<std::uint8_t>(count);
        if (count == 5) spec_.seconds = 1;  // minute resolution: fire at second 0
        for (int i = 0; i < count; ++i) {
            const cron_field field = count == 5 ? five[i] : seven[i];
            if (!parse_field(rules_for(field), starts[i], ends[i])) return false;
        }
        return true;
    }

    constexpr bool parse_field(const field_rules& rules, std::size_t start, std::size_t end) noexcept {
        if (rules.field == cron_field::year) spec_.any_year = false;
        for (std::size_t item = start;;) {
            std::size_t item_end = item;
            while (item_end < end && text_[item_end] != ',')
                ++item_end;
            if (item_end == item) return fail_at(cron_errc::unexpected_character, rules.field, item, item + 1);
            if (!parse_item(rules, item, item_end, item == start)) return false;
            if (item_end == end) break;
            item = item_end + 1;
            if (item == end) return fail_at(cron_errc::unexpected_character, rules.field, item_end, item);
        }
        if (rules.field == cron_field::year && spec_.is_star(cron_field::year) &&
            spec_.star_steps[static_cast<unsigned>(cron_field::year)] == 1)
            spec_.any_year = true, spec_.years = {};
        return true;
    }

    constexpr bool parse_item(const field_rules& rules, std::size_t start, std::size_t end, bool first) noexcept {
        pos_ = start;
        const char c = text_[start];
        if (c == '*' || c == '?') return parse_star(rules, end, first);
        if (c == 'H') return parse_hash(rules, end);
        if (c == 'L' && (start + 1 == end || text_[start + 1] == '-' || text_[start + 1] == 'W'))
            return parse_last(rules, end);
        int low = 0;
        if (!parse_value(rules, end, low)) return false;
        int high = low;
        const std::size_t value_end = pos_;
        if (pos_ < end && text_[pos_] == '-') {
            ++pos_;
            if (!parse_value(rules, end, high)) return false;
            if (rules.field == cron_field::day_of_week && high == 0 && low > 0 && is_letter(text_[pos_ - 1]))
                high = 7;  // MON-SUN: a name ending a range means the week's last Sunday
            if (low > high) return fail_at(cron_errc::reversed_range, rules.field, start, pos_);
        } else if (pos_ < end) {
            if (text_[pos_] == 'W' || text_[pos_] == 'L' || text_[pos_] == '#')
                return parse_day_suffix(rules, value_end, end, low);
            if (text_[pos_] == '/') high = rules.high;  // a/s: to the field's maximum as written (cronie)
        }
        int step = 1;
        if (!parse_step(rules, end, step)) return false;
        return set_range(rules, low, high, step);
    }

    constexpr bool parse_star(const field_rules& rules, std::size_t end, bool first) noexcept {
        const char c = text_[pos_++];
        const bool day_field = rules.field == cron_field::day_of_month || rules.field == cron_field::day_of_week;
        if (c == '?' && (!day_field || pos_ != end))
            return fail_at(cron_errc::misplaced_special, rules.field, pos_ - 1, end);
        int step = 1;
        if (!parse_step(rules, end, step)) return false;
        if (first) {
            spec_.star_fields |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(rules.field));
            spec_.star_steps[static_cast<unsigned>(rules.field)] = static_cast<std::uint8_t>(step);
        }
        return set_range(rules, rules.low, rules.star_high, step);
    }

    /// H, H(a-b), H/s, H(a-b)/s: one value (or one step phase) derived from the job name.
    constexpr bool parse_hash(const field_rules& rules, std::size_t end) noexcept {
        const std::size_t start = pos_++;
        if (rules.field == cron_field::year) return fail_at(cron_errc::misplaced_special, rules.field, start, end);
        if (options_.job_name.empty()) return fail_at(cron_errc::hash_needs_job_name, rules.field, start, end);
        int low = rules.low, high = rules.star_high;
        if (rules.field == cron_field::day_of_month) high = 28;  // every month has it
        if (pos_ < end && text_[pos_] == '(') {
            ++pos_;
            if (!parse_value(rules, end, low)) return false;
            if (pos_ >= end || text_[pos_] != '-')
                return fail_at(cron_errc::unexpected_character, rules.field, pos_, end);
            ++pos_;
            if (!parse_value(rules, end, high)) return false;
            if (low > high) return fail_at(cron_errc::reversed_range, rules.field, start, pos_);
            if (pos_ >= end || text_[pos_] != ')')
                return fail_at(cron_errc::unexpected_character, rules.field, pos_, end);
            ++pos_;
        }
        int step = 0;
        if (pos_ < end && !parse_step(rules, end, step)) return false;
        const auto salt = static_cast<std::uint64_t>(rules.field);
        // The phase of H/s must land inside the range even when s is longer than it.
        const int width = high - low + 1;
        const auto span = static_cast<std::uint64_t>(step == 0 || step > width ? width : step);
        const int chosen = low + static_cast<int>(spread(options_.job_name, salt, span));
        return set_range(rules, chosen, step == 0 ? chosen : high, step == 0 ? 1 : step);
    }

    /// L, L-n and LW in day-of-month.
    constexpr bool parse_last(const field_rules& rules, std::size_t end) noexcept {
        const std::size_t start = pos_++;
        if (rules.field != cron_field::day_of_month)
            return fail_at(cron_errc::misplaced_special, rules.field, start, end);
        if (pos_ == end) return spec_.last_day_offsets |= 1u, true;
        if (text_[pos_] == 'W') {
            if (++pos_ != end) return fail_at(cron_errc::unexpected_character, rules.field, pos_, end);
            return spec_.last_weekday_of_month = true, true;
        }
        ++pos_;  // '-'
        int back = 0;
        if (!parse_number(rules.field, end, 0, 30, back)) return false;
        if (pos_ != end) return fail_at(cron_errc::unexpected_character, rules.field, pos_, end);
        spec_.last_day_offsets |= std::uint32_t{1} << back;
        return true;
    }

    /// nW in day-of-month; nL and n#k in day-of-week.
    constexpr bool parse_day_suffix(const field_rules& rules, std::size_t value_end, std::size_t end,
                                    int value) noexcept {
        const char suffix = text_[pos_++];
        const bool allowed =
            suffix == 'W' ? rules.field == cron_field::day_of_month : rules.field == cron_field::day_of_week;
        if (!allowed) return fail_at(cron_errc::misplaced_special, rules.field, value_end, end);
        if (suffix == 'W') {
            if (pos_ != end) return fail_at(cron_errc::unexpected_character, rules.field, pos_, end);
            spec_.nearest_weekdays |= std::uint32_t{1} << value;
            return true;
        }
        const auto weekday = static_cast<unsigned>(normalize_weekday(value));
        if (suffix == 'L') {
            if (pos_ != end) return fail_at(cron_errc::unexpected_character, rules.field, pos_, end);
            spec_.last_weekdays |= static_cast<std::uint8_t>(1u << weekday);
            return true;
        }
        int week = 0;
        if (!parse_number(rules.field, end, 1, 5, week)) return false;
        if (pos_ != end) return fail_at(cron_errc::unexpected_character, rules.field, pos_, end);
        spec_.nth_weekdays |= std::uint64_t{1} << ((static_cast<unsigned>(week) - 1) * 7 + weekday);
        return true;
    }

    constexpr bool parse_step(const field_rules& rules, std::size_t end, int& step) noexcept {
        if (pos_ == end) return true;
        if (text_[pos_] != '/') return fail_at(cron_errc::unexpected_character, rules.field, pos_, end);
        const std::size_t start = ++pos_;
        // Bounded by the field, not the item: "47/14" is valid and means just 47.
        const int span = rules.star_high - rules.low + 1;
        while (pos_ < end && is_digit(text_[pos_]))
            ++pos_;
        if (pos_ == start) return fail_at(cron_errc::unexpected_character, rules.field, start - 1, end);
        if (pos_ != end) return fail_at(cron_errc::unexpected_character, rules.field, pos_, end);
        int value = 0;
        for (std::size_t i = start; i < end && value <= span; ++i)
            value = value * 10 + (text_[i] - '0');
        if (value < 1 || value > span) return fail_at(cron_errc::invalid_step, rules.field, start, end, 1, span);
        step = value;
        return true;
    }

    /// A number or, in month and day-of-week, a three-letter name.
    constexpr bool parse_value(const field_rules& rules, std::size_t end, int& value) noexcept {
        if (pos_ < end && is_letter(text_[pos_])) return parse_name(rules, end, value);
        return parse_number(rules.field, end, rules.low, rules.high, value);
    }

    constexpr bool parse_number(cron_field field, std::size_t end, int low, int high, int& value) noexcept {
        const std::size_t start = pos_;
        value = 0;
        while (pos_ < end && is_digit(text_[pos_])) {
            if (value <= 99'999) value = value * 10 + (text_[pos_] - '0');
            ++pos_;
        }
        if (pos_ == start)
            return fail_at(cron_errc::unexpected_character, field, start, start < end ? start + 1 : start);
        if (value < low || value > high) return fail_at(cron_errc::value_out_of_range, field, start, pos_, low, high);
        return true;
    }

    /// Three letters, upper-cased, as one number, so a name is found with integer compares.
    static constexpr std::uint32_t name_key(char a, char b, char c) noexcept {
        return std::uint32_t{static_cast<unsigned char>(upper(a))} << 16 |
               std::uint32_t{static_cast<unsigned char>(upper(b))} << 8 | static_cast<unsigned char>(upper(c));
    }

    constexpr bool parse_name(const field_rules& rules, std::size_t end, int& value) noexcept {
        constexpr std::uint32_t months[] = {name_key('J', 'A', 'N'), name_key('F', 'E', 'B'), name_key('M', 'A', 'R'),
                                            name_key('A', 'P', 'R'), name_key('M', 'A', 'Y'), name_key('J', 'U', 'N'),
                                            name_key('J', 'U', 'L'), name_key('A', 'U', 'G'), name_key('S', 'E', 'P'),
                                            name_key('O', 'C', 'T'), name_key('N', 'O', 'V'), name_key('D', 'E', 'C')};
        constexpr std::uint32_t weekdays[] = {name_key('S', 'U', 'N'), name_key('M', 'O', 'N'), name_key('T', 'U', 'E'),
                                              name_key('W', 'E', 'D'), name_key('T', 'H', 'U'), name_key('F', 'R', 'I'),
                                              name_key('S', 'A', 'T')};
        const std::size_t start = pos_;
        // Names are three letters; a following letter may be a suffix (FRIL = last Friday).
        while (pos_ < end && is_letter(text_[pos_]) && pos_ - start < 3)
            ++pos_;
        const bool is_month = rules.field == cron_field::month;
        if (pos_ - start == 3 && (is_month || rules.field == cron_field::day_of_week)) {
            const std::uint32_t key = name_key(text_[start], text_[start + 1], text_[start + 2]);
            const auto* names = is_month ? months : weekdays;
            const int count = is_month ? 12 : 7;
            for (int i = 0; i < count; ++i) {
                if (names[i] != key) continue;
                value = is_month ? i + 1 : i + (options_.weekdays == weekday_numbering::quartz);
                return true;
            }
        }
        std::size_t word_stop = pos_;
        while (word_stop < end && is_letter(text_[word_stop]))
            ++word_stop;
        return fail_at(cron_errc::unknown_name, rules.field, start, word_stop);
    }

    constexpr int normalize_weekday(int value) const noexcept {
        if (options_.weekdays == weekday_numbering::quartz) return value - 1;
        return value == 7 ? 0 : value;
    }

    /// Bits low, low+step, ... <= high, as a mask (values below 64 only).
    static constexpr std::uint64_t series(int low, int high, int step) noexcept {
        if (step == 1) return (~std::uint64_t{0} >> (63 - high)) & (~std::uint64_t{0} << low);
        std::uint64_t bits = 0;
        for (int v = low; v <= high; v += step)
            bits |= std::uint64_t{1} << v;
        return bits;
    }

    constexpr bool set_range(const field_rules& rules, int low, int high, int step) noexcept {
        if (rules.field == cron_field::year) {
            for (int v = low; v <= high; v += step) {
                const auto bit = static_cast<unsigned>(v - first_year);
                spec_.years[bit / 64] |= std::uint64_t{1} << (bit % 64);
            }
            return true;
        }
        const std::uint64_t bits = series(low, high, step);
        switch (rules.field) {
            case cron_field::second:
                spec_.seconds |= bits;
                break;
            case cron_field::minute:
                spec_.minutes |= bits;
                break;
            case cron_field::hour:
                spec_.hours |= static_cast<std::uint32_t>(bits);
                break;
            case cron_field::day_of_month:
                spec_.days |= static_cast<std::uint32_t>(bits);
                break;
            case cron_field::month:
                spec_.months |= static_cast<std::uint16_t>(bits);
                break;
            default: {  // day-of-week: fold Vixie's 7, or shift Quartz's 1-7, onto 0-6
                const std::uint64_t days =
                    options_.weekdays == weekday_numbering::quartz ? bits >> 1 : bits | (bits >> 7);
                spec_.weekdays |= static_cast<std::uint8_t>(days & 0x7f);
            }
        }
        return true;
    }

    std::string_view text_;
    parse_options options_;
    std::size_t pos_ = 0;
    cron_spec spec_{};
    cron_error error_{};
};

}  // namespace sked::detail
