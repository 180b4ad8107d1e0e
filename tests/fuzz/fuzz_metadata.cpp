// libFuzzer target: the metadata files of RFC 5464 annotations
// (core/store/metadata.h) on arbitrary bytes, on the simulated file system.
//
// The input is the file m.meta. It is checked (meta_check), walked record by
// record with every value read (MetaReader, as GETMETADATA does), and then
// changed (meta_update: one entry set and one removed, under small limits,
// as SETMETADATA does). Whatever the bytes, this must neither crash
// (ASan/UBSan) nor read past what a length allows; a file that is not valid
// must be left as it was; a file that is valid must stay valid after the
// change. Seeds: tests/fuzz/corpus/fuzz_metadata (valid files, written by
// tests/e2e/test_tools.py's meta_file layout).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/store/metadata.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_fs.h"

using namespace tinyimapd;
using namespace tinyimapd::store;

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

Status walk(sim::SimFs& fs) {
    auto f = fs.open("box/m.meta", port::kOpenRead);
    if (!f.ok()) return f.status;
    MetaReader r(fs, f.value);
    Status st = r.start();
    MetaRecord rec;
    static char value[kMaxMetaValue];
    while (st == Status::Ok && (st = r.next(&rec)) == Status::Ok) {
        require(rec.value_size <= kMaxMetaValue && !rec.name.empty());
        st = r.value(rec, value);
    }
    (void)fs.close(f.value);
    return st == Status::Eof ? Status::Ok : st;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    sim::SimClock clock;
    sim::SimFs fs(&clock);
    fs.make_dirs("box");
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    fs.write_file("box/m.meta", bytes);
    std::size_t records = 0;
    const Status checked = meta_check(fs, "box/m.meta", &records);
    const Status walked = walk(fs);
    require((checked == Status::Ok) == (walked == Status::Ok));
    const MetaChange changes[] = {
        {"", "/shared/comment", "x", false},
        {"alice", "/private/comment", {}, true},
    };
    char buf[64];
    const Status updated = meta_update(fs, "box", kMetaFile, kMetaNew, changes, 2,
                                       MetaLimits{8, 4096}, buf, sizeof buf);
    if (checked != Status::Ok) {
        require(updated != Status::Ok);
        require(fs.read_file("box/m.meta") == bytes);
    } else if (updated == Status::Ok) {
        require(meta_check(fs, "box/m.meta", &records) == Status::Ok);
    }
    require(!fs.exists("box/m.meta.new"));
    return 0;
}
