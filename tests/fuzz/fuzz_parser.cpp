// libFuzzer target: the IMAP command parser (core/imap/parser).
//
// Input layout: byte 0 seeds the split pattern and the literal decisions;
// the rest is the client's byte stream. The stream is parsed twice — fed
// whole, and fed in chunks of pseudo-random sizes — and the two event
// sequences must be identical (the parser is incremental at every byte).
// Every event is checked for internal consistency: progress is made, views
// stay inside the arena, list extents nest properly; every command is also
// run through the command layer (core/imap/command), whose grammars are
// thereby fuzzed too. Byte 0's top bit runs the parser in UTF-8 mode (a
// session after ENABLE UTF8=ACCEPT, RFC 6855).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/imap/command.h"
#include "core/imap/parser.h"

using namespace tinyimapd::imap;

namespace {

constexpr std::size_t kArena = 2048;
constexpr std::size_t kArgs = 64;
constexpr std::size_t kMaxEvents = 4096;

struct Event {
    ParseEvent type;
    std::uint32_t digest;  // over tag, name and every argument
};

struct Run {
    char arena[kArena];
    Arg args[kArgs];
    Event events[kMaxEvents];
    std::size_t count = 0;
    std::uint32_t streamed = 0;  // digest of streamed literal bytes
    std::size_t streamed_bytes = 0;
};

void check(bool ok) {
    if (!ok) abort();
}

std::uint32_t mix(std::uint32_t h, std::string_view s) {
    for (char c : s) h = (h ^ static_cast<std::uint8_t>(c)) * 16777619u;
    return (h ^ 0xff) * 16777619u;
}

std::uint32_t digest(const Parser& p, ParseEvent e) {
    std::uint32_t h = 2166136261u ^ static_cast<std::uint32_t>(e);
    h = mix(h, p.tag());
    if (e == ParseEvent::Error) return mix(h, p.error_text());
    if (e == ParseEvent::LiteralRequest) {
        // APPEND's and [UID] REPLACE's announcement grammar (RFC 3502, RFC
        // 8508), checked before the literal is taken.
        AppendMessage message;
        AppendTarget target;
        const SyntaxResult r = append_message_ready(p, &message, &target);
        h = mix(h ^ static_cast<std::uint32_t>(r.verdict), target.mailbox) ^ target.number;
        return h ^ p.literal_size() ^ (p.literal_sync() << 31);
    }
    if (e == ParseEvent::Line) return mix(h, p.line());
    h = mix(h, p.name());
    // The command layer's verdict on it (every grammar: sets, FETCH,
    // SEARCH, STORE, LIST, ...) must not depend on how the bytes arrived.
    static FetchItem items[16];
    static SearchNode nodes[32];
    const CommandScratch scratch{items, 16, nodes, 32, 64};
    ParsedCommand cmd{ArgReader(p)};
    const SyntaxResult r = parse_command(p, scratch, &cmd);
    h = mix(h ^ static_cast<std::uint32_t>(r.verdict), r.why);
    for (std::size_t i = 0; i < p.arg_count(); ++i) {
        const Arg& a = p.arg(i);
        check(a.end > i && a.end <= p.arg_count());
        if (a.type == ArgType::List) {
            // Children lie inside the parent's extent.
            for (std::size_t j = i + 1; j < a.end; ++j) check(p.arg(j).end <= a.end);
            h = mix(h, "(") ^ a.end;
        } else if (a.type == ArgType::Streamed) {
            h ^= a.length;
        } else {
            check(a.offset + a.length <= kArena);
            h = mix(h ^ static_cast<std::uint32_t>(a.type), p.arg_text(i));
        }
    }
    return h;
}

void parse(Run& run, const std::uint8_t* data, std::size_t size, std::uint8_t seed, bool split) {
    ParserLimits limits;
    limits.max_line_length = 512;
    limits.max_literal_size = 256;
    limits.max_depth = 16;
    Parser parser(run.arena, kArena, run.args, kArgs, limits);
    // Half the inputs as a session after ENABLE UTF8=ACCEPT (RFC 6855:
    // quoted strings checked as UTF-8, mailbox names read as UTF-8).
    parser.set_utf8((seed & 0x80) != 0);
    std::uint32_t rng = seed * 2654435761u + 1;
    std::uint32_t decisions = seed;
    std::size_t pos = 0;
    while (pos < size && run.count < kMaxEvents) {
        std::size_t chunk = size - pos;
        if (split) {
            rng = rng * 1103515245u + 12345u;
            chunk = 1 + (rng >> 16) % 7;
            if (chunk > size - pos) chunk = size - pos;
        }
        std::size_t end = pos + chunk;
        while (pos < end) {
            Fed fed = parser.feed(data + pos, end - pos);
            check(fed.consumed <= end - pos);
            check(fed.consumed > 0 || fed.event != ParseEvent::NeedMore);
            pos += fed.consumed;
            if (fed.event == ParseEvent::NeedMore) continue;
            if (fed.event == ParseEvent::LiteralChunk) {
                // Chunk boundaries depend on the split; only the bytes count.
                check(!parser.chunk().empty());
                run.streamed = mix(run.streamed, parser.chunk());
                run.streamed_bytes += parser.chunk().size();
                continue;
            }
            if (fed.event == ParseEvent::Command) check(!parser.name().empty());
            run.events[run.count++] = {fed.event, digest(parser, fed.event)};
            const unsigned choice = decisions & 3;
            decisions = (decisions >> 2) | ((decisions & 3) << 6);
            if (fed.event == ParseEvent::LiteralRequest) {
                if (choice == 0 || choice == 3) {
                    if (!parser.accept_literal()) {
                        check(!parser.literal_fits());
                        parser.refuse_literal();
                    }
                } else if (choice == 1) {
                    parser.refuse_literal();
                } else {
                    parser.stream_literal();
                }
            } else if (fed.event == ParseEvent::Command && choice == 3) {
                parser.expect_line();
            }
            if (run.count >= kMaxEvents) break;
        }
    }
}

Run g_whole;
Run g_split;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t seed = data[0];
    g_whole.count = g_split.count = 0;
    g_whole.streamed = g_split.streamed = 0;
    g_whole.streamed_bytes = g_split.streamed_bytes = 0;
    parse(g_whole, data + 1, size - 1, seed, false);
    parse(g_split, data + 1, size - 1, seed, true);
    check(g_whole.count == g_split.count);
    check(g_whole.streamed_bytes == g_split.streamed_bytes);
    for (std::size_t i = 0; i < g_whole.count; ++i) {
        check(g_whole.events[i].type == g_split.events[i].type);
        check(g_whole.events[i].digest == g_split.events[i].digest);
    }
    return 0;
}
