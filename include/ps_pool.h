/* ps_pool.h: a fixed set of read handles on one database, for programs
 * that search from several threads (policy-serve, a C backend).  Xapian
 * objects are not thread-safe, so each thread checks a handle out, uses it
 * alone, and checks it back in.  Checking out also brings the handle to the
 * database's latest commit (cheap when nothing changed), so newly indexed
 * files appear without a restart; a database replaced by
 * `policy-index --optimize` (a new directory swapped in) is opened afresh. */
#ifndef PS_POOL_H
#define PS_POOL_H

#include <stddef.h>
#include "ps_error.h"
#include "ps_index.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ps_pool ps_pool;

/* Opens n (>= 1) read handles on the database in dir.  Fails as
 * ps_index_open (PS_ERR_NOTFOUND when there is no database yet).  Release
 * with ps_pool_close (accepts NULL) once every handle is back. */
int ps_pool_open(const char *dir, size_t n, ps_pool **out, ps_error *err);
void ps_pool_close(ps_pool *p);

/* Checks a handle out, waiting while all are in use, and moves it to the
 * latest commit.  The handle is the caller's alone until ps_pool_put; on an
 * error (the database vanished or is damaged) nothing is checked out. */
int ps_pool_get(ps_pool *p, ps_index **ix, ps_error *err);

/* Checks back in a handle obtained from ps_pool_get.  Pointers borrowed
 * from it must not be used afterwards. */
void ps_pool_put(ps_pool *p, ps_index *ix);

/* The database directory the pool was opened on (borrowed). */
const char *ps_pool_dir(const ps_pool *p);

#ifdef __cplusplus
}
#endif
#endif
