// SimClock is header-only; this unit keeps the library non-empty and checks
// that the header stands alone.
#include "platforms/sim/sim_clock.h"
