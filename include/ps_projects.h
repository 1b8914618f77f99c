/* ps_projects.h: finding the named projects, parks, platforms and
 * initiatives a paragraph mentions (京津产业新城, “通武廊”, 特变电工智慧产业园,
 * 大黄堡湿地, 《…行动方案》 …).
 *
 * Rules, not lists: quoted names, plan documents in 《》, and names that end
 * in the words such names end in (产业园, 园区, 基地, 新城, 小镇, 项目, 平台,
 * 中心, 示范区, 先导区, 生态港, 湿地, 铁路, 工程 …) with a sound left
 * boundary (punctuation, or a verb such as 建设 启动 推进 引进 打造).
 * Used by the indexer for every paragraph; the names become the paragraph's
 * project field and the corpus-wide project list. */
#ifndef PS_PROJECTS_H
#define PS_PROJECTS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  PS_PROJ_PROJECT = 0, PS_PROJ_PARK, PS_PROJ_PLATFORM, PS_PROJ_INITIATIVE,
  PS_PROJ_PLAN_DOCUMENT, PS_PROJ_OTHER
};

/* Receives one name: name[0..len) is UTF-8 as it stands in the text, with
 * surrounding quotes/《》 and whitespace removed (internal whitespace left by
 * PDF extraction removed too).  kind is a PS_PROJ_* guess.  Valid only
 * during the call.  A non-zero return stops the walk and is returned. */
typedef int (*ps_proj_fn)(void *ctx, const char *name, size_t len, int kind);

/* Calls fn once per distinct name mentioned in text[0..len) (a paragraph
 * as written), in order of first appearance.  Returns PS_OK, what fn
 * returned, or PS_ERR_NOMEM.  Thread-safe (no global state). */
int ps_proj_extract(const char *text, size_t len, ps_proj_fn fn, void *ctx);

/* Static name of a kind: "project", "park", "platform", "initiative",
 * "plan_document", "other". */
const char *ps_proj_kind_name(int kind);

#ifdef __cplusplus
}
#endif
#endif
