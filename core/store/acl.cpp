// m.acl and the rights (acl.h).
#include "core/store/acl.h"

#include "core/store/replace_file.h"

namespace tinyimapd::store {

namespace {

Status join_file(std::string_view dir, std::string_view name, FixedString<port::kMaxPath>* out) {
    FixedText<port::kMaxPath + 1> t;
    t.put(dir).put('/').put(name);
    if (!t.ok() || !out->assign(t.view())) return Status::TooLong;
    return Status::Ok;
}

}  // namespace

bool parse_rights(std::string_view letters, Rights* out, char* bad) {
    Rights r = 0;
    for (char c : letters) {
        const std::size_t at = kRightLetters.find(c);
        if (at != std::string_view::npos) {
            r = static_cast<Rights>(r | (1u << at));
        } else if (c == 'c') {
            r |= kVirtualC;
        } else if (c == 'd') {
            r |= kVirtualD;
        } else {
            if (bad != nullptr) *bad = c;
            return false;
        }
    }
    *out = r;
    return true;
}

void write_rights(TextWriter& w, Rights r, bool virtuals) {
    for (std::size_t i = 0; i < kRightLetters.size(); ++i) {
        if ((r & (1u << i)) != 0) w.put(kRightLetters[i]);
    }
    if (!virtuals) return;
    if ((r & kVirtualC) != 0) w.put('c');
    if ((r & kVirtualD) != 0) w.put('d');
}

bool valid_identifier(std::string_view id) {
    if (id.empty() || id.size() > kMaxAclIdentifier || id[0] == '-') return false;
    for (char c : id) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) return false;
    }
    return true;
}

void Acl::set_default(std::string_view owner) {
    count = 0;
    (void)set(owner, kAllRights);
}

AclEntry* Acl::find(std::string_view id) {
    for (std::size_t i = 0; i < count; ++i) {
        if (entries[i].id.view() == id) return &entries[i];
    }
    return nullptr;
}

const AclEntry* Acl::find(std::string_view id) const {
    return const_cast<Acl*>(this)->find(id);
}

bool Acl::set(std::string_view id, Rights rights) {
    if (rights == 0) {
        remove(id);
        return true;
    }
    AclEntry* e = find(id);
    if (e == nullptr) {
        if (count == kMaxAclEntries) return false;
        e = &entries[count];
        if (!e->id.assign(id)) return false;
        ++count;
    }
    e->rights = rights;
    return true;
}

void Acl::remove(std::string_view id) {
    for (std::size_t i = 0; i < count; ++i) {
        if (entries[i].id.view() != id) continue;
        for (std::size_t j = i + 1; j < count; ++j) entries[j - 1] = entries[j];
        --count;
        return;
    }
}

Rights Acl::rights_of(std::string_view user, std::string_view owner) const {
    Rights r = 0;
    if (const AclEntry* e = find(user)) r |= e->rights;
    if (const AclEntry* e = find(kAnyone)) r |= e->rights;
    if (user == owner) r |= kOwnerKeeps;
    return r;
}

Status parse_acl(std::string_view text, Acl* out) {
    out->count = 0;
    std::size_t pos = 0;
    bool header = true;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) return Status::Invalid;  // cut short
        const std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (header) {
            if (line != kAclHeader) return Status::Invalid;
            header = false;
            continue;
        }
        const std::size_t sp = line.find(' ');
        if (sp == std::string_view::npos) return Status::Invalid;
        const std::string_view letters = line.substr(0, sp), id = line.substr(sp + 1);
        Rights r = 0;
        if (letters.find_first_of("cd") != std::string_view::npos || !parse_rights(letters, &r) ||
            r == 0 || !valid_identifier(id) || out->find(id) != nullptr || !out->set(id, r)) {
            return Status::Invalid;
        }
    }
    return header ? Status::Invalid : Status::Ok;
}

Status read_acl(port::Fs& fs, std::string_view dir, std::string_view owner, Acl* out) {
    FixedString<port::kMaxPath> file;
    out->set_default(owner);
    Status st = join_file(dir, kAclFile, &file);
    if (st != Status::Ok) return st;
    auto in = fs.open(file.view(), port::kOpenRead | port::kOpenNoFollow);
    if (!in.ok()) return in.status;
    char buf[kMaxAclFile + 1];
    std::size_t len = 0;
    for (;;) {
        const port::FsResult r = fs.pread(in.value, buf + len, sizeof buf - len, len);
        if (r.status != Status::Ok) {
            st = r.status;
            break;
        }
        len += r.bytes;
        if (r.bytes == 0 || len == sizeof buf) break;
    }
    (void)fs.close(in.value);
    if (st != Status::Ok) return st;
    if (len > kMaxAclFile) st = Status::Invalid;
    if (st == Status::Ok) st = parse_acl(std::string_view(buf, len), out);
    if (st != Status::Ok) out->set_default(owner);
    return st;
}

bool Acl::change(std::string_view id, std::string_view owner, char mod, Rights given,
                 bool remove) {
    const AclEntry* e = find(id);
    Rights now = e != nullptr ? e->rights : 0;
    if (remove) {
        now = 0;
    } else if (mod == '+') {
        now = static_cast<Rights>(now | given);
    } else if (mod == '-') {
        now = static_cast<Rights>(now & ~given);
    } else {
        now = given;
    }
    if (id == owner) now |= kOwnerKeeps;
    return set(id, now);
}

Status write_acl(port::Fs& fs, std::string_view dir, const Acl& acl) {
    FixedString<port::kMaxPath> file, next;
    Status st = join_file(dir, kAclFile, &file);
    if (st == Status::Ok) st = join_file(dir, kAclNew, &next);
    if (st != Status::Ok) return st;
    FixedText<kMaxAclFile> text;
    text.put(kAclHeader).put('\n');
    for (std::size_t i = 0; i < acl.count; ++i) {
        write_rights(text, acl.entries[i].rights, false);
        text.put(' ').put(acl.entries[i].id.view()).put('\n');
    }
    if (!text.ok()) return Status::TooLong;
    return replace_file(fs, dir, next.view(), file.view(), text.view());
}

}  // namespace tinyimapd::store
