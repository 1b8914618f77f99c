/* test_meta.c: document metadata derived from the text (title, session
 * date, years, region, types, issuer, document number) and the sidecar
 * override. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ps_ingest.h"
#include "ps_meta.h"

static ps_doc *doc_of(const char *title, const char *const *paras) {
  ps_doc *d = ps_doc_new();
  ps_doc_set_title(d, title);
  for (size_t i = 0; paras[i]; i++) ps_doc_add(d, paras[i], strlen(paras[i]), "", 0);
  return d;
}

static void derive(ps_doc *d, const char *path, ps_meta *m) {
  ps_error err;
  ps_error_clear(&err);
  int rc = ps_meta_derive(d, path, m, &err);
  if (rc) fprintf(stderr, "derive: %s\n", err.msg);
  CHECK_INT(rc, PS_OK);
}

int main(void) {
  ps_meta m;
  {
    const char *p[] = {"天津市西青区人民政府关于印发政府工作报告的通知",
                       "各镇人民政府、街道办事处：", "2021年 12月 20日", "（此件主动公开）",
                       "政 府 工 作 报 告",
                       "——2021年 12月 12日在天津市西青区第十八届人民代表大会第一次会议上",
                       "各位代表：", NULL};
    ps_doc *d = doc_of("天津市西青区人民政府关于印发政府工作报告的通知", p);
    derive(d, NULL, &m);
    CHECK_STR(m.date, "2021-12-12"); /* the session line beats the notice date */
    CHECK_STR(m.years, "2021");
    CHECK_STR(m.region, "天津市西青区");
    CHECK_STR(m.types, "政府工作报告,通知");
    CHECK_STR(m.issuer, "天津市西青区人民政府");
    CHECK_STR(m.doc_number, "");
    ps_meta_free(&m);
    ps_doc_free(d);
  }
  {
    const char *p[] = {"关于天津市武清区 2024年国民经济和社会发展计划执行情况与 2025年国民经济和社会发展计划草案的报告",
                       "——在天津市武清区第六届人民代表大会第六次会议上审议通过", NULL};
    ps_doc *d = doc_of(p[0], p);
    derive(d, NULL, &m);
    CHECK_STR(m.years, "2024,2025");
    CHECK_STR(m.region, "天津市武清区");
    CHECK_STR(m.types, "计划执行情况报告");
    CHECK_STR(m.date, "");
    CHECK_STR(m.issuer, "");
    ps_meta_free(&m);
    ps_doc_free(d);
  }
  {
    /* No title: the plan the opening names; its period from 十四五. */
    const char *p[] = {"序  言",
                       "“十四五”时期（2021—2025年），是……根据《中共天津市武清区委关于制定武清区国民经济和社会发展第十四个五年规划和二〇三五年远景目标的建议》，编制《天津市武清区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要》，回顾“十三五”。",
                       NULL};
    ps_doc *d = doc_of("", p);
    derive(d, NULL, &m);
    CHECK_STR(m.title, "天津市武清区国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要");
    CHECK_STR(m.years, "2021,2022,2023,2024,2025");
    CHECK_STR(m.types, "五年规划纲要");
    CHECK_STR(m.region, "天津市武清区");
    ps_meta_free(&m);
    ps_doc_free(d);
  }
  {
    /* Front matter date, news; a district at the start of the title;
     * a document number in any bracket style. */
    const char *p[] = {"天津北方网讯：武清区拥有京津冀协同发展重要战略位置。", "津武政发 [2022] 12 号", NULL};
    ps_doc *d = doc_of("武清区实施提升工程 打造京津冀协同发展先行区", p);
    ps_doc_set_date(d, "2022-02-28");
    ps_doc_set_tags(d, "北方网新闻");
    derive(d, NULL, &m);
    CHECK_STR(m.date, "2022-02-28");
    CHECK_STR(m.years, "2022");
    CHECK_STR(m.region, "武清区");
    CHECK_STR(m.types, "新闻报道");
    CHECK_STR(m.tags, "北方网新闻");
    CHECK_STR(m.doc_number, "津武政发〔2022〕12号");
    ps_meta_free(&m);
    ps_doc_free(d);
  }
  {
    /* Generic 园区 / 城区 are not regions. */
    const char *p[] = {"推进园区建设和城区更新。", NULL};
    ps_doc *d = doc_of("园区建设情况", p);
    derive(d, NULL, &m);
    CHECK_STR(m.region, "");
    ps_meta_free(&m);
    ps_doc_free(d);
  }
  {
    /* The sidecar overrides, by full name or without the extension. */
    char dir[] = "/tmp/ps-test-meta-XXXXXX", path[256], sc[300];
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/report.txt", dir);
    snprintf(sc, sizeof sc, "%s/report.meta.json", dir);
    FILE *f = fopen(sc, "w");
    fputs("{\"title\": \"改过的标题\", \"years\": [2019, 2020], \"type\": \"通知\", "
          "\"region\": \"北京市通州区\"}", f);
    fclose(f);
    const char *p[] = {"正文。", NULL};
    ps_doc *d = doc_of("原标题", p);
    derive(d, path, &m);
    CHECK_STR(m.title, "改过的标题");
    CHECK_STR(m.years, "2019,2020");
    CHECK_STR(m.types, "通知");
    CHECK_STR(m.region, "北京市通州区");
    CHECK_STR(m.sidecar, sc);
    ps_meta_free(&m);
    /* A broken sidecar is an error naming it. */
    f = fopen(sc, "w");
    fputs("{\"title\": ", f);
    fclose(f);
    ps_error err;
    ps_error_clear(&err);
    CHECK_INT(ps_meta_derive(d, path, &m, &err), PS_ERR_FORMAT);
    CHECK(strstr(err.msg, "report.meta.json") != NULL);
    ps_doc_free(d);
    unlink(sc);
    rmdir(dir);
  }
  {
    /* Front matter lists, inline (Jekyll: space-separated) and as blocks. */
    static const char a[] = "---\ntitle: \"T\"\ncategories: beifangwang news\ntags: [北方网新闻, 武清]\n---\n<p>正文。</p>\n";
    static const char b[] = "---\ntitle: T\ntags:\n  - 甲\n  - \"乙\"\ncategories:\n- 丙\n---\n正文。\n";
    ps_doc *d = NULL;
    ps_error err;
    CHECK_INT(ps_ingest_buffer("a.html", a, sizeof a - 1, NULL, &d, &err), PS_OK);
    if (d) {
      CHECK_STR(d->categories, "beifangwang,news");
      CHECK_STR(d->tags, "北方网新闻,武清");
    }
    ps_doc_free(d);
    CHECK_INT(ps_ingest_buffer("b.md", b, sizeof b - 1, NULL, &d, &err), PS_OK);
    if (d) {
      CHECK_STR(d->tags, "甲,乙");
      CHECK_STR(d->categories, "丙");
      CHECK_STR(d->title, "T");
    }
    ps_doc_free(d);
  }
  return CHECK_DONE();
}
