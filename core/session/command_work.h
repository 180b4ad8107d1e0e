// CommandWork: the state a FETCH or SEARCH job keeps while it answers over
// several turns (the BODY/TEXT walk and its matcher, the PREVIEW text, the
// ENVELOPE/BODYSTRUCTURE writer, the BODY[section] lookup). It lives in the
// command block the command borrows (core/session/command_pool.h), not in
// every Session (issue 13: memory per slot): a job holds its block until it
// ends. NOTIFY's MessageNew FETCH, which runs between commands, borrows a
// block for its job too (none free: it is tried again at the next beat).
//
// Constructed in place the first time its block is lent; each use starts
// its part afresh (start/reset), so nothing carries from one command, or
// one session, to the next.
#pragma once

#include "core/imap/bodystructure.h"
#include "core/imap/section.h"
#include "core/mime/preview.h"
#include "core/mime/text_search.h"

namespace tinyimapd::session {

struct CommandWork {
    mime::TextMatcher walk_matcher;  // the BODY/TEXT key of text_walk
    mime::TextWalk text_walk;        // SEARCH BODY/TEXT, FETCH PREVIEW
    mime::PreviewText preview;       // FETCH PREVIEW (RFC 8970): the text gathered
    imap::StructureWriter structure;
    imap::SectionFinder section_finder;
};

}  // namespace tinyimapd::session
