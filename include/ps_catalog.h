/* ps_catalog.h: corpus-wide lists built from the index: the named projects
 * with their mention counts and the documents and years they appear in. */
#ifndef PS_CATALOG_H
#define PS_CATALOG_H

#include <stddef.h>
#include "ps_error.h"
#include "ps_index.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ps_project_doc {
  const ps_file_info *file;  /* borrowed from the index */
  size_t count;              /* paragraphs of this document naming the project */
} ps_project_doc;

typedef struct ps_project {
  char *name;                /* as written in the text */
  size_t count;              /* paragraphs (current ones) naming it */
  ps_project_doc *docs;      /* in path order */
  size_t n_docs;
} ps_project;

/* Lists the projects whose name contains query after normalisation (all
 * when query is NULL or ""), most mentioned first, then by name.  Free the
 * list with ps_catalog_free; file pointers live as long as the index. */
int ps_catalog_projects(ps_index *ix, const char *query, ps_project **out, size_t *n,
                        ps_error *err);
void ps_catalog_free(ps_project *p, size_t n);

#ifdef __cplusplus
}
#endif
#endif
