#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast of -1 to a function pointer, which Swift does
// not import: binding a value with it makes SQLite take its own copy.
static inline void (*apimetrics_sqlite_transient(void))(void *) {
    return (void (*)(void *))-1;
}
