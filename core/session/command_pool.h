// CommandPool: the memory one command needs while it is read and answered
// (the parser's arena and argument array, FETCH items, SEARCH nodes), in
// blocks shared by all connections instead of one set per slot (issue 13).
//
// A session borrows a block when the first complete line of a command is
// there to parse (or 1 KiB of one without its end: a long line), keeps it
// while the command's bytes arrive and while its job answers, and gives it
// back once it is between commands again (and while IDLE waits for DONE).
// When none is free the session takes no input: the bytes wait in the
// slot's input buffer (TCP pushes back on that client only) and the command
// is parsed, whole, once a block is given back; nothing is answered early,
// cut or executed in part. The server wakes such sessions when a block is
// free (Session::wants_block).
//
// What the pool owns: `count` CommandBlocks, each with pointers into the
// server's startup block, and a stack of the free ones. No allocation.
#pragma once

#include <cstddef>

#include "core/imap/fetch_spec.h"
#include "core/imap/parser.h"
#include "core/imap/search_program.h"
#include "core/session/protocol_names.h"

namespace tinyimapd::session {

struct CommandWork;  // core/session/command_work.h

struct CommandBlock {
    char* arena = nullptr;
    Arg* args = nullptr;
    FetchItem* fetch_items = nullptr;
    SearchNode* search_nodes = nullptr;
    CommandWork* work = nullptr;  // raw storage until work_built
    bool work_built = false;      // *work was constructed (the first time lent)
};

class CommandPool {
public:
    // `blocks` and `free_list` hold `count` entries each; every block's
    // pointers are set (buffers of the sizes SessionMemory gives).
    void init(CommandBlock* blocks, CommandBlock** free_list, std::size_t count) {
        free_ = free_list;
        count_ = count;
        free_count_ = count;
        for (std::size_t i = 0; i < count; ++i) free_[i] = &blocks[count - 1 - i];
    }
    // A free block, or nullptr when all are lent.
    CommandBlock* take() { return free_count_ == 0 ? nullptr : free_[--free_count_]; }
    void give(CommandBlock* b) {
        if (b != nullptr && free_count_ < count_) free_[free_count_++] = b;
    }
    std::size_t free_count() const { return free_count_; }
    std::size_t size() const { return count_; }

private:
    CommandBlock** free_ = nullptr;
    std::size_t count_ = 0;
    std::size_t free_count_ = 0;
};

}  // namespace tinyimapd::session
