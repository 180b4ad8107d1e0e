// libFuzzer target: the mbox and Maildir formats that `tinyimapd import`
// reads from files anyone may hand the admin (platforms/posix/import/
// mail_formats.h; RFC 4155, maildir.html).
//
// Input layout: the first byte picks what the rest is:
//   even  an mbox file: split into messages (split_mbox); every body has
//         CRLF line ends only, and each message's date, if its From line had
//         one, is written back by format_from_date and read the same;
//   odd   a Maildir: the rest up to the first NUL is a file name, the rest
//         after it a dovecot-keywords file; the flags are system flags
//         only, the keywords are defined names, and the letters export
//         writes for them read back to the same flags.
// Any broken property aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/mail/flags.h"
#include "platforms/posix/import/mail_formats.h"

using namespace tinyimapd;
using namespace tinyimapd::posix::mailfmt;

namespace {

void check(bool ok) {
    if (!ok) abort();
}

void fuzz_mbox(std::string_view text) {
    std::vector<MboxMessage> messages;
    if (!split_mbox(text, &messages)) return;
    std::size_t total = 0;
    for (const MboxMessage& m : messages) {
        for (std::size_t i = 0; i < m.body.size(); ++i) {
            if (m.body[i] == '\n') check(i > 0 && m.body[i - 1] == '\r');
        }
        total += m.body.size();
        if (m.state.date_known) {
            check(m.state.date >= 0);
            std::int64_t back = -1;
            check(parse_from_date("From x " + format_from_date(m.state.date), &back));
            check(back == m.state.date);
        }
        constexpr std::uint8_t kSystem =
            mail::kSeen | mail::kAnswered | mail::kFlagged | mail::kDraft | mail::kDeleted;
        check((m.state.flags & ~kSystem) == 0);
    }
    // Each input line gives at most its bytes and a CRLF.
    check(total <= 2 * text.size() + 2);
}

void fuzz_maildir(std::string_view rest) {
    const std::size_t nul = rest.find('\0');
    const std::string_view name = rest.substr(0, nul);
    const std::string_view keywords_file =
        nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
    const std::vector<std::string> names = parse_dovecot_keywords(keywords_file);
    check(names.size() == 26);
    std::uint8_t flags = 0;
    std::vector<std::string> keywords;
    maildir_info(name, names, &flags, &keywords);
    constexpr std::uint8_t kSystem =
        mail::kSeen | mail::kAnswered | mail::kFlagged | mail::kDraft | mail::kDeleted;
    check((flags & ~kSystem) == 0);
    std::uint64_t bits = 0;
    for (const std::string& k : keywords) {
        bool found = false;
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (!names[i].empty() && names[i] == k) {
                bits |= std::uint64_t{1} << i;
                found = true;
                break;
            }
        }
        check(found);
        check(k.find_first_of(" \t\r\n") == std::string::npos);
    }
    std::uint8_t back = 0;
    std::vector<std::string> back_keywords;
    maildir_info("x:2," + maildir_flags(flags, bits), names, &back, &back_keywords);
    check(back == flags);
    check(back_keywords.size() <= keywords.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    if ((data[0] & 1) == 0) {
        fuzz_mbox(rest);
    } else {
        fuzz_maildir(rest);
    }
    return 0;
}
