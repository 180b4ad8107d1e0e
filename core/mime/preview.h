// PreviewText: the preview of a message (RFC 8970 §3.3) built from the
// decoded text TextWalk feeds it (TextScope::Preview: the text/plain and
// text/html leaves, transfer-decoded and converted to UTF-8).
//
// What it makes: plain UTF-8 text, whitespace collapsed (runs of ASCII
// white space, other C0 controls, DEL and U+00A0 become one space; none
// leading or trailing), HTML reduced to its text (tags dropped, the content
// of <head>, <title>, <script> and <style> skipped, block tags such as <p>
// and <br> read as a space, the common character references decoded),
// invalid UTF-8 replaced by U+FFFD. It stops at kMaxChars preview
// characters (§3.3: SHOULD 200, MUST NOT exceed 256) or when its kMaxBytes
// are full, at a character boundary, so that ASCII text always reaches 200
// characters; and it takes the text of one part: once one leaf gave text,
// the next leaf (the HTML alternative of a text/plain part, an attachment)
// ends the preview.
//
// Memory: kMaxBytes + a few dozen bytes, no allocation; a plain object the
// caller places (one per session). Resumable at any byte: the walk feeds it
// in pieces over several turns of the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/mime/text_search.h"

namespace tinyimapd::mime {

class PreviewText final : public TextSink {
public:
    static constexpr std::size_t kMaxChars = 200;
    static constexpr std::size_t kMaxBytes = 400;
    static_assert(kMaxChars <= 256, "RFC 8970 §3.3: at most 256 preview characters");

    void reset();
    void begin_text(bool html) override;
    void write(const char* data, std::size_t n) override;
    bool satisfied() const override { return full_ || ended_; }
    // The preview so far (no trailing space); empty when no text was found.
    std::string_view text() const { return {buf_, len_}; }
    std::size_t chars() const { return chars_; }

private:
    enum class Html : std::uint8_t { Text, Tag, Entity, Skip };
    void byte(unsigned char c);
    void html_byte(unsigned char c);
    void utf8_byte(unsigned char c);
    void code_point(std::uint32_t cp);
    void separator();
    void visible(const char* utf8, std::size_t n);
    void end_tag();
    void end_entity(bool terminated);

    char buf_[kMaxBytes] = {};
    std::size_t len_ = 0, chars_ = 0;
    bool full_ = false;   // no room for another character
    bool ended_ = false;  // a second leaf began after text
    bool space_ = false;  // white space waits before the next visible character
    bool html_ = false;
    Html state_ = Html::Text;
    // The tag being read: its name's first bytes (lower case), whether it
    // closes, and the element whose content is skipped (Html::Skip).
    char tag_[8] = {};
    std::uint8_t tag_len_ = 0;
    bool tag_named_ = false, tag_closing_ = false;
    char skip_[8] = {};
    std::uint8_t skip_len_ = 0;
    char entity_[12] = {};
    std::uint8_t entity_len_ = 0;
    // A UTF-8 sequence being assembled.
    std::uint32_t cp_ = 0;
    std::uint8_t need_ = 0;
    std::uint32_t min_ = 0;
};

}  // namespace tinyimapd::mime
