/*
** mb_sqlsafe.h -- what SQL may make MemBase open or change (the contract:
** docs/SECURITY.md). Three guards at the SQL boundary, used by ext/ and
** vtab/:
**  - path arguments: TEXT without a NUL byte, or an error naming the
**    argument;
**  - the own-SQL rule: a function that changes process state or touches
**    the file system acts only when a statement running on the connection
**    names it in its own SQL text (so never when a schema object, such as
**    a CHECK constraint that SQLite 3.40 lets run DIRECTONLY functions,
**    calls it);
**  - tables from a database schema: a membase or membase_lines table that
**    the database file declares (not TEMP, not created by this connection)
**    opens only when the connection trusts its schema and the file lies
**    inside the file policy.
*/
#ifndef MB_SQLSAFE_H
#define MB_SQLSAFE_H

#include "sqlite3ext.h"

/*
** The path in argument v of WHO, named ARG in messages. SQLITE_OK with
** *pz the text (valid while v is), or NULL for an SQL NULL (the caller
** decides what NULL means). Anything but TEXT, or TEXT with a NUL byte, is
** SQLITE_ERROR with *pzErr (sqlite3_malloc) saying so:
**   WHO: ARG must be TEXT (a file path), not BLOB
**   WHO: ARG contains a NUL byte at offset 11: "/secret.txt"
*/
int mb_sql_path(sqlite3_value *v, const char *zWho, const char *zArg,
                const char **pz, char **pzErr);

/* The same for a function: on error the result of ctx is set and NULL is
** returned; *pbNull tells an SQL NULL from an error. */
const char *mb_sql_path_arg(sqlite3_context *ctx, sqlite3_value *v,
                            const char *zWho, const char *zArg, int *pbNull);

/*
** The own-SQL rule for function zName: 1 when a statement running on the
** connection names it in its SQL text; otherwise the result of ctx is the
** error "unsafe use of NAME(): called by a schema object (such as a CHECK
** constraint), not by the statement's own SQL" and 0 is returned.
*/
int mb_sql_called_directly(sqlite3_context *ctx, const char *zName);

/* ---------------------------------------------------- schema-borne tables */

/* Per connection and module: the tables this connection created itself
** (xCreate), each as the database file that holds it, its name and its
** declaration; such a table is not schema-borne when it is connected
** again (after a schema reload). A table renamed since is. The module's
** client data (sqlite3_create_module_v2 with mb_trust_free). */
typedef struct MbTrust MbTrust;
MbTrust *mb_trust_new(void);
void mb_trust_free(void *p);

/*
** Call from xCreate (bCreate 1) and xConnect (0) of a module that opens the
** file zFile (NULL: the eponymous form, no file yet) for table argv[2] in
** schema argv[1]. SQLITE_OK, or SQLITE_ERROR with *pzErr naming the table,
** the schema, the reason and the way to allow it, when the table comes
** from the database schema and the connection does not trust it, or its
** file lies outside the file policy. xCreate records the declaration as
** this connection's own.
*/
int mb_sql_table_allowed(MbTrust *pTrust, sqlite3 *db, int bCreate,
                         const char *zWho, int argc, const char *const *argv,
                         const char *zFile, char **pzErr);

/* For a module whose xCreate must be its xConnect (an eponymous table):
** is the statement running on db the CREATE VIRTUAL TABLE of this very
** table (module argv[0], arguments argv[3..] in its text), so that the
** call is xCreate? */
int mb_sql_creating(sqlite3 *db, int argc, const char *const *argv);

#endif /* MB_SQLSAFE_H */
