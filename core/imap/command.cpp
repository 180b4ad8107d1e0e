#include "core/imap/command.h"

#include "core/base/text.h"
#include "core/mail/mailbox_name.h"

namespace tinyimapd::imap {

namespace {

// RFC 2971 §3.3: at most 30 field-value pairs.
constexpr std::size_t kMaxIdPairs = 30;

SyntaxResult bad(const char* why, std::string_view culprit = {}) {
    return {SyntaxVerdict::Bad, why, culprit};
}
SyntaxResult ok() {
    return {};
}

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

// base64 = *(4base64-char) [base64-terminal] (RFC 3501 §9).
bool is_base64(std::string_view s) {
    if (s.size() % 4 != 0) return false;
    std::size_t pad = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '=') {
            ++pad;
            continue;
        }
        if (pad != 0 || !is_base64_char(s[i])) return false;
    }
    return pad <= 2;
}

// mailbox = "INBOX" / astring, in modified UTF-7 (RFC 3501 §5.1.3), or in
// UTF-8 once the session enabled UTF8=ACCEPT (RFC 6855 §3; `*out` stays
// UTF-8: the session converts it, see ParsedCommand). A well-formed name the
// store could never hold ("a//b", "..", too deep or long) is refused here
// with NO, before any command touches storage. CREATE may end a name with
// the delimiter (RFC 3501 §6.3.3).
SyntaxResult read_mailbox(ArgReader& r, std::string_view* out, bool trailing_delimiter = false) {
    const std::string_view culprit = r.peek_text();
    if (!r.astring(out)) return bad("Expected a mailbox name", culprit);
    const char* why = "";
    std::string_view name = *out;
    FixedText<mail::kMaxMailboxName + 1> converted;
    if (r.utf8()) {
        // RFC 6855 §3: UTF-8 (Net-Unicode, no controls) converted to the
        // store's form; '&' is then an ampersand, not modified UTF-7.
        if (!mail::utf8_to_mutf7(name, converted)) {
            return {SyntaxVerdict::No,
                    converted.ok() ? "mailbox name is not valid UTF-8 or holds a control character"
                                   : "mailbox name too long",
                    *out};
        }
        name = converted.view();
    } else if (!mail::validate_mutf7(*out, &why)) {
        // A name that is not modified UTF-7 (raw UTF-8 from a client that
        // does not encode) is a name this server cannot use: NO, as for any
        // other bad name, so a syncing client goes on with the other mailboxes.
        return {SyntaxVerdict::No, why, *out};
    }
    if (trailing_delimiter && name.size() > 1 && name.back() == mail::kHierarchyDelimiter) {
        name = ascii::head(name, name.size() - 1);
    }
    if (!mail::is_valid_mailbox_name(name, mail::kHierarchyDelimiter, &why)) {
        return {SyntaxVerdict::No, why, *out};
    }
    return ok();
}

// list-mailbox = 1*list-char / string; list-char = ATOM-CHAR / list-wildcards
// / resp-specials.
bool read_list_mailbox(ArgReader& r, std::string_view* out) {
    ArgType t;
    if (!r.peek_type(&t)) return false;
    if (t == ArgType::Atom) {
        const std::string_view s = r.peek_text();
        for (char c : s) {
            if (!is_atom_char(c) && c != '%' && c != '*' && c != ']') return false;
        }
        return r.atom(out);
    }
    return r.string(out);
}

SyntaxResult read_set(ArgReader& r, const CommandScratch& scratch, SeqSet* out) {
    std::string_view text;
    if (!r.atom(&text)) return bad("Expected a sequence set", r.peek_text());
    const char* why = "";
    if (!SeqSet::parse(text, scratch.max_set_ranges, out, &why)) return bad(why, text);
    return ok();
}

// A QRESYNC set: "$" (RFC 5182) is refused, the search result variable
// belonging to the mailbox that SELECT leaves (it is reset by SELECT).
SyntaxResult read_qresync_set(ArgReader& r, const CommandScratch& scratch, SeqSet* out) {
    const SyntaxResult s = read_set(r, scratch, out);
    if (s.verdict == SyntaxVerdict::Ok && out->is_last_command()) {
        return bad("$ is not allowed in QRESYNC parameters", "$");
    }
    return s;
}

SyntaxResult no_more(ArgReader& r) {
    if (!r.at_end()) return bad("Unexpected extra arguments", r.peek_text());
    return ok();
}

// SELECT/EXAMINE [SP "(" select-param *(SP select-param) ")"] (RFC 4466
// §2.1, RFC 7162 §3.1.8 CONDSTORE, §3.2.5 QRESYNC).
SyntaxResult read_select_params(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out) {
    ArgReader list(r);
    if (!r.list(&list)) return no_more(r);
    if (list.at_end()) return bad("Empty SELECT parameter list");
    while (!list.at_end()) {
        if (list.word("CONDSTORE")) {
            out->condstore = true;
            continue;
        }
        if (!list.word("QRESYNC")) return bad("Unknown SELECT parameter", list.peek_text());
        ArgReader q(list);
        QresyncParams& p = out->qresync_params;
        if (!list.list(&q) || !q.nz_number(&p.uidvalidity) || !q.number64(&p.modseq) ||
            p.modseq == 0) {
            return bad("Syntax: QRESYNC (uidvalidity modseq [known-uids] [(seqs uids)])");
        }
        ArgType t;
        if (q.peek_type(&t) && t == ArgType::Atom) {
            SyntaxResult s = read_qresync_set(q, scratch, &p.known_uids);
            if (s.verdict != SyntaxVerdict::Ok) return s;
        }
        ArgReader match(q);
        if (q.list(&match)) {
            SyntaxResult s = read_qresync_set(match, scratch, &p.known_sequence_set);
            if (s.verdict == SyntaxVerdict::Ok)
                s = read_qresync_set(match, scratch, &p.known_uid_set);
            if (s.verdict == SyntaxVerdict::Ok) s = no_more(match);
            if (s.verdict != SyntaxVerdict::Ok) return s;
        }
        if (!q.at_end())
            return bad("Syntax: QRESYNC (uidvalidity modseq [known-uids] [(seqs uids)])");
        out->qresync = true;
    }
    return no_more(r);
}

// CREATE mailbox [SP "(" "USE" SP "(" use-attr *(SP use-attr) ")" ")"]
// (RFC 4466 §2.2, RFC 6154 §3).
SyntaxResult read_create_params(ArgReader& r, ParsedCommand* out) {
    ArgReader list(r);
    if (!r.list(&list)) return no_more(r);
    while (!list.at_end()) {
        ArgReader uses(list);
        if (!list.word("USE") || !list.list(&uses)) {
            return bad("Unknown CREATE parameter", list.peek_text());
        }
        std::string_view attr;
        while (uses.atom(&attr)) {
            const std::uint8_t bit = mail::special_use_bit(attr);
            // use-attr-ext = "\" atom: valid syntax; RFC 6154 §3 answers an
            // attribute the server does not know with NO [USEATTR].
            if (bit == 0 && (attr.size() < 2 || attr[0] != '\\')) {
                return bad("Invalid special-use attribute", attr);
            }
            if (bit == 0) out->create_use_unknown = true;
            out->create_use |= bit;
        }
        if (!uses.at_end()) return bad("Expected special-use attributes", uses.peek_text());
    }
    return no_more(r);
}

// LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
// (RFC 3501 §6.3.8, RFC 5258 §3, RFC 6154 §5, RFC 5819 §2).
SyntaxResult read_list(ArgReader& r, ParsedCommand* out) {
    ArgReader opts(r);
    if (r.list(&opts)) {
        std::string_view o;
        while (opts.atom(&o)) {
            if (ascii::iequals(o, "SUBSCRIBED")) {
                out->list_options |= kListSubscribed;
            } else if (ascii::iequals(o, "REMOTE")) {
                out->list_options |= kListRemote;
            } else if (ascii::iequals(o, "RECURSIVEMATCH")) {
                out->list_options |= kListRecursiveMatch;
            } else if (ascii::iequals(o, "SPECIAL-USE")) {
                out->list_options |= kListSpecialUseSel;
            } else {
                return bad("Unknown LIST selection option", o);
            }
        }
        if (!opts.at_end()) return bad("Expected LIST selection options", opts.peek_text());
        // RFC 5258 §3.1: RECURSIVEMATCH needs another selection option.
        if ((out->list_options & kListRecursiveMatch) != 0 &&
            (out->list_options & (kListSubscribed | kListSpecialUseSel)) == 0) {
            return bad("RECURSIVEMATCH needs another selection option");
        }
    }
    // The reference: a mailbox, but may be "" and need not exist.
    if (!r.astring(&out->mailbox)) return bad("Expected a reference name", r.peek_text());
    const char* why = "";
    if (r.utf8()) {
        FixedText<mail::kMaxMailboxName + 1> converted;  // RFC 6855 §3, as read_mailbox
        if (!mail::utf8_to_mutf7(out->mailbox, converted)) {
            return bad("Invalid UTF-8 reference name", out->mailbox);
        }
    } else if (!mail::validate_mutf7(out->mailbox, &why)) {
        return bad(why, out->mailbox);
    }

    ArgReader pats(r);
    std::string_view p;
    if (r.list(&pats)) {
        out->patterns = pats;
        while (!pats.at_end()) {
            if (!read_list_mailbox(pats, &p))
                return bad("Expected a mailbox pattern", pats.peek_text());
            ++out->pattern_count;
        }
        if (out->pattern_count == 0) return bad("Empty pattern list");
    } else {
        out->patterns = r;
        if (!read_list_mailbox(r, &p)) return bad("Expected a mailbox pattern", r.peek_text());
        out->pattern_count = 1;
    }

    if (r.word("RETURN")) {
        ArgReader ret(r);
        if (!r.list(&ret)) return bad("Syntax: RETURN (options)");
        std::string_view o;
        while (ret.atom(&o)) {
            if (ascii::iequals(o, "SUBSCRIBED")) {
                out->list_options |= kListReturnSubscribed;
            } else if (ascii::iequals(o, "CHILDREN")) {
                out->list_options |= kListReturnChildren;
            } else if (ascii::iequals(o, "SPECIAL-USE")) {
                out->list_options |= kListReturnSpecialUse;
            } else if (ascii::iequals(o, "STATUS")) {
                ArgReader items(ret);
                const char* swhy = "";
                if (!ret.list(&items) || !parse_status_atts(items, &out->list_status, &swhy)) {
                    return bad("Syntax: RETURN (STATUS (items))");
                }
                out->list_options |= kListReturnStatus;
            } else {
                return bad("Unknown LIST return option", o);
            }
        }
        if (!ret.at_end()) return bad("Expected LIST return options", ret.peek_text());
    }
    return no_more(r);
}

// ID SP ("(" string SP nstring *(SP string SP nstring) ")" / nil)
SyntaxResult read_id(ArgReader& r, ParsedCommand* out) {
    if (r.word("NIL")) return no_more(r);
    ArgReader list(r);
    if (!r.list(&list)) return bad("Syntax: ID (field value ...) or ID NIL");
    out->rest = list;
    std::size_t pairs = 0;
    while (!list.at_end()) {
        std::string_view field, value;
        bool nil = false;
        if (!list.string(&field) || !list.nstring(&value, &nil)) {
            return bad("Syntax: ID (field value ...) or ID NIL", list.peek_text());
        }
        // RFC 2971 §3.3 limits: 30 octets per field, 1024 per value, 30 pairs.
        if (field.size() > 30 || value.size() > 1024 || ++pairs > kMaxIdPairs) {
            return bad("ID field or value too long, or too many pairs");
        }
    }
    return no_more(r);
}

SyntaxResult read_setquota(ArgReader& r, ParsedCommand* out) {
    if (!r.astring(&out->quota_root)) return bad("Expected a quota root");
    ArgReader list(r);
    if (!r.list(&list)) return bad("Syntax: SETQUOTA root (resource limit ...)");
    out->rest = list;
    std::string_view resource;
    std::uint64_t limit = 0;
    while (!list.at_end()) {
        if (!list.atom(&resource) || !list.number64(&limit)) {
            return bad("Syntax: SETQUOTA root (resource limit ...)", list.peek_text());
        }
    }
    return no_more(r);
}

// APPEND's per-message part: [flag-list SP] [date-time SP] literal, or
// RFC 6855 §4's "UTF8" SP "(" literal8 ")" in place of the literal. Leaves
// `r` at what one skip() passes over: the literal, or UTF8's list. While
// that list's literal is being announced the list is still open (the parser
// closes it after the data): it reads as "()" followed by the literal, and
// `r` is left at the literal; in a `complete` command that form is an error.
SyntaxResult read_append_message(ArgReader& r, AppendMessage* m, bool complete) {
    ArgType t;
    if (r.peek_type(&t) && t == ArgType::List) {
        if (!parse_flag_list(r, false, false, &m->flags)) {
            return bad(*r.error() ? r.error() : "Invalid flag list");
        }
        m->has_flags = true;
    }
    if (r.peek_type(&t) && t == ArgType::Quoted) {
        std::string_view d;
        if (!r.quoted(&d) || !parse_date_time(d, &m->date)) return bad("Invalid date-time", d);
        m->has_date = true;
    }
    if (r.word("UTF8")) {
        ArgReader after = r;
        ArgReader inner(r);
        if (!after.list(&inner)) return bad("Syntax: UTF8 (~{size})", r.peek_text());
        m->utf8 = true;
        if (inner.peek_type(&t) && (t == ArgType::Literal || t == ArgType::Streamed)) {
            (void)inner.skip();
            if (!inner.at_end()) return bad("UTF8 takes one message literal");
            return ok();
        }
        if (complete || !inner.at_end()) return bad("Syntax: UTF8 (~{size})");
        (void)r.skip();  // the open list; its literal follows
    }
    if (!r.peek_type(&t) || (t != ArgType::Literal && t != ArgType::Streamed)) {
        return bad("Syntax: APPEND mailbox [(flags)] [\"date-time\"] {size}", r.peek_text());
    }
    return ok();
}

// RFC 8508 §5: replace = "REPLACE" SP seq-number SP mailbox append-message
// (the UID form's seq-number is a UID). Leaves `r` at the message.
SyntaxResult read_replace_target(ArgReader& r, AppendTarget* t) {
    t->replace = true;
    std::string_view n;
    if (!r.atom(&n)) return bad("Syntax: REPLACE number mailbox [(flags)] [\"date-time\"] {size}");
    t->star = n == "*";
    if (!t->star && !parse_number(n, &t->number)) return bad("Invalid message number", n);
    if (!t->star && (t->number == 0 || n[0] == '0')) return bad("Invalid message number", n);
    return read_mailbox(r, &t->mailbox);
}

// ---- the grammar of each command (RFC 3501 §9 "command-*"), by name ----

// CAPABILITY NOOP LOGOUT STARTTLS NAMESPACE IDLE CHECK CLOSE UNSELECT.
SyntaxResult parse_no_args(ArgReader& r, const CommandScratch&, ParsedCommand*) {
    return no_more(r);
}

// RFC 3501 §6.4.3; RFC 4315 §2.1 UID EXPUNGE sequence-set.
SyntaxResult parse_expunge(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out) {
    if (out->uid) {
        const SyntaxResult s = read_set(r, scratch, &out->set);
        if (s.verdict != SyntaxVerdict::Ok) return s;
    }
    return no_more(r);
}

// RFC 5267 §4.3.5: "CANCELUPDATE" 1*(SP quoted); the tags are walked by
// the handler from `rest`.
SyntaxResult parse_cancelupdate(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    out->rest = r;
    std::size_t count = 0;
    while (!r.at_end()) {
        std::string_view tag;
        if (!r.quoted(&tag)) return bad("CANCELUPDATE takes quoted tags", r.peek_text());
        ++count;
    }
    if (count == 0) return bad("CANCELUPDATE needs at least one tag");
    return ok();
}

SyntaxResult parse_id(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    return read_id(r, out);
}

SyntaxResult parse_login(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    if (!r.astring(&out->user) || !r.astring(&out->password) || !r.at_end()) {
        return bad("Syntax: LOGIN userid password");
    }
    return ok();
}

// RFC 3501 §6.2.2 auth-type = atom; RFC 4959 [SP (base64 / "=")].
SyntaxResult parse_authenticate(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    if (!r.atom(&out->mechanism) || !is_atom(out->mechanism)) {
        return bad("Syntax: AUTHENTICATE mechanism [initial-response]");
    }
    std::string_view ir;
    if (r.atom(&ir)) {
        if (ir != "=" && !is_base64(ir)) return bad("Initial response is not base64", ir);
        out->has_initial_response = true;
        out->initial_response = ir == "=" ? std::string_view() : ir;
    }
    return no_more(r);
}

// SELECT and EXAMINE: mailbox [select-params] (RFC 7162 §3.1.8, §3.2.5).
SyntaxResult parse_select(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out) {
    const SyntaxResult s = read_mailbox(r, &out->mailbox);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    return read_select_params(r, scratch, out);
}

SyntaxResult parse_create(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    const SyntaxResult s = read_mailbox(r, &out->mailbox, true);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    return read_create_params(r, out);
}

// GETQUOTAROOT, and DELETE SUBSCRIBE UNSUBSCRIBE below: one mailbox.
SyntaxResult parse_mailbox(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    const SyntaxResult s = read_mailbox(r, &out->mailbox);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    return no_more(r);
}

// DELETE SUBSCRIBE UNSUBSCRIBE. RFC 2062 §6.3.OBS.3-4: "SUBSCRIBE MAILBOX
// name" is SUBSCRIBE name (and "SUBSCRIBE MAILBOX" alone subscribes a
// mailbox so named).
SyntaxResult parse_mailbox_obs(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out) {
    if (r.remaining() == 2) (void)r.word("MAILBOX");
    return parse_mailbox(r, scratch, out);
}

SyntaxResult parse_getquota(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    if (!r.astring(&out->quota_root)) return bad("Expected a quota root");
    return no_more(r);
}

SyntaxResult parse_setquota(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    return read_setquota(r, out);
}

SyntaxResult parse_rename(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    SyntaxResult s = read_mailbox(r, &out->mailbox);
    if (s.verdict == SyntaxVerdict::Ok) s = read_mailbox(r, &out->mailbox2);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    return no_more(r);
}

SyntaxResult parse_list(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    return read_list(r, out);
}

// RFC 2062: "FIND" SP ["ALL."] "MAILBOXES" SP list_mailbox; the reference is
// empty. ALL.MAILBOXES lists all, MAILBOXES the subscribed ones
// (list_options carries kListSubscribed).
SyntaxResult parse_find(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    if (r.word("MAILBOXES")) {
        out->list_options = kListSubscribed;
    } else if (!r.word("ALL.MAILBOXES")) {
        return bad("Syntax: FIND [ALL.]MAILBOXES pattern");
    }
    out->mailbox = {};
    out->patterns = r;
    std::string_view p;
    if (!read_list_mailbox(r, &p)) return bad("Expected a mailbox pattern", r.peek_text());
    out->pattern_count = 1;
    return no_more(r);
}

SyntaxResult parse_lsub(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    if (!r.astring(&out->mailbox)) return bad("Expected a reference name");
    out->patterns = r;
    std::string_view p;
    if (!read_list_mailbox(r, &p)) return bad("Expected a mailbox pattern", r.peek_text());
    out->pattern_count = 1;
    return no_more(r);
}

SyntaxResult parse_status(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    const SyntaxResult s = read_mailbox(r, &out->mailbox);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    ArgReader items(r);
    if (!r.list(&items)) return bad("Syntax: STATUS mailbox (items)");
    const char* why = "";
    if (!parse_status_atts(items, &out->status, &why)) return bad(why, out->status.error_at);
    return no_more(r);
}

// RFC 3501 §6.3.11, RFC 3502: mailbox 1*([flags] [date] literal).
SyntaxResult parse_append(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    SyntaxResult s = read_mailbox(r, &out->mailbox);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    do {
        AppendMessage m;
        s = read_append_message(r, &m, true);
        if (s.verdict != SyntaxVerdict::Ok) return s;
        r.skip();
        ++out->append_count;
    } while (!r.at_end());
    return ok();
}

// RFC 8508 §3.2, §3.3: [UID] REPLACE number mailbox [flags] [date] literal.
SyntaxResult parse_replace(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    out->replace.uid = out->uid;
    SyntaxResult s = read_replace_target(r, &out->replace);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    out->mailbox = out->replace.mailbox;
    AppendMessage m;
    s = read_append_message(r, &m, true);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    r.skip();
    out->append_count = 1;
    return no_more(r);  // §4.7: one message
}

// RFC 4978 §3: COMPRESS SP algorithm (an atom; the handler knows DEFLATE).
SyntaxResult parse_compress(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    if (!r.atom(&out->mechanism)) return bad("Syntax: COMPRESS DEFLATE");
    return no_more(r);
}

// RFC 5161: ENABLE 1*(SP capability)
SyntaxResult parse_enable(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    out->rest = r;
    std::string_view cap;
    std::size_t n = 0;
    while (r.atom(&cap)) {
        if (!is_atom(cap)) return bad("Invalid capability name", cap);
        ++n;
    }
    if (n == 0) return bad("Syntax: ENABLE capability ...");
    return no_more(r);
}

SyntaxResult parse_search_command(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out) {
    SearchError e;
    if (!parse_search(r, scratch.search_nodes, scratch.max_search_nodes, scratch.max_set_ranges,
                      &out->search, &out->search_node_count, &e)) {
        if (e.bad_charset) return {SyntaxVerdict::BadCharset, e.why, e.culprit};
        return bad(e.why, e.culprit);
    }
    return ok();
}

// RFC 5256 §5: after the sort criteria or the algorithm, a mandatory
// charset (US-ASCII and UTF-8: anything else is NO [BADCHARSET], after the
// criteria were checked) and SEARCH's criteria, without SEARCH's RETURN or
// CHARSET (SORT's RETURN comes before its criteria: parse_sort).
SyntaxResult parse_charset_and_search(ArgReader& r, const CommandScratch& scratch,
                                      ParsedCommand* out) {
    std::string_view charset;
    if (!r.astring(&charset)) return bad("Expected a charset", r.peek_text());
    const SyntaxResult s = parse_search_command(r, scratch, out);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    if (out->search.esearch || !out->search.charset.empty()) {
        return bad("RETURN and CHARSET are not search keys here");
    }
    out->search.charset = charset;
    if (!ascii::iequals(charset, "US-ASCII") && !ascii::iequals(charset, "UTF-8")) {
        return {SyntaxVerdict::BadCharset, "Unsupported charset", charset};
    }
    return ok();
}

// RFC 5256 §5: SORT sort-criteria SP search-criteria; RFC 5957 keys;
// RFC 5267 §5 extended-sort: SORT search-return-opts SP sort-criteria ...
SyntaxResult parse_sort(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out) {
    SearchOptions ret;
    const bool extended = r.word("RETURN");
    if (extended) {
        SearchError e;
        if (!parse_search_return(r, &ret, &e)) return bad(e.why, e.culprit);
    }
    const char* why = "";
    if (!parse_sort_criteria(r, &out->sort, &why)) return bad(why, out->sort.error_at);
    const SyntaxResult s = parse_charset_and_search(r, scratch, out);
    if (extended) {
        out->search.esearch = true;
        out->search.return_mask = ret.return_mask;
        out->search.partial_first = ret.partial_first;
        out->search.partial_last = ret.partial_last;
        out->search.context = ret.context;
        out->search.update = ret.update;
    }
    return s;
}

// RFC 5256 §5: THREAD thread-alg SP search-criteria. An algorithm we do not
// know is NO, once the rest is known to be well formed.
SyntaxResult parse_thread(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out) {
    const std::string_view alg = r.peek_text();
    if (!parse_thread_algorithm(r, &out->thread)) return bad("THREAD needs an algorithm", alg);
    const SyntaxResult s = parse_charset_and_search(r, scratch, out);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    if (out->thread == ThreadAlgorithm::Unknown) {
        return {SyntaxVerdict::No, "Unknown threading algorithm", alg};
    }
    return ok();
}

SyntaxResult parse_fetch(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out) {
    const SyntaxResult s = read_set(r, scratch, &out->set);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    const char* why = "";
    if (!parse_fetch_spec(r, scratch.fetch_items, scratch.max_fetch_items, &out->fetch, &why)) {
        return bad(why, out->fetch.error_at);
    }
    // RFC 7162 §3.2.6: VANISHED only with UID FETCH and CHANGEDSINCE.
    if (out->fetch.vanished && (!out->uid || !out->fetch.changedsince)) {
        return bad("VANISHED needs UID FETCH and CHANGEDSINCE");
    }
    return no_more(r);
}

SyntaxResult parse_store(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out) {
    const SyntaxResult s = read_set(r, scratch, &out->set);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    const char* why = "";
    if (!parse_store_spec(r, &out->store, &why)) return bad(why);
    ArgReader flags = out->store.flags;
    if (!parse_flag_list(flags, false, !out->store.flags_in_list, &out->flags)) {
        return bad(*flags.error() ? flags.error() : "Invalid flags");
    }
    return ok();
}

// COPY and MOVE (RFC 6851): sequence-set SP mailbox.
SyntaxResult parse_copy(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out) {
    SyntaxResult s = read_set(r, scratch, &out->set);
    if (s.verdict == SyntaxVerdict::Ok) s = read_mailbox(r, &out->mailbox);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    return no_more(r);
}

// ---- NOTIFY (RFC 5465 §8) ----------------------------------------------------

// events = ( "(" event *(SP event) ")" ) / "NONE"; MessageNew may carry a
// "(" fetch-att *(SP fetch-att) ")".
SyntaxResult read_notify_events(ArgReader& r, const CommandScratch& scratch, NotifySpec* spec,
                                NotifyGroup* g) {
    if (r.word("NONE")) return ok();
    ArgReader list(r);
    if (!r.list(&list) || list.at_end()) return bad("Expected NONE or a list of events");
    std::string_view name;
    while (list.atom(&name)) {
        if (ascii::iequals(name, "MessageNew")) {
            g->events |= kNotifyMessageNew;
            ArgReader atts(list);
            if (!list.list(&atts)) continue;
            if (spec->fetch_count != 0) return bad("MessageNew's fetch attributes given twice");
            spec->fetch_atts = atts;
            spec->fetch_group = static_cast<std::size_t>(g - spec->groups);
            std::string_view text;
            while (atts.atom(&text)) {
                if (spec->fetch_count == scratch.max_fetch_items) {
                    return bad("Too many fetch attributes");
                }
                const char* why = "";
                FetchItem& item = scratch.fetch_items[spec->fetch_count++];
                if (!parse_fetch_att(text, &item, &why)) return bad(why, text);
            }
            if (!atts.at_end() || spec->fetch_count == 0) {
                return bad("Expected fetch attributes", atts.peek_text());
            }
        } else if (ascii::iequals(name, "MessageExpunge")) {
            g->events |= kNotifyMessageExpunge;
        } else if (ascii::iequals(name, "FlagChange")) {
            g->events |= kNotifyFlagChange;
        } else if (ascii::iequals(name, "MailboxName")) {
            g->events |= kNotifyMailboxName;
        } else if (ascii::iequals(name, "SubscriptionChange")) {
            g->events |= kNotifySubscriptionChange;
        } else if (ascii::iequals(name, "MailboxMetadataChange")) {
            g->events |= kNotifyMailboxMetadataChange;
        } else if (ascii::iequals(name, "ServerMetadataChange")) {
            g->events |= kNotifyServerMetadataChange;
        } else if (ascii::iequals(name, "AnnotationChange")) {
            // §5: it needs MessageNew and MessageExpunge too (BAD first).
            g->events |= kNotifyFlagChange;
            spec->bad_event = true;
        } else {
            spec->bad_event = true;  // §3.1: NO [BADEVENT], not BAD
        }
    }
    if (!list.at_end()) return bad("Expected an event name", list.peek_text());
    // §5: FlagChange needs both message events; either needs the other.
    const std::uint8_t m = g->events & kNotifyMessageEvents;
    if (m != 0 && (m & (kNotifyMessageNew | kNotifyMessageExpunge)) !=
                      (kNotifyMessageNew | kNotifyMessageExpunge)) {
        return bad("MessageNew and MessageExpunge go together, and FlagChange needs both");
    }
    // §6.1: SELECTED and SELECTED-DELAYED take message events only.
    const bool selected =
        g->filter == NotifyFilter::Selected || g->filter == NotifyFilter::SelectedDelayed;
    if (selected && (g->events & ~kNotifyMessageEvents) != 0) {
        return bad("SELECTED takes message events only");
    }
    return ok();
}

// event-group = "(" filter-mailboxes SP events ")".
SyntaxResult read_notify_group(ArgReader& r, const CommandScratch& scratch, NotifySpec* spec,
                               bool* had_selected) {
    ArgReader in(r);
    if (!r.list(&in)) return bad("Expected an event group", r.peek_text());
    if (spec->group_count == NotifySpec::kMaxGroups) return bad("Too many event groups");
    NotifyGroup& g = spec->groups[spec->group_count++];
    struct Name {
        const char* text;
        NotifyFilter filter;
    };
    static constexpr Name kFilters[] = {{"SELECTED", NotifyFilter::Selected},
                                        {"SELECTED-DELAYED", NotifyFilter::SelectedDelayed},
                                        {"PERSONAL", NotifyFilter::Personal},
                                        {"INBOXES", NotifyFilter::Inboxes},
                                        {"SUBSCRIBED", NotifyFilter::Subscribed},
                                        {"SUBTREE", NotifyFilter::Subtree},
                                        {"MAILBOXES", NotifyFilter::Mailboxes}};
    std::string_view word;
    bool known = false;
    if (in.atom(&word)) {
        for (const Name& n : kFilters) {
            if (!ascii::iequals(word, n.text)) continue;
            g.filter = n.filter;
            known = true;
        }
    }
    if (!known) return bad("Expected a mailbox filter (SELECTED, PERSONAL, SUBTREE ...)", word);
    if (g.filter == NotifyFilter::Selected || g.filter == NotifyFilter::SelectedDelayed) {
        if (*had_selected) return bad("Only one SELECTED or SELECTED-DELAYED group is allowed");
        *had_selected = true;
    }
    if (g.filter == NotifyFilter::Subtree || g.filter == NotifyFilter::Mailboxes) {
        // one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
        ArgReader names(in);
        std::string_view one;
        if (in.list(&names)) {
            g.names = names;
            while (names.astring(&one)) ++g.name_count;
            if (!names.at_end() || g.name_count == 0) return bad("Expected mailbox names");
        } else {
            g.names = in;
            if (!in.astring(&one)) return bad("Expected a mailbox name", in.peek_text());
            g.name_count = 1;
        }
    }
    const SyntaxResult s = read_notify_events(in, scratch, spec, &g);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    if (!in.at_end()) return bad("Unexpected text in an event group", in.peek_text());
    return ok();
}

SyntaxResult parse_notify(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out) {
    NotifySpec& spec = out->notify;
    if (r.word("NONE")) {
        spec.none = true;
        return no_more(r);
    }
    if (!r.word("SET")) {
        return bad("Syntax: NOTIFY SET [STATUS] (filter events) ... or NOTIFY NONE");
    }
    spec.status = r.word("STATUS");
    bool had_selected = false;
    while (!r.at_end()) {
        const SyntaxResult s = read_notify_group(r, scratch, &spec, &had_selected);
        if (s.verdict != SyntaxVerdict::Ok) return s;
    }
    if (spec.group_count == 0) return bad("NOTIFY SET needs at least one event group");
    return ok();
}

// ---- METADATA (RFC 5464 §5) ---------------------------------------------------

// mailbox, or "" for the server's entries (§4.1).
SyntaxResult read_metadata_mailbox(ArgReader& r, std::string_view* out) {
    ArgType t;
    if (r.peek_type(&t) && t != ArgType::Atom && t != ArgType::List && r.peek_text().empty()) {
        (void)r.string(out);
        return ok();
    }
    return read_mailbox(r, out);
}

// "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries. The
// examples of RFC 5464 §4.2.1 and §4.2.2 put the options after the mailbox
// (as Cyrus accepts): a list there followed by entries is read as options.
SyntaxResult parse_getmetadata(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    const char* why = "";
    ArgType t;
    const bool options_first = r.peek_type(&t) && t == ArgType::List;
    if (!parse_getmetadata_options(r, &out->metadata, &why)) return bad(why);
    const SyntaxResult s = read_metadata_mailbox(r, &out->mailbox);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    if (!options_first && r.remaining() == 2 && r.peek_type(&t) && t == ArgType::List &&
        !parse_getmetadata_options(r, &out->metadata, &why)) {
        return bad(why);
    }
    if (!parse_metadata_entries(r, &out->metadata, &why)) return bad(why);
    return no_more(r);
}

// "SETMETADATA" SP mailbox SP entry-values.
SyntaxResult parse_setmetadata(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    const SyntaxResult s = read_metadata_mailbox(r, &out->mailbox);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    const char* why = "";
    if (!parse_metadata_values(r, &out->metadata, &why)) return bad(why);
    return no_more(r);
}

// RFC 4314 §9: SETACL mailbox identifier mod-rights, DELETEACL and
// LISTRIGHTS mailbox identifier, GETACL and MYRIGHTS mailbox.
SyntaxResult parse_acl(ArgReader& r, const CommandScratch&, ParsedCommand* out) {
    const SyntaxResult s = read_mailbox(r, &out->mailbox);
    if (s.verdict != SyntaxVerdict::Ok) return s;
    const CommandId id = out->id;
    if (id == CommandId::SetAcl || id == CommandId::DeleteAcl || id == CommandId::ListRights) {
        if (!r.astring(&out->acl_identifier)) return bad("Expected an identifier", r.peek_text());
    }
    if (id == CommandId::SetAcl && !r.astring(&out->acl_rights)) {
        return bad("Expected the rights", r.peek_text());
    }
    return no_more(r);
}

// The command table: name, id, states (RFC 3501 §3), UID form, grammar.
constexpr CommandInfo kCommands[] = {
    {"CAPABILITY", CommandId::Capability, kStateAny, false, parse_no_args},
    {"NOOP", CommandId::Noop, kStateAny, false, parse_no_args},
    {"LOGOUT", CommandId::Logout, kStateAny, false, parse_no_args},
    {"ID", CommandId::Id, kStateAny, false, parse_id},
    {"STARTTLS", CommandId::Starttls, kStateNotAuth, false, parse_no_args},
    {"AUTHENTICATE", CommandId::Authenticate, kStateNotAuth, false, parse_authenticate},
    {"LOGIN", CommandId::Login, kStateNotAuth, false, parse_login},
    {"SELECT", CommandId::Select, kStateAuthOrSelected, false, parse_select},
    {"EXAMINE", CommandId::Examine, kStateAuthOrSelected, false, parse_select},
    {"CREATE", CommandId::Create, kStateAuthOrSelected, false, parse_create},
    {"DELETE", CommandId::Delete, kStateAuthOrSelected, false, parse_mailbox_obs},
    {"RENAME", CommandId::Rename, kStateAuthOrSelected, false, parse_rename},
    {"SUBSCRIBE", CommandId::Subscribe, kStateAuthOrSelected, false, parse_mailbox_obs},
    {"UNSUBSCRIBE", CommandId::Unsubscribe, kStateAuthOrSelected, false, parse_mailbox_obs},
    {"LIST", CommandId::List, kStateAuthOrSelected, false, parse_list},
    {"LSUB", CommandId::Lsub, kStateAuthOrSelected, false, parse_lsub},
    {"STATUS", CommandId::Status, kStateAuthOrSelected, false, parse_status},
    {"APPEND", CommandId::Append, kStateAuthOrSelected, false, parse_append},
    {"NAMESPACE", CommandId::Namespace, kStateAuthOrSelected, false, parse_no_args},
    {"ENABLE", CommandId::Enable, kStateAuth, false, parse_enable},
    {"IDLE", CommandId::Idle, kStateAuthOrSelected, false, parse_no_args},
    {"GETQUOTA", CommandId::GetQuota, kStateAuthOrSelected, false, parse_getquota},
    {"GETQUOTAROOT", CommandId::GetQuotaRoot, kStateAuthOrSelected, false, parse_mailbox},
    {"SETQUOTA", CommandId::SetQuota, kStateAuthOrSelected, false, parse_setquota},
    {"FIND", CommandId::Find, kStateAuthOrSelected, false, parse_find},
    {"CHECK", CommandId::Check, kStateSelected, false, parse_no_args},
    {"CLOSE", CommandId::Close, kStateSelected, false, parse_no_args},
    {"UNSELECT", CommandId::Unselect, kStateSelected, false, parse_no_args},
    {"EXPUNGE", CommandId::Expunge, kStateSelected, true, parse_expunge},
    {"SEARCH", CommandId::Search, kStateSelected, true, parse_search_command},
    {"FETCH", CommandId::Fetch, kStateSelected, true, parse_fetch},
    {"STORE", CommandId::Store, kStateSelected, true, parse_store},
    {"COPY", CommandId::Copy, kStateSelected, true, parse_copy},
    {"MOVE", CommandId::Move, kStateSelected, true, parse_copy},
    {"UNAUTHENTICATE", CommandId::Unauthenticate, kStateAuthOrSelected, false, parse_no_args},
    {"SORT", CommandId::Sort, kStateSelected, true, parse_sort},
    {"THREAD", CommandId::Thread, kStateSelected, true, parse_thread},
    {"REPLACE", CommandId::Replace, kStateSelected, true, parse_replace},  // RFC 8508 §3.5
    {"COMPRESS", CommandId::Compress, kStateAuthOrSelected, false, parse_compress},
    {"NOTIFY", CommandId::Notify, kStateAuthOrSelected, false, parse_notify},
    {"CANCELUPDATE", CommandId::CancelUpdate, kStateSelected, false, parse_cancelupdate},
    {"GETMETADATA", CommandId::GetMetadata, kStateAuthOrSelected, false, parse_getmetadata},
    {"SETMETADATA", CommandId::SetMetadata, kStateAuthOrSelected, false, parse_setmetadata},
    {"SETACL", CommandId::SetAcl, kStateAuthOrSelected, false, parse_acl},
    {"DELETEACL", CommandId::DeleteAcl, kStateAuthOrSelected, false, parse_acl},
    {"GETACL", CommandId::GetAcl, kStateAuthOrSelected, false, parse_acl},
    {"LISTRIGHTS", CommandId::ListRights, kStateAuthOrSelected, false, parse_acl},
    {"MYRIGHTS", CommandId::MyRights, kStateAuthOrSelected, false, parse_acl},
};
static_assert(sizeof kCommands / sizeof kCommands[0] == kCommandCount);

}  // namespace

const CommandInfo* find_command(std::string_view name) {
    for (const CommandInfo& c : kCommands) {
        if (ascii::iequals(name, c.name)) return &c;
    }
    return nullptr;
}

const CommandInfo& command_info(CommandId id) {
    return kCommands[static_cast<std::size_t>(id)];
}

const CommandInfo* literal_command(const Parser& parser, bool* uid) {
    *uid = false;
    if (!ascii::iequals(parser.name(), "UID")) return find_command(parser.name());
    ArgReader r(parser);
    std::string_view sub;
    if (!r.atom(&sub) || !ascii::iequals(sub, "REPLACE")) return nullptr;
    *uid = true;
    return &command_info(CommandId::Replace);
}

SyntaxResult append_message_ready(const Parser& parser, AppendMessage* message,
                                  AppendTarget* target) {
    ArgReader r(parser);
    AppendTarget t;
    bool uid = false;
    const CommandInfo* info = literal_command(parser, &uid);
    SyntaxResult s;
    if (info != nullptr && info->id == CommandId::Replace) {
        if (uid) r.skip();  // "REPLACE" after "UID"
        t.uid = uid;
        s = read_replace_target(r, &t);
    } else {
        s = read_mailbox(r, &t.mailbox);
    }
    while (s.verdict == SyntaxVerdict::Ok) {
        *message = AppendMessage{};
        s = read_append_message(r, message, false);
        if (s.verdict != SyntaxVerdict::Ok) break;
        r.skip();
        if (r.at_end()) break;  // that literal is the one being announced
        if (t.replace) return bad("REPLACE takes one message");  // RFC 8508 §4.7
    }
    if (target != nullptr) *target = t;
    return s;
}

SyntaxResult parse_command(const Parser& parser, const CommandScratch& scratch,
                           ParsedCommand* out) {
    ArgReader r(parser);
    const CommandInfo* info = find_command(parser.name());
    bool uid = false;
    if (info == nullptr && ascii::iequals(parser.name(), "UID")) {
        // RFC 3501 §6.4.8, RFC 4315 §2.1 (UID EXPUNGE), RFC 6851 (UID MOVE).
        std::string_view sub;
        if (!r.atom(&sub) || (info = find_command(sub)) == nullptr || !info->uid_form) {
            return bad(
                "UID must be followed by COPY, FETCH, MOVE, SEARCH, SORT, STORE, THREAD, EXPUNGE "
                "or REPLACE",
                sub);
        }
        uid = true;
    }
    if (info == nullptr) return {SyntaxVerdict::Unknown, "Unknown command", parser.name()};
    out->info = info;
    out->id = info->id;
    out->uid = uid;
    return info->parse(r, scratch, out);
}

}  // namespace tinyimapd::imap
